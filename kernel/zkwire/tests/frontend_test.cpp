// ZkFrontend with real loopback sockets and a fake node: accept, four-letter words, framing
// limits, requests held while the session is being created, routing of the node's messages,
// and the bounds on queued output (pause reading, then disconnect a client that does not read).
// The loop is driven by poll with deadlines, as the runtime drives it; no sleeps.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <capnp/message.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>

#include "quorumlab/node/capnp_util.hpp"
#include "quorumlab/proto/client.capnp.h"
#include "quorumlab/zkwire/frontend.hpp"

using namespace quorumlab;
using namespace quorumlab::zkwire;

namespace {

/// Records what the front-end hands to the node.
class FakeNode final : public node::RuntimeHandler {
 public:
  void on_client_message(node::ConnId conn, const std::uint8_t* data, std::size_t size,
                         const std::string& peer) override {
    messages.push_back({conn, Bytes(data, data + size), peer});
  }
  void on_peer_message(const std::uint8_t*, std::size_t) override {}
  void on_peer_disconnected(NodeId) override {}
  void on_client_closed(node::ConnId conn) override { closed.push_back(conn); }
  void on_tick() override {}
  void on_storage_wakeup() override {}
  void process() override {}

  struct Message {
    node::ConnId conn;
    Bytes bytes;
    std::string peer;
  };
  std::vector<Message> messages;
  std::vector<node::ConnId> closed;
};

/// A blocking client socket with deadlines.
class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  ~Client() { ::close(fd_); }
  void send(const Bytes& b) { ASSERT_EQ(::send(fd_, b.data(), b.size(), 0), ssize_t(b.size())); }
  void send(const std::string& s) { send(Bytes(s.begin(), s.end())); }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

class FrontendTest : public ::testing::Test {
 protected:
  void SetUp() override { make({}); }
  void make(FrontendOptions o) {
    o.host = "127.0.0.1";
    o.port = 0;
    fe = std::make_unique<ZkFrontend>(o, [] {
      ServerInfo s;
      s.role = "standalone";
      s.znode_count = 4;
      return s;
    });
  }

  /// One loop turn as ZmqRuntime runs it, waiting at most `wait_ms` for I/O.
  void turn(int wait_ms = 50) {
    std::vector<zmq::pollitem_t> items;
    const bool busy = fe->add_poll_items(&items);
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(busy ? 0 : wait_ms));
    fe->on_poll(items.data(), items.size(), node);
    fe->flush();
  }
  /// Turns until `done()` or 5 s pass.
  bool run_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      turn();
    }
    return true;
  }
  /// Reads from `c` until `n` bytes arrived or the peer closed (loop turns in between).
  Bytes read_from(Client& c, std::size_t n, bool* closed = nullptr) {
    Bytes out;
    bool eof = false;
    run_until([&] {
      pollfd p{c.fd(), POLLIN, 0};
      while (::poll(&p, 1, 0) > 0) {
        std::uint8_t buf[65536];
        ssize_t r = ::recv(c.fd(), buf, sizeof buf, 0);
        if (r <= 0) {
          eof = true;
          break;
        }
        out.insert(out.end(), buf, buf + r);
      }
      return eof || out.size() >= n;
    });
    if (closed) *closed = eof;
    return out;
  }

  static Bytes connect_frame() {
    ConnectRequest c;
    c.timeout_ms = 5000;
    c.read_only = false;
    Bytes b;
    encode_connect_request(c, &b);
    return b;
  }
  static Bytes connect_response() {
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<proto::ServerMessage>().initConnectResponse();
    r.setTimeoutMs(5000);
    r.setSessionId(99);
    Bytes pw(16, 1);
    r.setPasswd(kj::arrayPtr(pw.data(), pw.size()));
    return to_bytes(m);
  }
  static Bytes notification(const std::string& path) {
    capnp::MallocMessageBuilder m;
    auto n = m.initRoot<proto::ServerMessage>().initNotification();
    n.setType(3);
    n.setState(3);
    n.setPath(path);
    n.setZxid(-1);
    return to_bytes(m);
  }
  static Bytes get_data_frame(std::int32_t xid) {
    Request r;
    r.xid = xid;
    r.type = op::kGetData;
    r.path = "/x";
    Bytes b;
    encode_request(r, &b);
    return b;
  }

  /// Connects a client through the handshake; returns the node-side connection id.
  node::ConnId establish(Client& c) {
    c.send(connect_frame());
    EXPECT_TRUE(run_until([&] { return !node.messages.empty(); }));
    const node::ConnId id = node.messages.back().conn;
    fe->send_client(id, connect_response());
    turn();
    Bytes reply = read_from(c, 4 + 37);
    EXPECT_EQ(reply.size(), 4u + 37);
    return id;
  }

  FakeNode node;
  std::unique_ptr<ZkFrontend> fe;
};

}  // namespace

TEST_F(FrontendTest, FourLetterWordIsAnsweredThenClosed) {
  Client c(fe->port());
  c.send("ruok");
  bool closed = false;
  Bytes out = read_from(c, 1 << 20, &closed);
  EXPECT_EQ(std::string(out.begin(), out.end()), "imok");
  EXPECT_TRUE(closed);
  EXPECT_TRUE(node.messages.empty());
  EXPECT_TRUE(run_until([&] { return fe->connection_count() == 0; }));
}

TEST_F(FrontendTest, ConnectionIdsHaveTheTopBitAndThePeerAddress) {
  Client c(fe->port());
  node::ConnId id = establish(c);
  EXPECT_TRUE(fe->owns(id));
  EXPECT_NE(id & kConnIdBit, 0u);
  EXPECT_FALSE(fe->owns(1));
  EXPECT_EQ(node.messages[0].peer, "127.0.0.1");
}

TEST_F(FrontendTest, RequestsBehindTheConnectWaitForTheSession) {
  Client c(fe->port());
  Bytes burst = connect_frame();
  Bytes g = get_data_frame(1);
  burst.insert(burst.end(), g.begin(), g.end());
  c.send(burst);
  ASSERT_TRUE(run_until([&] { return !node.messages.empty(); }));
  for (int i = 0; i < 5; ++i)
    turn(1);
  ASSERT_EQ(node.messages.size(), 1u);  // the getData is held (§2.3)
  fe->send_client(node.messages[0].conn, connect_response());
  ASSERT_TRUE(run_until([&] { return node.messages.size() == 2; }));
  CapnpReader r(node.messages[1].bytes.data(), node.messages[1].bytes.size(), 1 << 20);
  EXPECT_TRUE(r.root<proto::ClientMessage>().getRequest().getOp().isGetData());
}

TEST_F(FrontendTest, BadFrameLengthClosesTheConnection) {
  Client c(fe->port());
  establish(c);
  c.send(Bytes{0x7f, 0xff, 0xff, 0xff});
  bool closed = false;
  read_from(c, 1 << 20, &closed);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(run_until([&] { return fe->connection_count() == 0; }));
}

TEST_F(FrontendTest, NodeCloseFlushesThenCloses) {
  Client c(fe->port());
  node::ConnId id = establish(c);
  fe->send_client(id, notification("/n"));
  fe->close_client(id);
  bool closed = false;
  Bytes out = read_from(c, 1 << 20, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(out.size(), 4u + 16 + 12 + 2);  // the notification arrived before the close
  // Messages for a connection that is gone are dropped.
  turn();
  fe->send_client(id, notification("/late"));
  fe->close_client(id);
}

TEST_F(FrontendTest, ClientCloseIsReportedToTheNodeOnce) {
  node::ConnId id = 0;
  {
    Client c(fe->port());
    id = establish(c);
  }  // the client hangs up
  ASSERT_TRUE(run_until([&] { return !node.closed.empty(); }));
  for (int i = 0; i < 3; ++i)
    turn(1);
  EXPECT_EQ(node.closed, std::vector<node::ConnId>{id});
  EXPECT_EQ(fe->connection_count(), 0u);
}

TEST_F(FrontendTest, NodeClosedConnectionIsNotReportedBack) {
  Client c(fe->port());
  node::ConnId id = establish(c);
  fe->close_client(id);
  bool closed = false;
  read_from(c, 1 << 20, &closed);
  EXPECT_TRUE(closed);
  ASSERT_TRUE(run_until([&] { return fe->connection_count() == 0; }));
  turn(1);
  EXPECT_TRUE(node.closed.empty());  // the node forgot it when it asked for the close
}

TEST_F(FrontendTest, ClientThatDoesNotReadIsDisconnected) {
  FrontendOptions o;
  o.max_output_bytes = 256 * 1024;
  o.pause_read_output_bytes = 64 * 1024;
  make(o);
  Client c(fe->port());
  node::ConnId id = establish(c);
  const std::string path(1000, 'p');
  // The client reads nothing: the socket buffers fill (a few MB on loopback), then the queue
  // passes the bound.
  for (int i = 0; i < 50000 && fe->connection_count() == 1; ++i) {
    fe->send_client(id, notification(path));
    if (i % 50 == 0) turn(0);
  }
  EXPECT_TRUE(run_until([&] { return fe->connection_count() == 0; }));
}

TEST_F(FrontendTest, RequestsAreNotReadWhileOutputIsPaused) {
  FrontendOptions o;
  o.max_output_bytes = 64u << 20;
  o.pause_read_output_bytes = 32 * 1024;
  make(o);
  Client c(fe->port());
  node::ConnId id = establish(c);
  const std::string path(1000, 'p');
  // 20 MB: more than the socket buffers take, so most of it stays queued here.
  constexpr int kCount = 20000;
  for (int i = 0; i < kCount; ++i)
    fe->send_client(id, notification(path));
  turn(0);
  const std::size_t before = node.messages.size();
  c.send(get_data_frame(7));
  for (int i = 0; i < 5; ++i)
    turn(5);
  EXPECT_EQ(node.messages.size(), before);  // held: too much output queued
  Bytes drained = read_from(c, kCount * (4 + 16 + 12 + 1000));
  EXPECT_EQ(drained.size(), kCount * (4u + 16 + 12 + 1000));
  EXPECT_TRUE(run_until([&] { return node.messages.size() == before + 1; }));
}
