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

/// Every fault rule of one server (issue 19: faults on real clusters). A rule set is replaced
/// as a whole; a default-constructed one is a healed server.
struct FaultRules {
  std::vector<NetRule> links;       ///< at most one per peer (fault_rules(): ascending)
  std::uint32_t disk_delay_ms = 0;  ///< slow disk: each fsync of the storage plugin takes this
                                    ///< much longer (Storage::set_fsync_delay)
  /// Clock skew: this server's tick clock runs at rate 1 + clock_skew_ppm / 1e6 against real
  /// time (bounded by kMaxClockSkewPpm). Beyond the configured clock_drift_ppm it breaks the
  /// assumption of lease and bounded-staleness reads (PluginContext::clock_drift_ppm). Only
  /// the ticks are skewed: now_ms() (session timeouts) and wall_ms() keep real time.
  std::int32_t clock_skew_ppm = 0;
  /// The client links are cut, as by a network partition between this server and its clients:
  /// client messages are neither taken nor answered, so clients time out and move to another
  /// server. Status probes and admin requests (these rules) still get through.
  bool clients_cut = false;

  bool empty() const {
    return links.empty() && disk_delay_ms == 0 && clock_skew_ppm == 0 && !clients_cut;
  }
  bool operator==(const FaultRules& o) const {
    return links == o.links && disk_delay_ms == o.disk_delay_ms &&
           clock_skew_ppm == o.clock_skew_ppm && clients_cut == o.clients_cut;
  }
};

/// Bounds of the fault rules a server takes.
constexpr std::uint32_t kMaxFaultDelayMs = 600000;  ///< link delay, jitter, disk delay
constexpr std::int32_t kMaxClockSkewPpm = 500000;   ///< |clock_skew_ppm|: rates 0.5 .. 1.5

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
  /// Replaces every fault rule of this server (an operator's admin request) after checking
  /// them all. Returns "" when taken, else why not (nothing changed then): an environment
  /// without them (the simulator has its own nemesis) keeps this default. The environment
  /// applies `links` and `clock_skew_ppm`; the node applies `disk_delay_ms` (to its storage)
  /// and `clients_cut`, and reads them back here.
  virtual std::string set_fault_rules(const FaultRules& rules) {
    (void)rules;
    return "this runtime has no fault rules";
  }
  /// The rules in force (empty(): none).
  virtual FaultRules fault_rules() const { return {}; }
};

}  // namespace quorumlab::node
