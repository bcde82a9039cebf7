// `qlab plugins`: what is installed, with kinds, versions and parameters.
#include <iostream>

#include <nlohmann/json.hpp>

#include "../cluster/plugins_json.hpp"
#include "commands.hpp"
#include "quorumlab/plugin/loader.hpp"

namespace quorumlab::cli {

namespace {

using cluster::param_value_json;

int run_plugins(const std::string& dir, bool json) {
  PluginLoader loader(dir.empty() ? PluginLoader::default_dir() : std::filesystem::path(dir));
  auto all = loader.list();
  if (json) {
    std::cout << cluster::plugins_json(loader).dump(2) << "\n";
    return 0;
  }
  std::cout << "plugins in " << loader.dir().string() << "\n";
  PluginKind last{};
  bool first = true;
  for (const auto& p : all) {
    if (first || p.kind != last) std::cout << "\n" << to_string(p.kind) << ":\n";
    first = false;
    last = p.kind;
    std::cout << "  " << p.name << " " << p.version << "  " << p.summary << "\n";
    if (p.kind == PluginKind::broadcast) {
      std::cout << "      barriers: " << barrier_kinds_text(p.barrier_kinds) << "\n";
      for (const auto& [kind, why] : p.unavailable_by_default)
        std::cout << "      " << kind << " barrier: " << why << "\n";
    } else if (p.kind == PluginKind::read_policy) {
      std::cout << "      needs: "
                << (p.barrier_kinds ? barrier_kinds_text(p.barrier_kinds) + " barrier"
                                    : std::string("no barrier"))
                << "; guarantee: " << to_string(p.read_guarantee) << "\n";
    }
    for (const auto& s : p.params) {
      std::cout << "      " << s.name << " (" << to_string(s.type) << ", default "
                << format_value(s.default_value) << "): " << s.help << "\n";
    }
  }
  if (all.empty()) std::cout << "  (no plugins found)\n";
  for (const auto& problem : loader.problems())
    std::cout << "skipped: " << problem << "\n";
  return 0;
}

}  // namespace

void add_plugins(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("plugins", "List installed plugins with their parameters");
  auto dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("--dir", *dir, "plugin directory (default: $QL_PLUGIN_DIR or bin/plugins)");
  cmd->add_flag("--json", *json, "print as JSON");
  cmd->callback(
      [&action, dir, json] { action = [dir, json] { return run_plugins(*dir, *json); }; });
}

}  // namespace quorumlab::cli
