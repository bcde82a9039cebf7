// The interface a node is driven through: every input a runtime delivers. The real runtime
// (ZmqRuntime, zmq_runtime.hpp) and the simulator both call it; nothing here knows ZeroMQ.
//
// Ticks: a runtime counts ticks from a monotonic clock and calls on_tick() once for every tick
// that fell due, also for the ones that fell due while the process was stopped (SIGSTOP) or
// the simulated node was paused, before it delivers any input received after the stall
// (quorumlab/plugin/broadcast.hpp, "Time").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "quorumlab/node/env.hpp"

namespace quorumlab::node {

/// Inputs the runtime delivers; implemented by Node.
class RuntimeHandler {
 public:
  virtual ~RuntimeHandler() = default;
  virtual void on_client_message(ConnId conn, const std::uint8_t* data, std::size_t size,
                                 const std::string& peer_address) = 0;
  virtual void on_peer_message(const std::uint8_t* data, std::size_t size) = 0;
  /// The TCP connection to peer `id` dropped (its process died or closed the socket).
  virtual void on_peer_disconnected(NodeId id) = 0;
  /// The client closed connection `conn` (or it failed). Not called for connections the node
  /// closed itself. The native ZeroMQ transport cannot tell; the ZooKeeper front-end can.
  virtual void on_client_closed(ConnId conn) = 0;
  virtual void on_tick() = 0;
  virtual void on_storage_wakeup() = 0;
  /// Called after each batch of inputs: propose, drain Ready, flush replies.
  virtual void process() = 0;
};

/// The tick schedule of a runtime: the number of ticks due at monotonic time `now_ms` (every
/// tick whose time `next_tick_ms`, `next_tick_ms + tick_ms`, ... is <= now), advancing
/// `next_tick_ms` past them. A stall of S ms yields about S / tick_ms ticks at once.
inline std::int64_t ticks_due(std::int64_t now_ms, std::int64_t& next_tick_ms,
                              std::int64_t tick_ms) {
  if (now_ms < next_tick_ms) return 0;
  const std::int64_t due = (now_ms - next_tick_ms) / tick_ms + 1;
  next_tick_ms += due * tick_ms;
  return due;
}

}  // namespace quorumlab::node
