// ZkFrontend: ZooKeeper clients on a TCP port of a node (reference/zookeeper.md §2), served
// in the node's reactor thread beside the native ZeroMQ protocol.
//
// It owns a non-blocking listener and its connections. Each connection starts with the
// four-letter-word check (§1.15); otherwise its bytes are cut into jute frames (at most
// max_frame_bytes = jute.maxbuffer each; a bad length closes the connection), translated by a
// Translator into native messages, and handed to the node as if they came from a native
// client with connection ids that have the top bit set. What the node sends to those ids comes
// back through send_client/close_client (the runtime routes them here), is translated back and
// queued for the socket.
//
// Bounds: connections (max_connections: later ones are closed at accept), frames handled per
// connection per loop turn, bytes read per turn, and the output queued per connection: above
// pause_read_output_bytes no more requests are read from it; above max_output_bytes (a client
// that does not read, e.g. under a flood of notifications) it is disconnected with a logged
// reason.
//
// The node is not told when a ZooKeeper client disconnects (the runtime interface has no such
// input; a native ZeroMQ client cannot be seen disconnecting either): its session lives on
// until it expires or the client reconnects, as in ZooKeeper.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "quorumlab/node/zmq_runtime.hpp"
#include "quorumlab/zkwire/four_letter.hpp"
#include "quorumlab/zkwire/jute.hpp"
#include "quorumlab/zkwire/translator.hpp"

namespace quorumlab::node {
class Node;
}
namespace quorumlab {
struct NodeConfig;
}

namespace quorumlab::zkwire {

struct FrontendOptions {
  std::string host = "127.0.0.1";
  int port = 0;  ///< 0 picks a free port
  /// jute.maxbuffer: the largest frame a client may send (the node's max_data_bytes).
  std::size_t max_frame_bytes = 1048576;
  std::size_t max_connections = 4096;
  /// Output queued for one client above which its connection is closed.
  std::size_t max_output_bytes = 64u << 20;
  /// Output queued for one client above which its requests are not read (back-pressure).
  std::size_t pause_read_output_bytes = 4u << 20;
};

/// A connection id of the front-end: the top bit is set, so it cannot collide with the
/// runtime's ZeroMQ connection ids (which count up from 1).
constexpr node::ConnId kConnIdBit = node::ConnId{1} << 63;

class ZkFrontend final : public node::SocketFrontend {
 public:
  using InfoSource = std::function<ServerInfo()>;

  /// Binds and listens on options.host:options.port. Throws std::runtime_error naming the
  /// address if that fails. `info` answers the four-letter words (called only for them).
  ZkFrontend(FrontendOptions options, InfoSource info);
  ~ZkFrontend() override;
  ZkFrontend(const ZkFrontend&) = delete;
  ZkFrontend& operator=(const ZkFrontend&) = delete;

  /// The bound port.
  int port() const { return port_; }
  std::size_t connection_count() const { return conns_.size(); }
  /// The front-end's side of the four-letter words.
  FrontendInfo info() const;

  // node::SocketFrontend
  bool owns(node::ConnId conn) const override { return (conn & kConnIdBit) != 0; }
  void send_client(node::ConnId conn, Bytes bytes) override;
  void close_client(node::ConnId conn) override;
  bool add_poll_items(std::vector<zmq::pollitem_t>* items) override;
  void on_poll(const zmq::pollitem_t* items, std::size_t count,
               node::RuntimeHandler& handler) override;
  void flush() override;

 private:
  struct Conn;

  void accept_all();
  void read_from(Conn& c);
  void handle_input(Conn& c, node::RuntimeHandler& handler);
  bool check_four_letter_word(Conn& c);
  void apply(Conn& c, Effects& fx, node::RuntimeHandler* handler);
  void queue_output(Conn& c, const std::uint8_t* data, std::size_t size);
  void write_to(Conn& c);
  void mark_closing(Conn& c, const std::string& reason);
  void destroy(std::map<node::ConnId, std::unique_ptr<Conn>>::iterator it);
  bool wants_read(const Conn& c) const;
  bool has_ready_input(const Conn& c) const;
  std::int64_t now_us() const;

  FrontendOptions options_;
  InfoSource info_;
  int listen_fd_ = -1;
  int port_ = 0;
  node::ConnId next_id_ = 1;
  std::map<node::ConnId, std::unique_ptr<Conn>> conns_;
  std::vector<node::ConnId> polled_;  ///< conn id of each item after the listener
  std::vector<node::ConnId> closed_;  ///< destroyed without close_client: for on_client_closed
  bool listener_polled_ = false;
  ConnStats retired_;  ///< counters of closed connections, for the totals
  std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
};

/// What a node reports for the four-letter words (role, counts, settings for `conf`).
ServerInfo server_info_of(const node::Node& node, const NodeConfig& config, int zk_port);

/// The front-end of `node` as `config` asks for it (host, zk_port, max_data_bytes as
/// jute.maxbuffer), or null when zk_port is -1. `node` must outlive it. Throws like the
/// constructor when the port cannot be bound.
std::unique_ptr<ZkFrontend> make_node_frontend(const NodeConfig& config, const node::Node& node);

}  // namespace quorumlab::zkwire
