// ServerInfo for the four-letter words, from a node's public accessors.
#include "quorumlab/config.hpp"
#include "quorumlab/node/node.hpp"
#include "quorumlab/zkwire/frontend.hpp"

namespace quorumlab::zkwire {

ServerInfo server_info_of(const node::Node& node, const NodeConfig& config, int zk_port) {
  ServerInfo s;
  const BroadcastStatus b = node.status();
  const Membership m = config.membership();
  s.server_id = config.id();
  s.voters = m.voters.size();
  // ZooKeeper's names (zk_server_state): its learners are observers.
  s.role = config.peers.empty()      ? "standalone"
           : b.role == Role::learner ? "observer"
                                     : to_string(b.role);
  s.leader = b.leader;
  s.epoch = b.epoch;
  s.serving = b.leader != 0;
  s.read_only = node.read_only();
  s.applied_zxid = static_cast<std::int64_t>(node.applied_zxid());
  const auto& tree = node.tree();
  s.znode_count = tree.node_count();
  s.ephemerals_count = tree.ephemeral_count();
  s.approximate_data_size = tree.approximate_data_size();
  s.session_count = tree.sessions().size();
  s.node_connections = node.connection_count();
  const sm::WatchSummary w = node.watch_summary();
  s.watch_count = w.watches;
  s.watched_paths = w.paths;
  s.requests = node.stats().requests;
  s.txns_applied = node.stats().txns_applied;
  s.fsyncs = node.storage_stats().fsyncs;
  s.digest = node.digest();
  s.broadcast = config.broadcast.name;
  s.storage = config.storage.name;
  s.read_policy = config.read_policy.name;
  s.counters = node::read_counters(node.stats(), b, config.settings.get_int("tick_ms"));

  // `conf`, with ZooKeeper's key names where one exists.
  const auto& st = config.settings;
  auto add = [&s](std::string k, std::string v) {
    s.config.emplace_back(std::move(k), std::move(v));
  };
  add("clientPort", std::to_string(zk_port));
  add("secureClientPort", "-1");
  add("dataDir", config.data_dir().string());
  add("dataLogDir", config.data_dir().string());
  add("tickTime", std::to_string(st.get_int("tick_ms")));
  add("maxClientCnxns", "0");
  add("minSessionTimeout", std::to_string(st.get_int("min_session_timeout_ms")));
  add("maxSessionTimeout", std::to_string(st.get_int("max_session_timeout_ms")));
  add("serverId", std::to_string(config.id()));
  add("jute.maxbuffer", std::to_string(st.get_int("max_data_bytes")));
  for (const auto& p : config.peers) {
    add("server." + std::to_string(p.id), p.zk_server_line());
  }
  add("nativeClientPort", std::to_string(st.get_int("client_port")));
  add("broadcast", config.broadcast.name);
  add("storage", config.storage.name);
  add("readPolicy", config.read_policy.name);
  return s;
}

std::unique_ptr<ZkFrontend> make_node_frontend(const NodeConfig& config, const node::Node& node) {
  const std::int64_t port = config.settings.get_int("zk_port");
  if (port < 0) return nullptr;
  FrontendOptions o;
  o.host = config.settings.get_string("host");
  o.port = static_cast<int>(port);
  o.max_frame_bytes = static_cast<std::size_t>(config.settings.get_int("max_data_bytes"));
  auto holder = std::make_shared<int>(0);  // the bound port, known after construction
  auto frontend = std::make_unique<ZkFrontend>(
      o, [&node, config, holder] { return server_info_of(node, config, *holder); });
  *holder = frontend->port();
  return frontend;
}

}  // namespace quorumlab::zkwire
