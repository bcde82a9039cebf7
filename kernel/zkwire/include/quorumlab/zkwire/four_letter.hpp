// ZooKeeper's four-letter words (reference/zookeeper.md §1.15): a new connection whose first
// four bytes spell a command gets a plain-text answer and is closed. Pure text builders over
// snapshots of the node and of the front-end's connections, so every reply is unit-tested.
//
// Enabled (as with 4lw.commands.whitelist=*): ruok, srvr, stat, mntr, cons, wchs, conf, envi,
// isro. The other commands ZooKeeper knows (crst, dirs, dump, srst, wchc, wchp, hash, gtmk,
// stmk) are answered with ZooKeeper's "not in the whitelist" text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace quorumlab::zkwire {

/// What the node reports about itself for the four-letter words.
struct ServerInfo {
  std::uint32_t server_id = 0;
  /// "leader", "follower", "observer", "looking", "candidate"; "standalone" for an ensemble
  /// of one (ZooKeeper's Mode line).
  std::string role;
  std::uint32_t leader = 0;
  std::uint64_t epoch = 0;
  std::int64_t applied_zxid = 0;
  std::uint64_t znode_count = 0;
  std::uint64_t ephemerals_count = 0;
  std::uint64_t approximate_data_size = 0;
  std::uint64_t session_count = 0;
  std::uint64_t node_connections = 0;  ///< connections the node holds (native and ZooKeeper)
  std::uint64_t requests = 0;
  std::uint64_t txns_applied = 0;
  std::uint64_t fsyncs = 0;
  std::uint64_t digest = 0;
  std::size_t voters = 1;  ///< ensemble members with a vote
  std::string broadcast, storage, read_policy;
  /// quorumlab's read-path counters, shown by mntr as ql_NAME (node::read_counters).
  std::vector<std::pair<std::string, std::uint64_t>> counters;
  /// Watches registered on this node, when the node exposes them.
  std::optional<std::uint64_t> watch_count;
  std::optional<std::uint64_t> watched_paths;
  /// `conf` lines, key=value, in order.
  std::vector<std::pair<std::string, std::string>> config;
  /// True when the node serves requests (a leader is known); false -> ZooKeeper's "not
  /// currently serving requests" for srvr, stat, mntr, cons, wchs.
  bool serving = true;
  /// ZooKeeper's read-only mode: `isro` answers "ro".
  bool read_only = false;
};

/// One ZooKeeper connection as `cons` and `stat` list it.
struct ConnectionInfo {
  std::string address;  ///< "ip:port"
  std::uint64_t queued = 0;
  std::uint64_t received = 0;
  std::uint64_t sent = 0;
  std::int64_t session_id = 0;
  std::string last_op;
  std::int32_t timeout_ms = 0;
  std::int32_t last_cxid = 0;
  std::int64_t last_zxid = 0;
  std::int64_t last_latency_us = 0;
  std::int64_t min_latency_us = 0;
  std::int64_t avg_latency_us = 0;
  std::int64_t max_latency_us = 0;
};

/// The front-end's side: its connections and totals.
struct FrontendInfo {
  std::vector<ConnectionInfo> connections;
  std::uint64_t packets_received = 0;
  std::uint64_t packets_sent = 0;
  std::uint64_t outstanding = 0;
  std::int64_t min_latency_us = 0;
  std::int64_t avg_latency_us = 0;
  std::int64_t max_latency_us = 0;
  int port = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;
};

/// True if the four bytes at `p` are a command ZooKeeper knows (enabled or not).
bool is_four_letter_word(const std::uint8_t* p);
/// True for telnet's interrupt/close sequence 0xfff4fffd, which ZooKeeper also accepts.
bool is_telnet_close(const std::uint8_t* p);
/// The text answer to `command` (one of is_four_letter_word's).
std::string four_letter_reply(const std::string& command, const ServerInfo& server,
                              const FrontendInfo& frontend);

/// The version string the server reports (zk_version, srvr).
extern const char* const kServerVersion;

}  // namespace quorumlab::zkwire
