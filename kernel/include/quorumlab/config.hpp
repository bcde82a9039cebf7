// Node configuration: a TOML file plus command-line overrides, checked against one schema.
//
// Layout of the file (every top-level key is in `node_schema()`):
//
//   id = 1
//   client_port = 7001
//   peers = ["1@127.0.0.1:7101", "2@127.0.0.1:7102", "3@127.0.0.1:7103:observer"]
//   [broadcast]            # section per plugin axis: `plugin` names it, other keys are its
//   plugin = "zab"         # parameters, checked against the plugin's own schema at load time
//   ping_interval_ticks = 1
//   [storage]
//   plugin = "wal"
//   fsync = true
//   [read_policy]
//   plugin = "local"
//
// Overrides use the same keys: `client_port=7002`, `storage.fsync=false`, `broadcast=zab`
// (short for broadcast.plugin). Unknown keys and bad values throw ConfigError naming the key
// and what is allowed.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "quorumlab/params.hpp"
#include "quorumlab/plugin/descriptor.hpp"
#include "quorumlab/types.hpp"

namespace quorumlab {

/// One member of the ensemble: `id@host:port[:observer][;[zk_host:]zk_port]`. The part after
/// `;` is the member's ZooKeeper client address (as in ZooKeeper's `server.N=...;host:port`);
/// zk_host defaults to host.
struct PeerSpec {
  NodeId id = 0;
  std::string host;
  std::uint16_t port = 0;
  bool observer = false;
  std::string zk_host;        ///< empty when zk_port is 0
  std::uint16_t zk_port = 0;  ///< 0: the member's ZooKeeper client port is not known
  std::string to_string() const;
  /// The right-hand side of ZooKeeper's `server.<id>=` line (QuorumServer.toString):
  /// "<host>:<port>:<port>:participant|observer", then ";<zk_host>:<zk_port>" when the client
  /// address is known (our one peer port serves both quorum and election roles).
  std::string zk_server_line() const;
  static PeerSpec parse(const std::string& text);  ///< throws ConfigError
};

/// The chosen plugin of one axis and its not-yet-resolved parameters. Values come typed from
/// TOML or as text from the command line; `resolve` checks both against the plugin schema.
struct PluginChoice {
  std::string name;
  std::map<std::string, ParamValue> values;
  std::map<std::string, std::string> texts;
  /// Checks against `schema` (text values are parsed by the schema's type).
  Params resolve(const std::string& what, const std::vector<ParamSpec>& schema) const;
};

struct NodeConfig {
  Params settings;  ///< every key of node_schema(), defaults filled in
  std::vector<PeerSpec> peers;
  PluginChoice broadcast;
  PluginChoice storage;
  PluginChoice read_policy;

  NodeId id() const { return static_cast<NodeId>(settings.get_int("id")); }
  std::filesystem::path data_dir() const { return settings.get_string("data_dir"); }
  /// Voters and observers from `peers`; a node with no peers is a one-member ensemble.
  Membership membership() const;
  /// The ensemble as ZooKeeper shows it in /zookeeper/config (QuorumMaj.toString): one
  /// "server.<id>=" + PeerSpec::zk_server_line() line per peer, in id order (the client part
  /// ";host:port" only where the peer list names the member's ZooKeeper port, so every member
  /// configured with the same list answers alike), then "version=0" (a static configuration).
  /// Empty for a standalone node, as in ZooKeeper.
  std::string ensemble_config() const;
  /// The configuration as TOML, with every default spelled out (printed on failures).
  std::string to_toml() const;
};

/// Top-level keys with types, defaults and help text.
const std::vector<ParamSpec>& node_schema();

/// Reads `file` (if given) then applies `overrides` ("key=value") in order.
/// Throws ConfigError naming the file, key and problem.
NodeConfig load_config(const std::optional<std::filesystem::path>& file,
                       const std::vector<std::string>& overrides);

/// Applies one "key=value" override to `config`.
void apply_override(NodeConfig& config, const std::string& assignment);

}  // namespace quorumlab
