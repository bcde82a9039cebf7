// The real runtime under a node: ZeroMQ sockets, the steady and system clocks, ticks, and the
// storage wake-up. One thread runs `run`; every socket belongs to it.
//
// Sockets: a ROUTER for clients (native protocol) on client_port, a ROUTER for peers on
// peer_port, and one DEALER per other peer, each with a socket monitor whose disconnect
// events become RuntimeHandler::on_peer_disconnected. Linger is 0 everywhere, so stopping never
// hangs.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <zmq.hpp>

#include "quorumlab/config.hpp"
#include "quorumlab/node/env.hpp"
#include "quorumlab/node/runtime_handler.hpp"

namespace quorumlab::node {

/// Client connections served on raw file descriptors beside ZeroMQ (the ZooKeeper wire
/// front-end, kernel/zkwire). The runtime polls their fds in its loop and routes
/// send_client/close_client for the connection ids they own. The runtime's own ids count up
/// from 1; a front-end's ids have the top bit set.
class SocketFrontend {
 public:
  virtual ~SocketFrontend() = default;
  /// True for connection ids of this front-end.
  virtual bool owns(ConnId conn) const = 0;
  virtual void send_client(ConnId conn, Bytes bytes) = 0;
  virtual void close_client(ConnId conn) = 0;
  /// Appends the fds to poll (socket nullptr). Returns true when it has work that must not
  /// wait for the poll (the loop then does not block).
  virtual bool add_poll_items(std::vector<zmq::pollitem_t>* items) = 0;
  /// After each poll, with the items it appended (revents set): accepts, reads, and hands
  /// complete messages to `handler`.
  virtual void on_poll(const zmq::pollitem_t* items, std::size_t count,
                       RuntimeHandler& handler) = 0;
  /// After handler.process(): writes what is queued and closes finished connections.
  virtual void flush() = 0;
};

class ZmqRuntime final : public NodeEnv {
 public:
  /// Binds the sockets. Throws std::runtime_error naming the address if a bind fails.
  explicit ZmqRuntime(const NodeConfig& config);
  ~ZmqRuntime() override;

  int client_port() const { return client_port_; }
  int peer_port() const { return peer_port_; }

  /// A callback safe to call from any thread: wakes `run` so it calls on_storage_wakeup.
  std::function<void()> waker();

  /// Runs until `stop` becomes true (checked at least every tick).
  void run(RuntimeHandler& handler, const std::atomic<bool>& stop);

  /// Adds a front-end whose fds `run` polls (not owned; must outlive `run`). Call before run.
  void set_socket_frontend(SocketFrontend* frontend) { frontend_ = frontend; }

  // NodeEnv
  void send_peer(NodeId to, Bytes bytes) override;
  void send_client(ConnId conn, Bytes bytes) override;
  void close_client(ConnId conn) override;
  std::int64_t now_ms() override;
  std::int64_t wall_ms() override;
  /// Applies the link rules (in send_peer) and the clock skew (the tick schedule); keeps the
  /// disk delay and the client cut for the node, which applies them.
  std::string set_fault_rules(const FaultRules& rules) override;
  FaultRules fault_rules() const override;

 private:
  void drain_clients(RuntimeHandler& handler);
  void drain_peers(RuntimeHandler& handler);
  void drain_monitor(std::size_t i, RuntimeHandler& handler);
  /// Sends the held messages whose time has come; returns the ms until the next one (-1: none).
  std::int64_t release_held(std::int64_t now);
  /// The tick clock in microseconds at steady time `real_us`: real time scaled by the clock
  /// skew since the last change of the skew (continuous across changes).
  std::int64_t tick_clock_us(std::int64_t real_us) const;
  void send_now(NodeId to, const Bytes& bytes);

  std::int64_t tick_ms_;
  std::size_t max_message_bytes_;
  zmq::context_t context_;
  zmq::socket_t clients_;
  zmq::socket_t peers_in_;
  std::unordered_map<NodeId, zmq::socket_t> peers_out_;
  /// One PAIR per outgoing peer socket, receiving its ZMQ_EVENT_DISCONNECTED events.
  struct PeerMonitor {
    NodeId id = 0;
    zmq::socket_t events;
  };
  std::vector<PeerMonitor> monitors_;
  int client_port_ = 0;
  int peer_port_ = 0;
  int wake_fd_ = -1;
  std::int64_t turn_now_ms_ = 0;  ///< clocks as of this loop turn (0: not in `run`)
  std::int64_t turn_wall_ms_ = 0;
  ConnId next_conn_ = 1;
  std::unordered_map<std::string, ConnId> conn_by_route_;
  std::unordered_map<ConnId, std::string> route_by_conn_;
  SocketFrontend* frontend_ = nullptr;
  /// Network fault rules by peer, and the messages they hold back (in send order per peer:
  /// a message never leaves before one sent to the same peer earlier).
  std::unordered_map<NodeId, NetRule> rules_;
  struct Held {
    std::int64_t at_ms;
    NodeId to;
    Bytes bytes;
  };
  std::deque<Held> held_;  ///< in release order (release times never decrease per peer)
  std::unordered_map<NodeId, std::int64_t> last_release_ms_;
  std::uint64_t rule_rng_ = 0x9e3779b97f4a7c15ULL;  ///< xorshift state for drops and jitter
  FaultRules other_rules_;  ///< the rules besides the links (those are in rules_)
  /// The tick clock: tick_clock_us = anchor_tick_us_ + (steady_us - anchor_real_us_) *
  /// (1e6 + clock skew ppm) / 1e6, re-anchored at each change of the skew.
  std::int64_t anchor_real_us_ = 0;
  std::int64_t anchor_tick_us_ = 0;
};

}  // namespace quorumlab::node
