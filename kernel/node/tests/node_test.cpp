// The node driven through a fake environment: no sockets, a clock the test moves. Covers the
// native protocol end to end inside one process: sessions, every operation, reply order,
// watch-before-reply ordering, expiry, reconnect, malformed input and restart with `wal`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "../src/internal.hpp"
#include "quorumlab/log.hpp"

using namespace quorumlab;
using namespace quorumlab::node;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

class FakeEnv final : public NodeEnv {
 public:
  void send_peer(NodeId, Bytes) override { ++peer_sent; }
  void send_client(ConnId conn, Bytes bytes) override { out[conn].push_back(std::move(bytes)); }
  void close_client(ConnId conn) override { closed.push_back(conn); }
  std::int64_t now_ms() override { return now; }
  std::int64_t wall_ms() override { return 1700000000000 + now; }

  std::int64_t now = 1000;
  std::size_t peer_sent = 0;
  std::map<ConnId, std::vector<Bytes>> out;
  std::vector<ConnId> closed;
};

/// A decoded server message kept alive with its buffer.
struct Msg {
  std::shared_ptr<CapnpReader> reader;
  proto::ServerMessage::Reader get() { return reader->root<proto::ServerMessage>(); }
};

struct Harness {
  FakeEnv env;
  NullTracer tracer;
  fs::path dir;
  std::unique_ptr<PluginLoader> loader;
  std::unique_ptr<Node> node;
  std::int32_t xid = 0;

  explicit Harness(const std::string& storage = "memory", fs::path data_dir = {}) {
    dir = data_dir.empty()
              ? fs::temp_directory_path() / ("ql_node_test_" + std::to_string(::getpid()) + "_" +
                                             std::to_string(counter()++))
              : data_dir;
    start(storage);
  }
  static int& counter() {
    static int c = 0;
    return c;
  }
  void start(const std::string& storage) {
    loader = std::make_unique<PluginLoader>(PluginLoader::default_dir());
    auto cfg =
        load_config(std::nullopt, {"data_dir=" + dir.string(), "storage=" + storage,
                                   "min_session_timeout_ms=100", "max_session_timeout_ms=10000"});
    node = std::make_unique<Node>(cfg, *loader, env, tracer);
    node->set_storage_waker([this] {
      std::lock_guard<std::mutex> lock(mu);
      ++wakeups;
      cv.notify_all();
    });
  }
  void restart(const std::string& storage) {
    node.reset();
    start(storage);
  }

  /// Runs the node until nothing waits for storage or the plugin (the fake has no event
  /// loop). Waits for the storage thread's wake-up, never sleeps.
  void settle() {
    for (int i = 0; i < 10000; ++i) {
      node->on_storage_wakeup();
      node->process();
      if (node->idle()) return;
      std::unique_lock<std::mutex> lock(mu);
      cv.wait_for(lock, std::chrono::seconds(5), [&] { return wakeups != seen; });
      seen = wakeups;
    }
    FAIL() << "node did not become idle";
  }
  std::mutex mu;
  std::condition_variable cv;
  std::uint64_t wakeups = 0, seen = 0;

  void send(ConnId conn, capnp::MallocMessageBuilder& msg) {
    Bytes b = to_bytes(msg);
    node->on_client_message(conn, b.data(), b.size(), "127.0.0.1:5555");
  }

  std::vector<Msg> take(ConnId conn) {
    std::vector<Msg> msgs;
    for (auto& b : env.out[conn]) {
      msgs.push_back({std::make_shared<CapnpReader>(b.data(), b.size(), 1 << 26)});
    }
    env.out[conn].clear();
    return msgs;
  }

  proto::ConnectResponse::Reader connect(ConnId conn, std::int64_t session = 0,
                                         Bytes pw = Bytes(16), std::int64_t last_zxid = 0,
                                         std::vector<Msg>* keep = nullptr) {
    capnp::MallocMessageBuilder m;
    auto c = m.initRoot<proto::ClientMessage>().initConnect();
    c.setProtocolVersion(1);
    c.setTimeoutMs(1000);
    c.setSessionId(session);
    c.setPasswd(kj::arrayPtr(pw.data(), pw.size()));
    c.setLastZxidSeen(last_zxid);
    send(conn, m);
    settle();
    static std::vector<Msg> held;
    auto msgs = take(conn);
    EXPECT_EQ(msgs.size(), 1u);
    held.push_back(msgs.at(0));
    if (keep) keep->push_back(msgs.at(0));
    return held.back().get().getConnectResponse();
  }

  /// Builds a request with the next xid; `fill` sets the op.
  template <typename F>
  std::int32_t request(ConnId conn, F fill) {
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<proto::ClientMessage>().initRequest();
    r.setXid(++xid);
    fill(r.initOp());
    send(conn, m);
    return xid;
  }

  std::int32_t create(ConnId conn, const std::string& path, const std::string& data, int mode = 0) {
    return request(conn, [&](proto::Request::Op::Builder op) {
      auto c = op.initCreate();
      c.setPath(path);
      c.setData(kj::arrayPtr(reinterpret_cast<const capnp::byte*>(data.data()), data.size()));
      c.setMode(mode);
      auto acl = c.initAcl(1);
      acl[0].setPerms(31);
      acl[0].initId().setScheme("world");
      acl[0].getId().setId("anyone");
    });
  }
  std::int32_t get_data(ConnId conn, const std::string& path, bool watch = false) {
    return request(conn, [&](proto::Request::Op::Builder op) {
      auto g = op.initGetData();
      g.setPath(path);
      g.setWatch(watch);
    });
  }
  std::int32_t set_data(ConnId conn, const std::string& path, const std::string& data,
                        int version = -1) {
    return request(conn, [&](proto::Request::Op::Builder op) {
      auto s = op.initSetData();
      s.setPath(path);
      s.setData(kj::arrayPtr(reinterpret_cast<const capnp::byte*>(data.data()), data.size()));
      s.setVersion(version);
    });
  }

  /// Sends one request and returns its response (after settling).
  Msg roundtrip_last(ConnId conn) {
    settle();
    auto msgs = take(conn);
    EXPECT_FALSE(msgs.empty());
    return msgs.back();
  }

  ~Harness() {
    node.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

std::string str(capnp::Data::Reader d) {
  return std::string(d.begin(), d.end());
}

}  // namespace

TEST(Node, NewSessionGetsIdPasswordAndNegotiatedTimeout) {
  Harness h;
  auto r = h.connect(1);
  EXPECT_EQ(r.getErr(), 0);
  EXPECT_NE(r.getSessionId(), 0);
  EXPECT_EQ(r.getPasswd().size(), 16u);
  EXPECT_EQ(r.getTimeoutMs(), 1000);
  EXPECT_TRUE(h.node->tree().has_session(r.getSessionId()));
}

TEST(Node, CreateGetSetDeleteWithStats) {
  Harness h;
  h.connect(1);
  h.create(1, "/a", "hello");
  auto m = h.roundtrip_last(1);
  auto resp = m.get().getResponse();
  ASSERT_EQ(resp.getErr(), 0);
  EXPECT_EQ(resp.getBody().getCreated().getPath(), "/a");
  const auto czxid = resp.getBody().getCreated().getStat().getCzxid();
  EXPECT_EQ(resp.getZxid(), czxid);

  h.get_data(1, "/a");
  m = h.roundtrip_last(1);
  EXPECT_EQ(str(m.get().getResponse().getBody().getData().getData()), "hello");

  h.set_data(1, "/a", "world", 0);
  m = h.roundtrip_last(1);
  EXPECT_EQ(m.get().getResponse().getBody().getStat().getVersion(), 1);
  h.set_data(1, "/a", "again", 0);
  EXPECT_EQ(h.roundtrip_last(1).get().getResponse().getErr(), sm::err_code(sm::Err::BADVERSION));

  h.request(1, [](proto::Request::Op::Builder op) {
    auto d = op.initDelete();
    d.setPath("/a");
    d.setVersion(-1);
  });
  EXPECT_EQ(h.roundtrip_last(1).get().getResponse().getErr(), 0);
  h.get_data(1, "/a");
  EXPECT_EQ(h.roundtrip_last(1).get().getResponse().getErr(), sm::err_code(sm::Err::NONODE));
}

TEST(Node, PipelinedRequestsAreAnsweredInOrderAndReadsSeeEarlierWrites) {
  Harness h;
  h.connect(1);
  std::vector<std::int32_t> xids;
  for (int i = 0; i < 50; ++i) {
    xids.push_back(h.create(1, "/n" + std::to_string(i), std::to_string(i)));
    xids.push_back(h.get_data(1, "/n" + std::to_string(i)));  // sent before the create commits
  }
  h.settle();
  auto msgs = h.take(1);
  ASSERT_EQ(msgs.size(), xids.size());
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    auto r = msgs[i].get().getResponse();
    EXPECT_EQ(r.getXid(), xids[i]);
    ASSERT_EQ(r.getErr(), 0) << "request " << i;
    if (i % 2 == 1) {
      EXPECT_EQ(str(r.getBody().getData().getData()), std::to_string(i / 2));
    }
  }
}

TEST(Node, NotificationArrivesBeforeTheReplyThatShowsTheNewData) {
  Harness h;
  h.connect(1);
  h.connect(2);
  h.create(1, "/w", "v0");
  h.settle();
  h.take(1);
  h.get_data(2, "/w", /*watch=*/true);
  h.get_data(1, "/w", /*watch=*/true);
  h.settle();
  h.take(2);
  h.take(1);
  // Same connection: the write's own reply comes after the notification it caused, and so
  // does a pipelined read behind it.
  h.set_data(1, "/w", "v1");
  h.get_data(1, "/w");
  h.settle();
  auto own = h.take(1);
  ASSERT_EQ(own.size(), 3u);
  ASSERT_TRUE(own[0].get().isNotification());
  EXPECT_EQ(own[0].get().getNotification().getType(), 3);  // NodeDataChanged
  EXPECT_EQ(own[1].get().getResponse().getBody().getStat().getVersion(), 1);
  EXPECT_EQ(str(own[2].get().getResponse().getBody().getData().getData()), "v1");
  // Other connection: the notification was queued at apply time, before any later reply.
  h.get_data(2, "/w");
  h.settle();
  auto msgs = h.take(2);
  ASSERT_EQ(msgs.size(), 2u);
  ASSERT_TRUE(msgs[0].get().isNotification());
  EXPECT_EQ(msgs[0].get().getNotification().getPath(), "/w");
  EXPECT_EQ(msgs[0].get().getNotification().getZxid(), own[1].get().getResponse().getZxid());
  EXPECT_EQ(str(msgs[1].get().getResponse().getBody().getData().getData()), "v1");
  // One-shot: a second change fires nothing for connection 2.
  h.set_data(1, "/w", "v2");
  h.settle();
  EXPECT_TRUE(h.take(2).empty());
}

TEST(Node, ClientHangUpDropsItsWatchesButKeepsTheSession) {
  Harness h;
  h.connect(1);
  auto sid = h.connect(2).getSessionId();
  h.create(2, "/e", "x", /*ephemeral*/ 1);
  h.create(1, "/w", "v0");
  h.get_data(2, "/w", /*watch=*/true);
  h.settle();
  h.take(1);
  h.take(2);
  ASSERT_EQ(h.node->connection_count(), 2u);
  h.node->on_client_closed(2);
  h.node->on_client_closed(2);  // twice, or for a connection it never saw: nothing happens
  h.node->on_client_closed(77);
  EXPECT_EQ(h.node->connection_count(), 1u);
  h.set_data(1, "/w", "v1");
  h.settle();
  EXPECT_TRUE(h.take(2).empty()) << "the watch went with the connection";
  EXPECT_THAT(h.env.closed, ::testing::Not(::testing::Contains(2u)));
  // As in ZooKeeper the session lives on until it expires, with its ephemerals.
  EXPECT_TRUE(h.node->tree().has_session(sid));
  EXPECT_EQ(h.node->tree().get_ephemerals(sid, "/").size(), 1u);
}

TEST(Node, ReconnectWithPasswordKeepsTheSessionAndWrongPasswordIsExpired) {
  Harness h;
  std::vector<Msg> keep;
  auto r = h.connect(1, 0, Bytes(16), 0, &keep);
  SessionId sid = r.getSessionId();
  Bytes pw(r.getPasswd().begin(), r.getPasswd().end());
  h.create(1, "/e", "x", /*ephemeral*/ 1);
  h.settle();
  auto ok = h.connect(2, sid, pw, static_cast<std::int64_t>(h.node->applied_zxid()));
  EXPECT_EQ(ok.getErr(), 0);
  EXPECT_EQ(ok.getSessionId(), sid);
  // The old connection of the session was closed.
  EXPECT_THAT(h.env.closed, ::testing::Contains(1u));
  Bytes bad = pw;
  bad[0] ^= 1;
  auto ex = h.connect(3, sid, bad);
  EXPECT_EQ(ex.getErr(), sm::err_code(sm::Err::SESSIONEXPIRED));
  EXPECT_EQ(ex.getSessionId(), 0);
}

TEST(Node, ClientThatHasSeenTheFutureIsRefused) {
  Harness h;
  auto r = h.connect(1, 0, Bytes(16), /*last_zxid=*/1ll << 40);
  EXPECT_EQ(r.getErr(), sm::err_code(sm::Err::CONNECTIONLOSS));
  EXPECT_THAT(std::string(r.getMessage().cStr()), HasSubstr("is behind"));
}

TEST(Node, SessionExpiryRemovesEphemeralsAndClosesTheConnection) {
  Harness h;
  auto sid = h.connect(1).getSessionId();
  h.create(1, "/eph", "x", 1);
  h.settle();
  h.take(1);
  ASSERT_EQ(h.node->tree().get_ephemerals(sid, "/").size(), 1u);
  h.env.now += 999;  // not yet
  h.node->on_tick();
  h.settle();
  EXPECT_TRUE(h.node->tree().has_session(sid));
  h.env.now += 2;
  h.node->on_tick();
  h.settle();
  EXPECT_FALSE(h.node->tree().has_session(sid));
  h.connect(2);
  h.get_data(2, "/eph");
  EXPECT_EQ(h.roundtrip_last(2).get().getResponse().getErr(), sm::err_code(sm::Err::NONODE));
  auto msgs = h.take(1);
  ASSERT_FALSE(msgs.empty());
  EXPECT_TRUE(msgs.back().get().isClosing());
}

TEST(Node, CloseSessionIsAnsweredThenTheConnectionCloses) {
  Harness h;
  auto sid = h.connect(1).getSessionId();
  h.request(1, [](proto::Request::Op::Builder op) { op.setCloseSession(); });
  h.settle();
  auto msgs = h.take(1);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].get().getResponse().getErr(), 0);
  EXPECT_TRUE(msgs[1].get().isClosing());
  EXPECT_FALSE(h.node->tree().has_session(sid));
}

TEST(Node, GarbageAndOutOfOrderMessagesCloseOnlyThatConnection) {
  Harness h;
  h.connect(1);
  Bytes garbage = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  h.node->on_client_message(7, garbage.data(), garbage.size(), "");
  auto msgs = h.take(7);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_THAT(std::string(msgs[0].get().getClosing().cStr()), HasSubstr("malformed"));
  Bytes odd = {1, 2, 3};
  h.node->on_client_message(8, odd.data(), odd.size(), "");
  EXPECT_TRUE(h.take(8).at(0).get().isClosing());
  h.get_data(9, "/");  // request before connect
  EXPECT_THAT(std::string(h.take(9).at(0).get().getClosing().cStr()),
              HasSubstr("before the session"));
  EXPECT_EQ(h.node->stats().protocol_errors, 3u);
  // The healthy connection is still served.
  h.get_data(1, "/zookeeper");
  EXPECT_EQ(h.roundtrip_last(1).get().getResponse().getErr(), 0);
}

// Found by native_frame_fuzz (harness/fuzz/regressions/native_frame): Cap'n Proto checks a
// pointer only when it is followed, and a read queued behind a write has its fields read when
// the write completes, outside on_client_message's handling of malformed input. A path that is
// a list of voids instead of text then threw out of Node::process (the server process died).
// The message is now checked whole on receipt: the connection closes as malformed.
TEST(Node, MistypedPointerInAQueuedRequestClosesTheConnection) {
  Harness h;
  h.connect(1);
  h.create(1, "/a", "x");  // a write: the read below queues behind it
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<proto::ClientMessage>().initRequest();
  r.setXid(++h.xid);
  r.initOp().initGetData().setPath("/x");
  Bytes b = to_bytes(m);
  // The text pointer of "/x": a list pointer (tag 1) of 3 byte-sized elements (size code 2).
  // Make its elements void (size code 0): still in bounds, no longer text.
  bool patched = false;
  for (std::size_t at = 8; at + 8 <= b.size(); at += 8) {
    std::uint64_t w;
    std::memcpy(&w, b.data() + at, 8);
    if ((w & 3) == 1 && ((w >> 32) & 7) == 2 && (w >> 35) == 3) {
      w &= ~(std::uint64_t{7} << 32);
      std::memcpy(b.data() + at, &w, 8);
      patched = true;
    }
  }
  ASSERT_TRUE(patched);
  h.node->on_client_message(1, b.data(), b.size(), "127.0.0.1:5555");
  ASSERT_NO_THROW(h.settle());
  auto msgs = h.take(1);
  ASSERT_FALSE(msgs.empty());
  EXPECT_THAT(std::string(msgs.back().get().getClosing().cStr()), HasSubstr("malformed"));
  EXPECT_EQ(h.node->stats().protocol_errors, 1u);
}

// Found by peer_envelope_fuzz (harness/fuzz/regressions/peer_envelope): Cap'n Proto counts a
// zero-sized list element as one word read, and the peer envelope was read with a fixed limit
// of 64 Mi words, so a 100-byte envelope could list millions of empty session revalidations;
// the leader looked each up and answered them all (a timeout under the fuzzer, gigabytes of
// reply). A received message may now read at most about twice its own size: that one is
// dropped, an honest one is answered.
TEST(Node, PeerEnvelopeCannotListMoreElementsThanItHasRoomFor) {
  Harness h;  // solo: a leader that answers revalidations
  auto envelope = [](std::uint32_t count, bool amplify) {
    capnp::MallocMessageBuilder m;
    auto e = m.initRoot<proto::PeerEnvelope>();
    e.setFrom(2);
    auto l = e.initRevalidate(1);
    l[0].setSessionId(5);
    l[0].setTimeoutMs(1000);
    Bytes b = to_bytes(m);
    if (!amplify) return b;
    // The list pointer (tag 1, element size 7 = inline composite of 2 words) and its tag word:
    // make the elements zero-sized and `count` of them.
    for (std::size_t at = 8; at + 8 <= b.size(); at += 8) {
      std::uint64_t w;
      std::memcpy(&w, b.data() + at, 8);
      if ((w & 3) != 1 || ((w >> 32) & 7) != 7 || (w >> 35) != 2) continue;
      const auto offset = static_cast<std::int32_t>(static_cast<std::uint32_t>(w) & ~3u) >> 2;
      const std::size_t tag_at = at + 8 + static_cast<std::size_t>(offset) * 8;
      w &= 0xffffffffull;  // word count 0, element size 7 kept below
      w |= std::uint64_t{7} << 32;
      std::memcpy(b.data() + at, &w, 8);
      const std::uint64_t tag = std::uint64_t{count} << 2;  // struct, no data, no pointers
      std::memcpy(b.data() + tag_at, &tag, 8);
    }
    return b;
  };
  Bytes honest = envelope(1, false);
  h.node->on_peer_message(honest.data(), honest.size());
  EXPECT_EQ(h.env.peer_sent, 1u);  // answered
  Bytes amplified = envelope(100000, true);
  ASSERT_LT(amplified.size(), 128u);
  h.node->on_peer_message(amplified.data(), amplified.size());
  EXPECT_EQ(h.env.peer_sent, 1u);  // dropped as malformed, not answered 100000 times over
}

TEST(Node, InvalidPathsAndOversizeDataAreErrorRepliesNotCrashes) {
  Harness h;
  h.connect(1);
  h.create(1, "no-slash", "x");
  EXPECT_EQ(h.roundtrip_last(1).get().getResponse().getErr(), sm::err_code(sm::Err::BADARGUMENTS));
  h.create(1, "/big", std::string(1048577, 'x'));
  EXPECT_EQ(h.roundtrip_last(1).get().getResponse().getErr(), sm::err_code(sm::Err::BADARGUMENTS));
  // Reads of an invalid path find nothing, as on ZooKeeper's server (clients validate paths).
  h.get_data(1, "/a//b");
  EXPECT_EQ(h.roundtrip_last(1).get().getResponse().getErr(), sm::err_code(sm::Err::NONODE));
}

TEST(Node, SyncOpAnswersWithThePath) {
  Harness h;
  h.connect(1);
  h.request(1, [](proto::Request::Op::Builder op) { op.setSync("/"); });
  Msg reply = h.roundtrip_last(1);  // owns the bytes the reader below points into
  auto r = reply.get().getResponse();
  EXPECT_EQ(r.getErr(), 0);
  EXPECT_EQ(r.getBody().getPath(), "/");
}

TEST(Node, WalRestartKeepsEveryAcknowledgedWrite) {
  auto dir = fs::temp_directory_path() / ("ql_node_wal_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::uint64_t digest = 0;
  {
    Harness h("wal", dir);
    h.connect(1);
    for (int i = 0; i < 20; ++i)
      h.create(1, "/p" + std::to_string(i), std::string(100, 'a' + i % 26));
    h.settle();
    ASSERT_EQ(h.take(1).size(), 20u);
    digest = h.node->digest();
    h.node.reset();
    h.start("wal");
    EXPECT_EQ(h.node->digest(), digest);
    std::int32_t n = 0;
    ASSERT_EQ(h.node->tree().get_all_children_number("/", {}, &n), sm::Err::OK);
    EXPECT_EQ(n, 3 + 20);  // /zookeeper, /zookeeper/quota, /zookeeper/config and our 20
  }
  fs::remove_all(dir);
}

TEST(Node, StatusProbeNeedsNoSession) {
  Harness h;
  capnp::MallocMessageBuilder m;
  m.initRoot<proto::ClientMessage>().setStatus();
  h.send(5, m);
  auto msgs = h.take(5);
  ASSERT_EQ(msgs.size(), 1u);
  auto s = msgs[0].get().getStatus();
  EXPECT_EQ(s.getServerId(), 1u);
  EXPECT_EQ(s.getRole(), "leader");
  EXPECT_EQ(s.getBroadcast(), "solo");
  EXPECT_EQ(s.getDigest(), h.node->digest());
  EXPECT_EQ(h.node->connection_count(), 0u);
}

TEST(Node, ReadPolicyWhoseBarrierTheBroadcastPluginLacksIsRefusedAtStartUp) {
  FakeEnv env;
  NullTracer tracer;
  PluginLoader loader(PluginLoader::default_dir());
  auto dir = fs::temp_directory_path() / ("ql_node_policy_" + std::to_string(::getpid()));
  auto cfg = load_config(std::nullopt, {"data_dir=" + dir.string(), "storage=memory",
                                        "broadcast=zab", "read_policy=lease"});
  try {
    Node node(cfg, loader, env, tracer);
    FAIL() << "zab started with the lease policy";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "read policy 'lease' needs the lease barrier, which broadcast plugin 'zab' provides "
              "only with lease=true (voters then stay out of elections for sync_limit_ticks after "
              "they last heard from a leader, which slows failover); set broadcast.lease=true");
  }
  // With its lease turned on, zab starts with the policy.
  auto zab_lease =
      load_config(std::nullopt, {"data_dir=" + dir.string(), "storage=memory", "broadcast=zab",
                                 "broadcast.lease=true", "read_policy=lease"});
  EXPECT_NO_THROW(Node(zab_lease, loader, env, tracer));
  // solo has every barrier kind: the same policy starts on it.
  auto solo = load_config(std::nullopt, {"data_dir=" + dir.string(), "storage=memory",
                                         "broadcast=solo", "read_policy=lease"});
  EXPECT_NO_THROW(Node(solo, loader, env, tracer));
  fs::remove_all(dir);
}
