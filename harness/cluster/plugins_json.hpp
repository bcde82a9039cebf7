// What `qlab plugins --json` prints (and quorumlab.plugins() returns): one object per installed
// plugin with its kind, name, version, summary, file and parameter schema; broadcast plugins add
// the barrier kinds they implement and those unavailable with their default parameters (and
// why); read policies the barrier kinds they need and their declared guarantee.
#pragma once

#include <nlohmann/json.hpp>

#include "quorumlab/plugin/loader.hpp"

namespace quorumlab::cluster {

nlohmann::json param_value_json(const ParamValue& v);
nlohmann::json plugins_json(const PluginLoader& loader);

}  // namespace quorumlab::cluster
