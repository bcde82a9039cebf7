// The scripted fake server for client tests.
#include "fake_server.hpp"

#include <cstring>

#include <gtest/gtest.h>

#include "codec.hpp"

namespace quorumlab::client::testing {

Received::Received(std::string peer, const zmq::message_t& body) : peer_(std::move(peer)) {
  // Always copy: ZeroMQ buffers may be unaligned and the reader must outlive the zmq message.
  words_ = kj::heapArray<capnp::word>(body.size() / sizeof(capnp::word));
  std::memcpy(words_.begin(), body.data(), words_.size() * sizeof(capnp::word));
  reader_ = std::make_unique<capnp::FlatArrayMessageReader>(words_.asPtr());
}

FakeServer::FakeServer(zmq::context_t& ctx) : ctx_(ctx) {
  router_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::router);
  router_->set(zmq::sockopt::linger, 0);
  router_->bind("tcp://127.0.0.1:*");
  std::string endpoint = router_->get(zmq::sockopt::last_endpoint);  // tcp://127.0.0.1:PORT
  address_ = endpoint.substr(std::strlen("tcp://"));
}

std::unique_ptr<Received> FakeServer::recv(std::chrono::milliseconds timeout, bool answer_pings) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (router_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return nullptr;
    zmq::pollitem_t item{router_->handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, left) == 0) return nullptr;
    zmq::message_t identity;
    zmq::message_t body;
    (void)router_->recv(identity);
    (void)router_->recv(body);
    auto r = std::make_unique<Received>(identity.to_string(), body);
    if (r->is_ping()) {
      ++pings_;
      if (!answer_pings) return r;
      reply(r->peer(), -2, 0, 0);
      continue;
    }
    return r;
  }
  return nullptr;
}

std::unique_ptr<Received> FakeServer::expect(std::chrono::milliseconds timeout) {
  auto r = recv(timeout, true);
  EXPECT_NE(r, nullptr) << "no client message within " << timeout.count() << " ms";
  return r;
}

void FakeServer::send(const std::string& peer, capnp::MessageBuilder& message) {
  router_->send(zmq::buffer(peer), zmq::send_flags::sndmore);
  router_->send(detail::serialize(message), zmq::send_flags::none);
}

void FakeServer::accept(const std::string& peer, std::int64_t session_id, std::int32_t timeout_ms,
                        const std::string& passwd, std::int64_t last_zxid) {
  capnp::MallocMessageBuilder m;
  auto cr = m.initRoot<proto::ServerMessage>().initConnectResponse();
  cr.setErr(0);
  cr.setTimeoutMs(timeout_ms);
  cr.setSessionId(session_id);
  cr.setPasswd(detail::bytes(passwd));
  cr.setServerId(1);
  cr.setLastZxid(last_zxid);
  send(peer, m);
}

void FakeServer::refuse(const std::string& peer, std::int32_t err, const std::string& message) {
  capnp::MallocMessageBuilder m;
  auto cr = m.initRoot<proto::ServerMessage>().initConnectResponse();
  cr.setErr(err);
  cr.setMessage(detail::text(message));
  send(peer, m);
}

void FakeServer::reply(const std::string& peer, std::int32_t xid, std::int64_t zxid,
                       std::int32_t err, const Fill& fill) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<proto::ServerMessage>().initResponse();
  r.setXid(xid);
  r.setZxid(zxid);
  r.setErr(err);
  if (fill) {
    fill(r);
  } else {
    r.initBody().setNone();
  }
  send(peer, m);
}

void FakeServer::notify(const std::string& peer, std::int32_t type, const std::string& path,
                        std::int64_t zxid) {
  capnp::MallocMessageBuilder m;
  auto n = m.initRoot<proto::ServerMessage>().initNotification();
  n.setType(type);
  n.setState(3);
  n.setPath(detail::text(path));
  n.setZxid(zxid);
  send(peer, m);
}

void FakeServer::closing(const std::string& peer, const std::string& reason) {
  capnp::MallocMessageBuilder m;
  m.initRoot<proto::ServerMessage>().setClosing(detail::text(reason));
  send(peer, m);
}

void FakeServer::shut() {
  router_.reset();
}

}  // namespace quorumlab::client::testing
