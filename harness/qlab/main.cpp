// qlab: the quorumlab command line.
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "quorumlab/log.hpp"
#include "quorumlab/params.hpp"
#include "quorumlab/plugin/loader.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "qlab: compare consensus protocols under a ZooKeeper-style coordination service.\n"
      "Run `qlab COMMAND --help` for the options of a command."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "qlab 0.1.0");
  std::string& log_level = quorumlab::cli::global_log_level();
  app.add_option("--log-level", log_level,
                 "log levels: a default and per-component overrides, e.g. warn,zab=debug "
                 "(default info; wins over a server's log_level setting)");

  quorumlab::cli::Action action;
  quorumlab::cli::add_plugins(app, action);
  quorumlab::cli::add_server(app, action);
  quorumlab::cli::add_shell(app, action);
  quorumlab::cli::add_bench(app, action);
  quorumlab::cli::add_cluster(app, action);
  quorumlab::cli::add_nemesis(app, action);
#ifdef QL_WITH_SIM
  quorumlab::cli::add_sim(app, action);
  quorumlab::cli::add_check(app, action);
  quorumlab::cli::add_soak(app, action);
#endif
#ifdef QL_WITH_CALIBRATE
  quorumlab::cli::add_calibrate(app, action);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (!log_level.empty()) quorumlab::log::configure(log_level);
    return action ? action() : 0;
  } catch (const quorumlab::ConfigError& e) {
    std::cerr << "qlab: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const quorumlab::PluginError& e) {
    std::cerr << "qlab: plugin error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "qlab: " << e.what() << "\n";
    return 1;
  }
}
