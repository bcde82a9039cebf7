// A scripted fake server for client tests: a ROUTER socket speaking the native protocol, driven
// step by step from the test thread (receive the next client message, answer it), so every
// reconnect, refusal and ordering path is deterministic.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <zmq.hpp>

#include "quorumlab/proto/client.capnp.h"

namespace quorumlab::client::testing {

/// One message from a client, with the ROUTER identity of its connection.
class Received {
 public:
  Received(std::string peer, const zmq::message_t& body);
  const std::string& peer() const { return peer_; }
  proto::ClientMessage::Reader msg() { return reader_->getRoot<proto::ClientMessage>(); }
  bool is_connect() { return msg().isConnect(); }
  proto::ConnectRequest::Reader connect() { return msg().getConnect(); }
  proto::Request::Reader request() { return msg().getRequest(); }
  std::int32_t xid() { return request().getXid(); }
  bool is_ping() { return msg().isRequest() && request().getOp().isPing(); }

 private:
  std::string peer_;
  kj::Array<capnp::word> words_;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader_;
};

class FakeServer {
 public:
  static constexpr std::chrono::milliseconds kWait{5000};
  using Fill = std::function<void(proto::Response::Builder)>;

  explicit FakeServer(zmq::context_t& ctx);
  /// "127.0.0.1:PORT" for a connection string.
  std::string address() const { return address_; }

  /// The next message from any client, or null after `timeout`. With answer_pings, pings are
  /// answered at once and skipped.
  std::unique_ptr<Received> recv(std::chrono::milliseconds timeout = kWait,
                                 bool answer_pings = true);
  /// The next message that is not a ping, asserting it arrives.
  std::unique_ptr<Received> expect(std::chrono::milliseconds timeout = kWait);

  void send(const std::string& peer, capnp::MessageBuilder& message);
  void accept(const std::string& peer, std::int64_t session_id, std::int32_t timeout_ms,
              const std::string& passwd = std::string(16, 'p'), std::int64_t last_zxid = 0);
  void refuse(const std::string& peer, std::int32_t err, const std::string& message);
  void reply(const std::string& peer, std::int32_t xid, std::int64_t zxid, std::int32_t err,
             const Fill& fill = {});
  void notify(const std::string& peer, std::int32_t type, const std::string& path,
              std::int64_t zxid);
  void closing(const std::string& peer, const std::string& reason);
  /// Closes the socket: connected clients see the connection drop.
  void shut();
  int pings() const { return pings_; }

 private:
  zmq::context_t& ctx_;
  std::unique_ptr<zmq::socket_t> router_;
  std::string address_;
  int pings_ = 0;
};

}  // namespace quorumlab::client::testing
