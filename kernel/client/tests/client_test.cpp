// The client against a scripted fake server: handshake, pipelining, ordering, timers,
// reconnects, refusal, expiry and chroot (reference §1.11-1.14, §2.3-2.5).
#include <condition_variable>
#include <future>
#include <mutex>

#include <gtest/gtest.h>

#include "codec.hpp"
#include "fake_server.hpp"
#include "quorumlab/client/client.hpp"

namespace quorumlab::client {
namespace {

using namespace std::chrono_literals;
using detail::to_std;
using testing::FakeServer;
using testing::Received;

constexpr auto kWait = 5s;

/// What the event thread saw, in order.
class EventLog {
 public:
  void add(std::string s) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(std::move(s));
    }
    cv_.notify_all();
  }
  /// Waits until `item` has been logged (at least `times` times).
  bool wait_for(const std::string& item, int times = 1) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait,
                        [&] { return std::count(items_.begin(), items_.end(), item) >= times; });
  }
  bool wait_size(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return items_.size() >= n; });
  }
  std::vector<std::string> items() {
    std::lock_guard<std::mutex> lock(mu_);
    return items_;
  }
  /// Index of the first `item`, -1 if absent.
  int index(const std::string& item) {
    auto all = items();
    auto it = std::find(all.begin(), all.end(), item);
    return it == all.end() ? -1 : static_cast<int>(it - all.begin());
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> items_;
};

std::string event_str(const WatchedEvent& e) {
  return std::string(to_string(e.type)) + ":" + e.path;
}

void fill_data(proto::Response::Builder r, const std::string& data, std::int64_t mzxid = 1) {
  auto d = r.initBody().initData();
  d.setData(detail::bytes(data));
  auto st = d.initStat();
  st.setMzxid(mzxid);
  st.setDataLength(static_cast<std::int32_t>(data.size()));
}

class ClientTest : public ::testing::Test {
 protected:
  std::shared_ptr<zmq::context_t> ctx = std::make_shared<zmq::context_t>(1);
  EventLog log;

  Options options(const std::string& connect) {
    Options o;
    o.connect = connect;
    o.session_timeout = 30s;
    o.zmq_context = ctx;
    o.session_watcher = [this](const WatchedEvent& e) {
      log.add(std::string("session:") + to_string(e.state));
    };
    return o;
  }

  Watcher watcher(const std::string& name) {
    return [this, name](const WatchedEvent& e) { log.add(name + ":" + event_str(e)); };
  }

  template <class T>
  Callback<T> logged(const std::string& name) {
    return [this, name](Result<T> r) { log.add(name + ":" + error_name(r.err)); };
  }

  /// Accepts the client's connect on `s`; returns the connection's peer id.
  std::string handshake(FakeServer& s, Client& c, std::int64_t session = 0x1234,
                        std::int32_t timeout_ms = 30000) {
    auto r = s.expect();
    if (!r || !r->is_connect()) {
      ADD_FAILURE() << "expected a connect";
      return {};
    }
    s.accept(r->peer(), session, timeout_ms);
    EXPECT_TRUE(c.wait_connected(kWait));
    return r->peer();
  }
};

TEST_F(ClientTest, ConnectNegotiatesSessionAndCloseEndsIt) {
  FakeServer s(*ctx);
  Client c(options(s.address()));
  auto r = s.expect();
  ASSERT_TRUE(r && r->is_connect());
  auto req = r->connect();
  EXPECT_EQ(req.getProtocolVersion(), 1);
  EXPECT_EQ(req.getSessionId(), 0);
  EXPECT_EQ(req.getLastZxidSeen(), 0);
  EXPECT_EQ(req.getTimeoutMs(), 30000);
  EXPECT_EQ(to_std(req.getPasswd()), std::string(16, '\0'));
  s.accept(r->peer(), 0x1234, 24000, "0123456789abcdef");
  ASSERT_TRUE(c.wait_connected(kWait));
  EXPECT_EQ(c.state(), State::kConnected);
  EXPECT_EQ(c.session_id(), 0x1234);
  EXPECT_EQ(c.session_passwd(), "0123456789abcdef");
  EXPECT_EQ(c.negotiated_timeout(), 24000ms);
  EXPECT_EQ(c.current_server(), s.address());
  EXPECT_TRUE(log.wait_for("session:SyncConnected"));

  auto closed = std::async(std::launch::async, [&c] { return c.close(); });
  auto cl = s.expect();
  ASSERT_TRUE(cl && cl->request().getOp().isCloseSession());
  s.reply(cl->peer(), cl->xid(), 5, 0);
  EXPECT_EQ(closed.get().err, Error::OK);
  EXPECT_EQ(c.state(), State::kClosed);
  EXPECT_TRUE(log.wait_for("session:Closed"));
  EXPECT_EQ(c.get_data("/a").err, Error::SESSIONEXPIRED);
  EXPECT_EQ(c.close().err, Error::OK);  // idempotent
}

TEST_F(ClientTest, ResumesAGivenSession) {
  FakeServer s(*ctx);
  auto o = options(s.address());
  o.session_id = 0x99;
  o.passwd = std::string(16, 'k');
  Client c(o);
  auto r = s.expect();
  ASSERT_TRUE(r && r->is_connect());
  EXPECT_EQ(r->connect().getSessionId(), 0x99);
  EXPECT_EQ(to_std(r->connect().getPasswd()), std::string(16, 'k'));
  c.detach();
  EXPECT_EQ(c.state(), State::kClosed);
}

TEST_F(ClientTest, PipelinedRepliesCompleteInRequestOrder) {
  FakeServer s(*ctx);
  Client c(options(s.address()));
  std::string peer = handshake(s, c);
  constexpr int kN = 300;
  std::vector<std::string> got;
  std::promise<void> all_done;
  for (int i = 0; i < kN; ++i) {
    c.get_data_async("/k" + std::to_string(i), [&](Result<DataResult> r) {
      got.push_back(r.ok() ? r.value.data : error_name(r.err));
      if (got.size() == kN) all_done.set_value();
    });
  }
  std::vector<std::int32_t> xids;
  for (int i = 0; i < kN; ++i) {
    auto r = s.expect();
    ASSERT_TRUE(r && r->request().getOp().isGetData());
    EXPECT_EQ(to_std(r->request().getOp().getGetData().getPath()), "/k" + std::to_string(i));
    if (!xids.empty()) {
      EXPECT_GT(r->xid(), xids.back());
    }
    xids.push_back(r->xid());
  }
  for (int i = 0; i < kN; ++i) {
    s.reply(peer, xids[i], 100 + i, 0, [i](auto b) { fill_data(b, "v" + std::to_string(i)); });
  }
  ASSERT_EQ(all_done.get_future().wait_for(kWait), std::future_status::ready);
  for (int i = 0; i < kN; ++i)
    EXPECT_EQ(got[i], "v" + std::to_string(i));
  EXPECT_EQ(c.last_zxid(), 100 + kN - 1);
  c.detach();
}

TEST_F(ClientTest, ReplyOutOfXidOrderDropsTheConnection) {
  FakeServer s(*ctx);
  Client c(options(s.address()));
  std::string peer = handshake(s, c);
  c.get_data_async("/a", logged<DataResult>("first"));
  c.get_data_async("/b", logged<DataResult>("second"));
  auto r1 = s.expect();
  auto r2 = s.expect();
  ASSERT_TRUE(r1 && r2);
  s.reply(peer, r2->xid(), 3, 0, [](auto b) { fill_data(b, "x"); });  // not the head
  EXPECT_TRUE(log.wait_for("first:CONNECTIONLOSS"));
  EXPECT_TRUE(log.wait_for("second:CONNECTIONLOSS"));
  EXPECT_TRUE(log.wait_for("session:Disconnected"));
  // The client comes back with its session.
  auto again = s.expect();
  ASSERT_TRUE(again && again->is_connect());
  EXPECT_NE(again->peer(), peer);
  EXPECT_EQ(again->connect().getSessionId(), 0x1234);
  EXPECT_EQ(to_std(again->connect().getPasswd()), std::string(16, 'p'));
  s.accept(again->peer(), 0x1234, 30000);
  EXPECT_TRUE(log.wait_for("session:SyncConnected", 2));
  c.detach();
}

TEST_F(ClientTest, NotificationRunsBeforeTheReplyThatShowsTheChange) {
  FakeServer s(*ctx);
  Client c(options(s.address()));
  std::string peer = handshake(s, c);
  c.get_data_async("/a", logged<DataResult>("arm"), watcher("watch"));
  auto r = s.expect();
  ASSERT_TRUE(r && r->request().getOp().getGetData().getWatch());
  s.reply(peer, r->xid(), 10, 0, [](auto b) { fill_data(b, "old"); });
  ASSERT_TRUE(log.wait_for("arm:OK"));

  c.get_data_async("/a", [this](Result<DataResult> res) { log.add("read:" + res.value.data); });
  r = s.expect();
  ASSERT_TRUE(r && !r->request().getOp().getGetData().getWatch());
  s.notify(peer, 3, "/a", 11);
  s.reply(peer, r->xid(), 11, 0, [](auto b) { fill_data(b, "new", 11); });
  ASSERT_TRUE(log.wait_for("read:new"));
  EXPECT_GE(log.index("watch:NodeDataChanged:/a"), 0);
  EXPECT_LT(log.index("watch:NodeDataChanged:/a"), log.index("read:new"));

  // The same through a future: the watcher has run by the time the future is ready.
  std::atomic<bool> fired{false};
  auto armed = c.get_data_future("/a", [&fired](const WatchedEvent&) { fired = true; });
  r = s.expect();
  s.reply(peer, r->xid(), 11, 0, [](auto b) { fill_data(b, "new", 11); });
  ASSERT_TRUE(armed.get().ok());
  auto read = c.get_data_future("/a");
  r = s.expect();
  s.notify(peer, 3, "/a", 12);
  s.reply(peer, r->xid(), 12, 0, [](auto b) { fill_data(b, "newer", 12); });
  EXPECT_EQ(read.get().value.data, "newer");
  EXPECT_TRUE(fired.load());
  c.detach();
}

TEST_F(ClientTest, BlockingCallInsideACallbackDoesNotDeadlock) {
  FakeServer s(*ctx);
  Client c(options(s.address()));
  std::string peer = handshake(s, c);
  std::promise<Error> inner;
  c.exists_async("/a", [&](Result<Stat>) { inner.set_value(c.exists("/b").err); });
  auto r = s.expect();
  s.reply(peer, r->xid(), 1, -101);
  r = s.expect();
  ASSERT_TRUE(r && to_std(r->request().getOp().getExists().getPath()) == "/b");
  s.reply(peer, r->xid(), 1, 0, [](auto b) { b.initBody().initStat(); });
  auto f = inner.get_future();
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(f.get(), Error::OK);
  c.detach();
}

TEST_F(ClientTest, PingsWhenSendIdle) {
  FakeServer s(*ctx);
  Client c(options(s.address()));
  std::string peer = handshake(s, c, 0x1234, 300);  // ping every ~100 ms
  for (int i = 0; i < 3; ++i) {
    auto r = s.recv(kWait, /*answer_pings=*/false);
    ASSERT_TRUE(r && r->is_ping());
    EXPECT_EQ(r->xid(), -2);
    s.reply(peer, -2, 0, 0);
  }
  EXPECT_EQ(c.state(), State::kConnected);
  c.detach();
}

TEST_F(ClientTest, ReadTimeoutMovesToTheNextServerAndRestoresTheSession) {
  FakeServer a(*ctx), b(*ctx);
  Client c(options(a.address() + "," + b.address()));
  std::string peer = handshake(a, c, 0x1234, 1500);  // read timeout 1 s

  c.add_auth_async("digest", "u:p", logged<None>("auth"));
  auto r = a.expect();
  ASSERT_TRUE(r && r->request().getOp().isAddAuth());
  a.reply(peer, r->xid(), 0, 0);
  c.get_data_async("/w", logged<DataResult>("w"), watcher("w"));
  r = a.expect();
  a.reply(peer, r->xid(), 7, 0, [](auto bb) { fill_data(bb, "x"); });
  c.exists_async("/x", logged<Stat>("x"), watcher("x"));
  r = a.expect();
  a.reply(peer, r->xid(), 7, -101);
  c.get_children_async("/c", logged<ChildrenResult>("c"), watcher("c"));
  r = a.expect();
  a.reply(peer, r->xid(), 7, 0, [](auto bb) { bb.initBody().initChildren(); });
  c.add_watch_async("/p", AddWatchMode::kPersistent, watcher("p"), logged<None>("p"));
  r = a.expect();
  a.reply(peer, r->xid(), 7, 0);
  c.add_watch_async("/r", AddWatchMode::kPersistentRecursive, watcher("r"), logged<None>("r"));
  r = a.expect();
  a.reply(peer, r->xid(), 7, 0);
  ASSERT_TRUE(log.wait_for("r:OK"));
  EXPECT_EQ(c.last_zxid(), 7);

  // Server a goes silent: pings stay unanswered, the read timeout fires, b is next.
  auto conn = b.expect();
  ASSERT_TRUE(conn && conn->is_connect());
  EXPECT_TRUE(log.wait_for("session:Disconnected"));
  EXPECT_EQ(conn->connect().getSessionId(), 0x1234);
  EXPECT_EQ(to_std(conn->connect().getPasswd()), std::string(16, 'p'));
  EXPECT_EQ(conn->connect().getLastZxidSeen(), 7);
  b.accept(conn->peer(), 0x1234, 1500);
  ASSERT_TRUE(c.wait_connected(kWait));
  EXPECT_EQ(c.current_server(), b.address());

  auto auth = b.expect();
  ASSERT_TRUE(auth && auth->request().getOp().isAddAuth());
  EXPECT_EQ(to_std(auth->request().getOp().getAddAuth().getScheme()), "digest");
  EXPECT_EQ(to_std(auth->request().getOp().getAddAuth().getAuth()), "u:p");
  auto sw = b.expect();
  ASSERT_TRUE(sw && sw->request().getOp().isSetWatches());
  EXPECT_GT(sw->xid(), auth->xid());
  auto w = sw->request().getOp().getSetWatches();
  EXPECT_EQ(w.getRelativeZxid(), 7);
  auto list = [](capnp::List<capnp::Text>::Reader l) {
    std::vector<std::string> v;
    for (auto t : l)
      v.push_back(to_std(t));
    return v;
  };
  EXPECT_EQ(list(w.getData()), std::vector<std::string>{"/w"});
  EXPECT_EQ(list(w.getExist()), std::vector<std::string>{"/x"});
  EXPECT_EQ(list(w.getChild()), std::vector<std::string>{"/c"});
  EXPECT_EQ(list(w.getPersistent()), std::vector<std::string>{"/p"});
  EXPECT_EQ(list(w.getPersistentRecursive()), std::vector<std::string>{"/r"});
  b.reply(conn->peer(), auth->xid(), 7, 0);
  b.reply(conn->peer(), sw->xid(), 7, 0);

  // Restored watches fire from the new server.
  b.notify(conn->peer(), 3, "/w", 8);
  EXPECT_TRUE(log.wait_for("w:NodeDataChanged:/w"));
  c.detach();
}

TEST_F(ClientTest, ServerDisconnectFailsPendingAndMovesOn) {
  FakeServer a(*ctx), b(*ctx);
  Client c(options(a.address() + "," + b.address()));
  handshake(a, c);
  c.get_data_async("/a", logged<DataResult>("pending"));
  ASSERT_TRUE(a.expect());
  a.shut();
  EXPECT_TRUE(log.wait_for("pending:CONNECTIONLOSS"));
  EXPECT_TRUE(log.wait_for("session:Disconnected"));
  auto conn = b.expect();
  ASSERT_TRUE(conn && conn->is_connect());
  EXPECT_EQ(conn->connect().getSessionId(), 0x1234);
  b.accept(conn->peer(), 0x1234, 30000);
  ASSERT_TRUE(c.wait_connected(kWait));
  c.detach();
}

TEST_F(ClientTest, RefusedConnectTriesTheNextServer) {
  FakeServer a(*ctx), b(*ctx);
  Client c(options(a.address() + "," + b.address()));
  auto r = a.expect();
  ASSERT_TRUE(r && r->is_connect());
  c.get_data_async("/q", logged<DataResult>("queued"));  // fails with the refused attempt
  a.refuse(r->peer(), -4, "server behind: client has seen zxid 9, server has 5");
  auto conn = b.expect();
  ASSERT_TRUE(conn && conn->is_connect());
  EXPECT_TRUE(log.wait_for("queued:CONNECTIONLOSS"));
  b.accept(conn->peer(), 0x55, 30000);
  ASSERT_TRUE(c.wait_connected(kWait));
  EXPECT_EQ(c.current_server(), b.address());
  EXPECT_EQ(c.session_id(), 0x55);
  // A request made while connecting goes out once connected.
  c.detach();
}

TEST_F(ClientTest, RequestsMadeWhileConnectingGoOutAfterTheHandshake) {
  FakeServer s(*ctx);
  Client c(options(s.address()));
  c.create_async("/early", "d", CreateMode::kPersistent, open_acl_unsafe(), 0,
                 logged<Created>("early"));
  auto r = s.expect();
  ASSERT_TRUE(r && r->is_connect());
  s.accept(r->peer(), 0x1, 30000);
  auto req = s.expect();
  ASSERT_TRUE(req && req->request().getOp().isCreate());
  s.reply(r->peer(), req->xid(), 2, 0,
          [](auto b) { b.initBody().initCreated().setPath("/early"); });
  EXPECT_TRUE(log.wait_for("early:OK"));
  c.detach();
}

TEST_F(ClientTest, ExpiryOnReconnectEndsTheSession) {
  FakeServer a(*ctx), b(*ctx);
  Client c(options(a.address() + "," + b.address()));
  std::string peer = handshake(a, c, 0x77);
  c.exists_async("/gone", logged<Stat>("arm"), watcher("gone"));
  auto r = a.expect();
  a.reply(peer, r->xid(), 4, -101);
  ASSERT_TRUE(log.wait_for("arm:NONODE"));
  a.shut();
  auto conn = b.expect();
  ASSERT_TRUE(conn && conn->is_connect());
  EXPECT_EQ(conn->connect().getSessionId(), 0x77);
  ASSERT_TRUE(log.wait_for("session:Disconnected"));
  c.get_data_async("/x", logged<DataResult>("during"));  // queued while reconnecting
  b.refuse(conn->peer(), -112, "session expired");
  EXPECT_TRUE(log.wait_for("session:Expired"));
  EXPECT_TRUE(log.wait_for("during:SESSIONEXPIRED"));
  EXPECT_EQ(c.state(), State::kExpired);
  EXPECT_FALSE(c.wait_connected(10ms));
  EXPECT_EQ(c.get_data("/x").err, Error::SESSIONEXPIRED);
  EXPECT_EQ(c.close().err, Error::OK);
  EXPECT_EQ(log.index("gone:NodeCreated:/gone"), -1);
}

TEST_F(ClientTest, ServerClosingTheConnectionCausesAReconnect) {
  FakeServer s(*ctx);
  Client c(options(s.address()));
  std::string peer = handshake(s, c);
  s.closing(peer, "session moved");
  EXPECT_TRUE(log.wait_for("session:Disconnected"));
  auto conn = s.expect();
  ASSERT_TRUE(conn && conn->is_connect());
  EXPECT_EQ(conn->connect().getSessionId(), 0x1234);
  c.detach();
}

TEST_F(ClientTest, ChrootIsAppliedAndStripped) {
  FakeServer s(*ctx);
  Client c(options(s.address() + "/app"));
  std::string peer = handshake(s, c);

  auto created = c.create_future("/a", "d", CreateMode::kPersistentSequential);
  auto r = s.expect();
  ASSERT_TRUE(r && r->request().getOp().isCreate());
  EXPECT_EQ(to_std(r->request().getOp().getCreate().getPath()), "/app/a");
  EXPECT_EQ(r->request().getOp().getCreate().getMode(), 2);
  s.reply(peer, r->xid(), 2, 0,
          [](auto b) { b.initBody().initCreated().setPath("/app/a0000000001"); });
  EXPECT_EQ(created.get().value.path, "/a0000000001");

  c.get_children_async("/", logged<ChildrenResult>("ls"), watcher("root"));
  r = s.expect();
  EXPECT_EQ(to_std(r->request().getOp().getGetChildren().getPath()), "/app");
  s.reply(peer, r->xid(), 2, 0, [](auto b) { b.initBody().initChildren(); });
  ASSERT_TRUE(log.wait_for("ls:OK"));
  s.notify(peer, 4, "/app", 3);
  EXPECT_TRUE(log.wait_for("root:NodeChildrenChanged:/"));

  auto eph = c.get_ephemerals_future("/");
  r = s.expect();
  EXPECT_EQ(to_std(r->request().getOp().getGetEphemerals()), "/app");
  s.reply(peer, r->xid(), 3, 0, [](auto b) {
    auto l = b.initBody().initEphemerals(3);
    l.set(0, "/app/e1");
    l.set(1, "/apple/x");  // a plain prefix match outside the chroot
    l.set(2, "/app/d/e2");
  });
  EXPECT_EQ(eph.get().value, (std::vector<std::string>{"/e1", "/d/e2"}));

  auto synced = c.sync_op_future("/x");
  r = s.expect();
  EXPECT_EQ(to_std(r->request().getOp().getSync()), "/app/x");
  s.reply(peer, r->xid(), 3, 0, [](auto b) { b.initBody().setPath("/app/x"); });
  EXPECT_EQ(synced.get().value, "/x");
  c.detach();
}

TEST_F(ClientTest, MultiCarriesEveryOpAndReportsTheFirstError) {
  FakeServer s(*ctx);
  Client c(options(s.address()));
  std::string peer = handshake(s, c);
  auto f = c.multi_future(
      {Op::create("/m", "1"), Op::set_data("/n", "2", 3), Op::check("/o", 4), Op::remove("/p")});
  auto r = s.expect();
  ASSERT_TRUE(r && r->request().getOp().isMulti());
  auto ops = r->request().getOp().getMulti();
  ASSERT_EQ(ops.size(), 4u);
  EXPECT_TRUE(ops[0].isCreate());
  EXPECT_EQ(ops[1].getSetData().getVersion(), 3);
  EXPECT_EQ(ops[2].getCheck().getVersion(), 4);
  EXPECT_EQ(to_std(ops[3].getDelete().getPath()), "/p");
  s.reply(peer, r->xid(), 9, 0, [](auto b) {
    auto res = b.initBody().initMulti(4);
    res[0].setErr(0);
    res[0].initBody().setNone();
    res[1].setErr(-103);
    res[1].initBody().setNone();
    res[2].setErr(-2);
    res[2].initBody().setNone();
    res[3].setErr(-2);
    res[3].initBody().setNone();
  });
  auto out = f.get();
  EXPECT_EQ(out.err, Error::BADVERSION);
  ASSERT_EQ(out.value.size(), 4u);
  EXPECT_EQ(out.value[2].err, Error::RUNTIMEINCONSISTENCY);

  EXPECT_EQ(c.multi({}).err, Error::OK);  // empty: succeeds locally
  EXPECT_EQ(c.multi({Op::get_data("/a")}).err, Error::BADARGUMENTS);
  EXPECT_EQ(c.multi_read({Op::remove("/a")}).err, Error::BADARGUMENTS);
  c.detach();
}

TEST_F(ClientTest, InvalidArgumentsFailLocally) {
  FakeServer s(*ctx);
  Client c(options(s.address()));
  EXPECT_EQ(c.get_data("a").err, Error::BADARGUMENTS);
  EXPECT_EQ(c.exists("/a/").err, Error::BADARGUMENTS);
  EXPECT_EQ(c.create("/t", "", CreateMode::kPersistentWithTtl).err, Error::BADARGUMENTS);
  EXPECT_EQ(c.create("/t", "", CreateMode::kPersistent, {}).err, Error::INVALIDACL);
  EXPECT_EQ(c.check_watches("/nothing", WatcherType::kAny).err, Error::NOWATCHER);
  EXPECT_EQ(c.remove_watches("/nothing", WatcherType::kData).err, Error::NOWATCHER);
}

TEST_F(ClientTest, InFlightBoundRejectsTheOverflow) {
  FakeServer s(*ctx);
  auto o = options(s.address());
  o.max_in_flight = 2;
  Client c(o);
  c.get_data_async("/1", logged<DataResult>("one"));
  c.get_data_async("/2", logged<DataResult>("two"));
  c.get_data_async("/3", logged<DataResult>("three"));
  EXPECT_TRUE(log.wait_for("three:THROTTLEDOP"));
  c.detach();
  EXPECT_TRUE(log.wait_for("one:CONNECTIONLOSS"));
  EXPECT_TRUE(log.wait_for("two:CONNECTIONLOSS"));
}

TEST_F(ClientTest, RemoveWatchesNotifiesTheRemovedWatchers) {
  FakeServer s(*ctx);
  Client c(options(s.address()));
  std::string peer = handshake(s, c);
  c.get_data_async("/a", logged<DataResult>("arm"), watcher("d"));
  auto r = s.expect();
  s.reply(peer, r->xid(), 1, 0, [](auto b) { fill_data(b, ""); });
  ASSERT_TRUE(log.wait_for("arm:OK"));

  auto checked = c.check_watches_future("/a", WatcherType::kData);
  r = s.expect();
  ASSERT_TRUE(r && r->request().getOp().isCheckWatches());
  s.reply(peer, r->xid(), 1, 0);
  EXPECT_EQ(checked.get().err, Error::OK);

  auto removed = c.remove_watches_future("/a", WatcherType::kData);
  r = s.expect();
  ASSERT_TRUE(r && r->request().getOp().isRemoveWatches());
  EXPECT_EQ(r->request().getOp().getRemoveWatches().getType(), 2);
  s.reply(peer, r->xid(), 1, 0);
  EXPECT_EQ(removed.get().err, Error::OK);
  EXPECT_TRUE(log.wait_for("d:DataWatchRemoved:/a"));
  EXPECT_EQ(c.check_watches("/a", WatcherType::kData).err, Error::NOWATCHER);
  c.detach();
}

TEST_F(ClientTest, PersistentRecursiveWatchSeesTheSubtree) {
  FakeServer s(*ctx);
  Client c(options(s.address()));
  std::string peer = handshake(s, c);
  auto added = c.add_watch_future("/r", AddWatchMode::kPersistentRecursive, watcher("rec"));
  auto r = s.expect();
  ASSERT_TRUE(r && r->request().getOp().isAddWatch());
  EXPECT_EQ(r->request().getOp().getAddWatch().getMode(), 1);
  s.reply(peer, r->xid(), 1, 0);
  ASSERT_TRUE(added.get().ok());
  s.notify(peer, 1, "/r/x", 2);
  s.notify(peer, 4, "/r", 2);  // never delivered to recursive watchers
  s.notify(peer, 3, "/r/x/y", 3);
  s.notify(peer, 2, "/r", 4);
  ASSERT_TRUE(log.wait_size(4));  // SyncConnected + three events
  auto items = log.items();
  EXPECT_EQ(std::vector<std::string>(items.begin() + 1, items.end()),
            (std::vector<std::string>{"rec:NodeCreated:/r/x", "rec:NodeDataChanged:/r/x/y",
                                      "rec:NodeDeleted:/r"}));
  c.detach();
}

TEST_F(ClientTest, CallbacksSeeDecodedBodies) {
  FakeServer s(*ctx);
  Client c(options(s.address()));
  std::string peer = handshake(s, c);
  auto acl = c.get_acl_future("/a");
  auto count = c.get_all_children_number_future("/a");
  auto who = c.who_am_i_future();
  auto r = s.expect();
  s.reply(peer, r->xid(), 1, 0, [](auto b) {
    auto a = b.initBody().initAcl();
    auto l = a.initAcl(1);
    l[0].setPerms(31);
    l[0].initId().setScheme("world");
    l[0].getId().setId("anyone");
    a.initStat().setAversion(2);
  });
  r = s.expect();
  s.reply(peer, r->xid(), 1, 0, [](auto b) { b.initBody().setCount(42); });
  r = s.expect();
  s.reply(peer, r->xid(), 1, 0, [](auto b) {
    auto l = b.initBody().initWhoAmI(1);
    l[0].setScheme("ip");
    l[0].setId("127.0.0.1");
  });
  auto a = acl.get();
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value.acl, open_acl_unsafe());
  EXPECT_EQ(a.value.stat.aversion, 2);
  EXPECT_EQ(count.get().value, 42);
  auto w = who.get();
  ASSERT_EQ(w.value.size(), 1u);
  EXPECT_EQ(w.value[0].id, "127.0.0.1");
  c.detach();
}

TEST_F(ClientTest, RejectedCredentialEndsTheSession) {
  FakeServer s(*ctx);
  Client c(options(s.address()));
  std::string peer = handshake(s, c);
  auto auth = c.add_auth_future("digest", "broken");
  c.get_data_async("/after", logged<DataResult>("after"));
  auto r = s.expect();
  ASSERT_TRUE(r && r->request().getOp().isAddAuth());
  auto r2 = s.expect();  // the read queued behind the credential
  ASSERT_TRUE(r2);
  s.reply(peer, r->xid(), 1, -115);
  EXPECT_EQ(auth.get().err, Error::AUTHFAILED);
  EXPECT_TRUE(log.wait_for("session:AuthFailed"));
  EXPECT_TRUE(log.wait_for("after:AUTHFAILED"));
  EXPECT_EQ(c.state(), State::kAuthFailed);
  EXPECT_EQ(c.exists("/x").err, Error::AUTHFAILED);
}

TEST_F(ClientTest, CloseGivesUpAfterItsTimeout) {
  FakeServer s(*ctx);
  Client c(options(s.address()));
  handshake(s, c);
  EXPECT_EQ(c.close(50ms).err, Error::OPERATIONTIMEOUT);  // the server never answers
  EXPECT_EQ(c.state(), State::kClosed);
  EXPECT_TRUE(log.wait_for("session:Closed"));
}

TEST_F(ClientTest, SetWatchesIsSplitIntoBoundedMessages) {
  FakeServer a(*ctx), b(*ctx);
  Client c(options(a.address() + "," + b.address()));
  std::string peer = handshake(a, c);
  constexpr int kWatches = 3000;  // 3000 paths of ~100 bytes: more than one 128 KiB message
  const std::string pad(90, 'p');
  std::vector<std::future<Result<Stat>>> armed;
  for (int i = 0; i < kWatches; ++i) {
    armed.push_back(c.exists_future("/" + pad + std::to_string(i), watcher("w")));
  }
  for (int i = 0; i < kWatches; ++i) {
    auto r = a.expect();
    ASSERT_TRUE(r);
    a.reply(peer, r->xid(), 1, -101);
  }
  for (auto& f : armed)
    ASSERT_EQ(f.get().err, Error::NONODE);
  a.shut();
  auto conn = b.expect();
  ASSERT_TRUE(conn && conn->is_connect());
  b.accept(conn->peer(), 0x1234, 30000);
  std::size_t paths = 0;
  int messages = 0;
  while (paths < kWatches) {
    auto sw = b.expect();
    ASSERT_TRUE(sw && sw->request().getOp().isSetWatches());
    auto exist = sw->request().getOp().getSetWatches().getExist();
    std::size_t bytes = 0;
    for (auto t : exist)
      bytes += t.size();
    EXPECT_LE(bytes, 128u * 1024);
    paths += exist.size();
    ++messages;
    b.reply(conn->peer(), sw->xid(), 1, 0);
  }
  EXPECT_EQ(paths, static_cast<std::size_t>(kWatches));
  EXPECT_GE(messages, 3);
  c.detach();
}

}  // namespace
}  // namespace quorumlab::client
