// `qlab server`: run one node of the service in this process.
#include <csignal>
#include <iostream>

#include "commands.hpp"
#include "quorumlab/config.hpp"
#include "quorumlab/log.hpp"
#include "quorumlab/node/node.hpp"
#include "quorumlab/node/zmq_runtime.hpp"
#include "quorumlab/plugin/loader.hpp"
#include "quorumlab/zkwire/frontend.hpp"

namespace quorumlab::cli {

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) {
  g_stop.store(true);
}

struct ServerOptions {
  std::string config_file;
  std::vector<std::string> overrides;
  std::vector<std::string> sets;
  bool print_config = false;
};

int run_server(const ServerOptions& o) {
  std::vector<std::string> all = o.overrides;
  all.insert(all.end(), o.sets.begin(), o.sets.end());
  NodeConfig config = load_config(
      o.config_file.empty() ? std::nullopt : std::optional<std::filesystem::path>(o.config_file),
      all);
  log::configure(global_log_level().empty() ? config.settings.get_string("log_level")
                                            : global_log_level());
  if (o.print_config) {
    std::cout << config.to_toml();
    return 0;
  }
  PluginLoader loader(PluginLoader::default_dir());
  require_supported_pair(loader, config.broadcast, config.read_policy.name);
  node::ZmqRuntime runtime(config);
  NullTracer null_tracer;
  std::unique_ptr<FileTracer> file_tracer;
  if (!config.settings.get_string("trace_file").empty()) {
    file_tracer = std::make_unique<FileTracer>(config.settings.get_string("trace_file"));
  }
  Tracer& tracer = file_tracer ? static_cast<Tracer&>(*file_tracer) : null_tracer;
  node::Node node(config, loader, runtime, tracer);
  node.set_storage_waker(runtime.waker());
  auto zk = zkwire::make_node_frontend(config, node);  // null unless --zk-port
  if (zk) runtime.set_socket_frontend(zk.get());
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);  // the launcher may close our stdout after the ready line
  if (zk) {
    std::cout << "qlab server: node " << config.id() << " serving ZooKeeper clients on "
              << config.settings.get_string("host") << ":" << zk->port() << std::endl;
  }
  std::cout << "qlab server: node " << config.id() << " serving clients on "
            << config.settings.get_string("host") << ":" << runtime.client_port() << std::endl;
  runtime.run(node, g_stop);
  log::get("node")->info("node {} stopping", config.id());
  return 0;
}

}  // namespace

void add_server(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("server", "Run one node of the znode service");
  cmd->footer(
      "Every configuration key has a flag (--client-port for client_port, ...). Plugin\n"
      "parameters: --set storage.fsync=false, --set broadcast.ping_interval_ticks=2.\n"
      "Example: qlab server --id 1 --client-port 7001 --data-dir /tmp/n1 --broadcast solo "
      "--storage wal");
  auto o = std::make_shared<ServerOptions>();
  cmd->add_option("--config", o->config_file, "TOML configuration file")->check(CLI::ExistingFile);
  for (const auto& spec : node_schema()) {
    std::string flag = "--" + spec.name;
    std::replace(flag.begin(), flag.end(), '_', '-');
    const std::string key = spec.name;
    cmd->add_option_function<std::string>(
        flag, [o, key](const std::string& v) { o->overrides.push_back(key + "=" + v); },
        spec.help + " (default " + format_value(spec.default_value) + ")");
  }
  cmd->add_option_function<std::string>(
      "--peers", [o](const std::string& v) { o->overrides.push_back("peers=" + v); },
      "ensemble members: id@host:port[:observer][;[zk_host:]zk_port],... (peer ports, then "
      "optionally the ZooKeeper client address shown in /zookeeper/config)");
  for (const char* axis : {"broadcast", "storage", "read-policy"}) {
    std::string key = axis;
    std::replace(key.begin(), key.end(), '-', '_');
    cmd->add_option_function<std::string>(
        std::string("--") + axis,
        [o, key](const std::string& v) { o->overrides.push_back(key + "=" + v); },
        std::string(axis) + " plugin name (see qlab plugins)");
  }
  cmd->add_option("--set", o->sets, "KEY=VALUE override, e.g. storage.fsync=false (repeatable)");
  cmd->add_flag("--print-config", o->print_config, "print the resolved configuration and exit");
  cmd->callback([&action, o] { action = [o] { return run_server(*o); }; });
}

}  // namespace quorumlab::cli
