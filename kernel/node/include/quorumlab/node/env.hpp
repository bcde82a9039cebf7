// What the node runtime gives the node: transport and clocks. The real runtime implements it
// with ZeroMQ and the steady/system clocks; the simulator with simulated ones. The node never
// touches sockets or clocks otherwise, so the same node code runs in both.
#pragma once

#include <cstdint>
#include <string>

#include "quorumlab/types.hpp"

namespace quorumlab::node {

/// A client connection, unique for the life of the node process.
using ConnId = std::uint64_t;

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
};

}  // namespace quorumlab::node
