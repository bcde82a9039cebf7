#include "plugins_json.hpp"

namespace quorumlab::cluster {

nlohmann::json param_value_json(const ParamValue& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

nlohmann::json plugins_json(const PluginLoader& loader) {
  auto arr = nlohmann::json::array();
  for (const auto& p : loader.list()) {
    auto params = nlohmann::json::array();
    for (const auto& s : p.params) {
      nlohmann::json j = {{"name", s.name},
                          {"type", to_string(s.type)},
                          {"default", param_value_json(s.default_value)},
                          {"help", s.help}};
      if (s.min) j["min"] = *s.min;
      if (s.max) j["max"] = *s.max;
      if (!s.choices.empty()) j["choices"] = s.choices;
      params.push_back(j);
    }
    nlohmann::json j = {{"kind", to_string(p.kind)}, {"name", p.name},
                        {"version", p.version},      {"summary", p.summary},
                        {"file", p.file.string()},   {"params", params}};
    if (p.kind == PluginKind::broadcast) {
      j["barrier_kinds"] = barrier_kind_names(p.barrier_kinds);
      j["barrier_kinds_unavailable_by_default"] = p.unavailable_by_default;
    }
    if (p.kind == PluginKind::read_policy) {
      j["needs_barrier_kinds"] = barrier_kind_names(p.barrier_kinds);
      j["guarantee"] = to_string(p.read_guarantee);
    }
    arr.push_back(std::move(j));
  }
  return arr;
}

}  // namespace quorumlab::cluster
