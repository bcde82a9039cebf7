// Subcommands of `qlab`. Each `add_*` registers its options on `app` and the function to run.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace quorumlab::cli {

/// Set by a subcommand's callback; main() runs it after parsing and returns its exit code.
using Action = std::function<int()>;

/// The global --log-level value; empty when not given.
inline std::string& global_log_level() {
  static std::string level;
  return level;
}

void add_plugins(CLI::App& app, Action& action);    // cmd_plugins.cpp
void add_server(CLI::App& app, Action& action);     // cmd_server.cpp
void add_shell(CLI::App& app, Action& action);      // cmd_shell.cpp
void add_bench(CLI::App& app, Action& action);      // cmd_bench.cpp
void add_cluster(CLI::App& app, Action& action);    // cmd_cluster.cpp
void add_nemesis(CLI::App& app, Action& action);    // cmd_cluster.cpp
void add_sim(CLI::App& app, Action& action);        // cmd_sim.cpp
void add_calibrate(CLI::App& app, Action& action);  // cmd_calibrate.cpp
void add_check(CLI::App& app, Action& action);      // cmd_check.cpp
void add_soak(CLI::App& app, Action& action);       // cmd_soak.cpp

}  // namespace quorumlab::cli
