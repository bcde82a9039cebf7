// The `quorumlab._native` extension: pybind11 bindings over the C++ client, the cluster
// launcher and benchmark, the simulator and the plugin loader. The Python package (python/
// quorumlab/) wraps these into the public API; nothing here is meant to be called directly.
#pragma once

#include <pybind11/pybind11.h>

#include <filesystem>

namespace quorumlab::py {

namespace pyb = pybind11;

void bind_client(pyb::module_& m);
void bind_cluster(pyb::module_& m);
void bind_sim(pyb::module_& m);

/// The build's bin directory (qlab, plugins/), unless QL_BIN_DIR says otherwise.
std::filesystem::path bin_dir();
/// $QL_PLUGIN_DIR, else bin_dir()/plugins.
std::filesystem::path plugin_dir();

}  // namespace quorumlab::py
