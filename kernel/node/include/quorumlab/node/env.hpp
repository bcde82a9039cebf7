// What the node runtime gives the node: transport and clocks. The real runtime implements it
// with ZeroMQ and the steady/system clocks; the simulator with simulated ones. The node never
// touches sockets or clocks otherwise, so the same node code runs in both.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quorumlab/types.hpp"

namespace quorumlab::node {

/// A client connection, unique for the life of the node process.
using ConnId = std::uint64_t;

/// A fault on the link from this server to one peer: what it sends to `peer` is dropped with
/// probability drop_pct/100, otherwise held delay_ms plus up to jitter_ms, in order (the
/// transport stays FIFO, as TCP is). A partition is drop_pct = 100 on both sides.
struct NetRule {
  NodeId peer = 0;
  std::uint32_t drop_pct = 0;
  std::uint32_t delay_ms = 0;
  std::uint32_t jitter_ms = 0;
  bool operator==(const NetRule& o) const {
    return peer == o.peer && drop_pct == o.drop_pct && delay_ms == o.delay_ms &&
           jitter_ms == o.jitter_ms;
  }
};

class NodeEnv {
 public:
  virtual ~NodeEnv() = default;
  /// Sends to a peer replica. Best effort: may be lost if the peer is down.
  virtual void send_peer(NodeId to, Bytes bytes) = 0;
  /// Sends one message to a client connection. Best effort.
  virtual void send_client(ConnId conn, Bytes bytes) = 0;
  /// The node has dropped the connection (closed session, protocol error, session moved).
  virtual void close_client(ConnId conn) = 0;
  /// Monotonic milliseconds, for timeouts.
  virtual std::int64_t now_ms() = 0;
  /// Wall-clock milliseconds since the epoch, stamped into txns (ctime/mtime).
  virtual std::int64_t wall_ms() = 0;
  /// Replaces the fault rules on the peer links (an operator's admin request). Returns "" when
  /// taken, else why not: an environment without them (the simulator has its own nemesis)
  /// keeps this default.
  virtual std::string set_net_rules(const std::vector<NetRule>& rules) {
    (void)rules;
    return "this runtime has no network fault rules";
  }
  /// The rules in force (empty: none).
  virtual std::vector<NetRule> net_rules() const { return {}; }
};

}  // namespace quorumlab::node
