#include <cstdlib>

#include "native.hpp"

#ifndef QL_BUILD_BIN_DIR
#error "QL_BUILD_BIN_DIR must name the build's bin directory"
#endif

namespace quorumlab::py {

std::filesystem::path bin_dir() {
  if (const char* env = std::getenv("QL_BIN_DIR"); env && *env) return env;
  return QL_BUILD_BIN_DIR;
}

std::filesystem::path plugin_dir() {
  if (const char* env = std::getenv("QL_PLUGIN_DIR"); env && *env) return env;
  return bin_dir() / "plugins";
}

}  // namespace quorumlab::py

PYBIND11_MODULE(_native, m) {
  m.doc() = "quorumlab's C++ core (use the quorumlab package, not this module)";
  m.def("bin_dir", [] { return quorumlab::py::bin_dir().string(); });
  m.def("plugin_dir", [] { return quorumlab::py::plugin_dir().string(); });
  quorumlab::py::bind_client(m);
  quorumlab::py::bind_cluster(m);
  quorumlab::py::bind_sim(m);
}
