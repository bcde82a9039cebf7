// End to end: the native client and `qlab shell` / `qlab bench` against a real `qlab server`
// (solo broadcast, wal storage without fsync) started as a child process on port 0.
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "process.hpp"
#include "quorumlab/client/client.hpp"

namespace quorumlab::client::e2e {
namespace {

using namespace std::chrono_literals;
constexpr auto kWait = 30s;

/// Events seen on a client's event thread, in order.
class EventLog {
 public:
  void add(std::string s) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(std::move(s));
    }
    cv_.notify_all();
  }
  /// Waits until `item` has been logged `times` times.
  bool wait_for(const std::string& item, int times = 1) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait,
                        [&] { return std::count(items_.begin(), items_.end(), item) >= times; });
  }
  int index(const std::string& item) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find(items_.begin(), items_.end(), item);
    return it == items_.end() ? -1 : static_cast<int>(it - items_.begin());
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> items_;
};

class ClientE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Short sessions for the expiry tests (the default minimum is ZooKeeper's 4 s).
    server_ = new ServerProcess({"--set", "min_session_timeout_ms=200"});
    ASSERT_TRUE(server_->ok()) << server_->error() << " (qlab: " << qlab_path() << ")";
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(server_ && server_->ok()); }

  /// A connected client; every test works below its own root /<test name>.
  std::unique_ptr<Client> connect(const std::string& suffix = "",
                                  std::chrono::milliseconds timeout = 10s,
                                  EventLog* log = nullptr) {
    Options o;
    o.connect = server_->address() + suffix;
    o.session_timeout = timeout;
    if (log) {
      o.session_watcher = [log](const WatchedEvent& e) {
        log->add(std::string("session:") + to_string(e.state));
      };
    }
    auto c = std::make_unique<Client>(o);
    EXPECT_TRUE(c->wait_connected(kWait)) << "cannot connect to " << o.connect;
    return c;
  }

  static std::string root() {
    return std::string("/") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  static ServerProcess* server_;
};

ServerProcess* ClientE2E::server_ = nullptr;

std::string event_str(const WatchedEvent& e) {
  return std::string(to_string(e.type)) + ":" + e.path;
}

TEST_F(ClientE2E, EveryOperation) {
  auto c = connect();
  const std::string r = root();
  ASSERT_TRUE(c->create(r, "").ok());

  // create: every mode.
  auto p = c->create(r + "/p", "data");
  ASSERT_TRUE(p.ok()) << error_name(p.err);
  EXPECT_EQ(p.value.path, r + "/p");
  EXPECT_EQ(p.value.stat.data_length, 4);
  EXPECT_EQ(c->create(r + "/p", "again").err, Error::NODEEXISTS);
  auto s1 = c->create(r + "/seq-", "", CreateMode::kPersistentSequential);
  auto s2 = c->create(r + "/seq-", "", CreateMode::kPersistentSequential);
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_LT(s1.value.path, s2.value.path);
  EXPECT_EQ(s1.value.path.size(), (r + "/seq-").size() + 10);
  auto e = c->create(r + "/eph", "", CreateMode::kEphemeral);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.value.stat.ephemeral_owner, c->session_id());
  EXPECT_EQ(c->create(r + "/eph/child", "").err, Error::NOCHILDRENFOREPHEMERALS);
  EXPECT_TRUE(c->create(r + "/eseq-", "", CreateMode::kEphemeralSequential).ok());
  EXPECT_TRUE(c->create(r + "/container", "", CreateMode::kContainer).ok());
  auto ttl = c->create(r + "/ttl", "", CreateMode::kPersistentWithTtl, open_acl_unsafe(), 60000);
  EXPECT_TRUE(ttl.ok() || ttl.err == Error::UNIMPLEMENTED) << error_name(ttl.err);

  // exists / getData / setData with versions.
  auto st = c->exists(r + "/p");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(c->exists(r + "/none").err, Error::NONODE);
  auto d = c->get_data(r + "/p");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.value.data, "data");
  EXPECT_EQ(d.value.stat, st.value);
  auto set = c->set_data(r + "/p", "v2", 0);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set.value.version, 1);
  EXPECT_EQ(c->set_data(r + "/p", "v3", 0).err, Error::BADVERSION);
  EXPECT_GE(c->last_zxid(), set.value.mzxid);

  // ACLs and auth.
  auto acl = c->get_acl(r + "/p");
  ASSERT_TRUE(acl.ok());
  EXPECT_EQ(acl.value.acl, open_acl_unsafe());
  EXPECT_TRUE(c->set_acl(r + "/p", read_acl_unsafe(), 0).ok());
  EXPECT_EQ(c->set_data(r + "/p", "v4").err, Error::NOAUTH);
  EXPECT_TRUE(c->add_auth("digest", "alice:secret").ok());
  auto who = c->who_am_i();
  ASSERT_TRUE(who.ok());
  bool alice = false;
  // ZooKeeper reports the digest provider's user name (AuthUtil.getClientInfos): "alice".
  for (const auto& id : who.value)
    alice = alice || (id.scheme == "digest" && id.id == "alice");
  EXPECT_TRUE(alice) << [&] {
    std::string s;
    for (const auto& id : who.value)
      s += id.scheme + "=" + id.id + " ";
    return s;
  }();
  EXPECT_TRUE(c->create(r + "/mine", "", CreateMode::kPersistent, creator_all_acl()).ok());
  auto other = connect();
  EXPECT_EQ(other->get_data(r + "/mine").err, Error::NOAUTH);
  EXPECT_TRUE(c->get_data(r + "/mine").ok());

  // getChildren, counts, ephemerals, sync_op, check.
  auto kids = c->get_children(r);
  ASSERT_TRUE(kids.ok());
  EXPECT_EQ(kids.value.stat.num_children, static_cast<std::int32_t>(kids.value.children.size()));
  EXPECT_NE(std::find(kids.value.children.begin(), kids.value.children.end(), "p"),
            kids.value.children.end());
  auto count = c->get_all_children_number(r);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count.value, static_cast<std::int64_t>(kids.value.children.size()));
  auto eph = c->get_ephemerals(r);
  ASSERT_TRUE(eph.ok());
  EXPECT_EQ(eph.value.size(), 2u);
  EXPECT_TRUE(other->get_ephemerals(r).value.empty());
  auto synced = c->sync_op(r);
  ASSERT_TRUE(synced.ok());
  EXPECT_EQ(synced.value, r);
  EXPECT_TRUE(c->check(r + "/p", 1).ok());
  EXPECT_EQ(c->check(r + "/p", 7).err, Error::BADVERSION);

  // multi: all or nothing; multiRead.
  auto m =
      c->multi({Op::create(r + "/m1", "a"), Op::set_data(r + "/m1", "b"), Op::check(r + "/p", 1)});
  ASSERT_TRUE(m.ok()) << error_name(m.err);
  ASSERT_EQ(m.value.size(), 3u);
  EXPECT_EQ(m.value[0].path, r + "/m1");
  EXPECT_EQ(m.value[1].stat.version, 1);
  auto bad = c->multi({Op::create(r + "/m2", ""), Op::remove(r + "/none")});
  EXPECT_EQ(bad.err, Error::NONODE);
  ASSERT_EQ(bad.value.size(), 2u);
  EXPECT_EQ(c->exists(r + "/m2").err, Error::NONODE);  // nothing applied
  auto mr = c->multi_read({Op::get_data(r + "/m1"), Op::get_children(r), Op::get_data(r + "/x")});
  ASSERT_TRUE(mr.ok());
  ASSERT_EQ(mr.value.size(), 3u);
  EXPECT_EQ(mr.value[0].data, "b");
  EXPECT_FALSE(mr.value[1].children.empty());
  EXPECT_EQ(mr.value[2].err, Error::NONODE);

  // Watches: check, remove, add.
  EventLog log;
  auto w = [&log](const WatchedEvent& ev) { log.add(event_str(ev)); };
  ASSERT_TRUE(c->get_data(r + "/m1", w).ok());
  EXPECT_TRUE(c->check_watches(r + "/m1", WatcherType::kData).ok());
  EXPECT_EQ(c->check_watches(r + "/m1", WatcherType::kChildren).err, Error::NOWATCHER);
  EXPECT_TRUE(c->remove_watches(r + "/m1", WatcherType::kData).ok());
  EXPECT_TRUE(log.wait_for("DataWatchRemoved:" + r + "/m1"));
  ASSERT_TRUE(c->add_watch(r, AddWatchMode::kPersistentRecursive, w).ok());
  ASSERT_TRUE(other->create(r + "/m1/deep", "").ok());
  EXPECT_TRUE(log.wait_for("NodeCreated:" + r + "/m1/deep"));
  ASSERT_TRUE(other->remove(r + "/m1/deep").ok());
  EXPECT_TRUE(log.wait_for("NodeDeleted:" + r + "/m1/deep"));
  EXPECT_TRUE(c->remove_watches(r, WatcherType::kAny).ok());

  // delete with versions; close.
  EXPECT_EQ(c->remove(r + "/m1", 5).err, Error::BADVERSION);
  EXPECT_TRUE(c->remove(r + "/m1", 1).ok());
  EXPECT_EQ(c->remove(r).err, Error::NOTEMPTY);
  EXPECT_TRUE(c->close().ok());
  EXPECT_EQ(c->state(), State::kClosed);
  EXPECT_EQ(other->exists(r + "/eph").err, Error::NONODE);  // closing removed the ephemerals
}

TEST_F(ClientE2E, ChrootHidesThePrefix) {
  auto c = connect();
  const std::string r = root();
  ASSERT_TRUE(c->create(r, "").ok());
  auto jailed = connect(r);
  auto created = jailed->create("/inside", "x", CreateMode::kEphemeralSequential);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created.value.path.rfind("/inside", 0), 0u);
  EXPECT_TRUE(c->exists(r + created.value.path).ok());
  EXPECT_EQ(jailed->get_children("/").value.children.size(), 1u);
  EXPECT_EQ(jailed->get_ephemerals("/").value, std::vector<std::string>{created.value.path});
  EventLog log;
  ASSERT_TRUE(
      jailed->exists("/later", [&log](const WatchedEvent& e) { log.add(event_str(e)); }).err ==
      Error::NONODE);
  ASSERT_TRUE(c->create(r + "/later", "").ok());
  EXPECT_TRUE(log.wait_for("NodeCreated:/later"));
}

TEST_F(ClientE2E, WatchFiresBeforeTheReplyThatShowsTheChange) {
  auto a = connect();
  auto b = connect();
  const std::string r = root();
  ASSERT_TRUE(a->create(r, "old").ok());

  // Another session writes; this session keeps reading until it sees the new value. The first
  // read that shows it must come after the watcher ran (ZooKeeper's watch-before-data).
  std::atomic<bool> fired{false};
  ASSERT_TRUE(a->get_data(r, [&fired](const WatchedEvent&) { fired = true; }).ok());
  ASSERT_TRUE(b->set_data(r, "new").ok());
  std::promise<bool> saw_new;
  std::function<void(Result<DataResult>)> poll = [&](Result<DataResult> res) {
    if (res.ok() && res.value.data == "new") {
      saw_new.set_value(fired.load());
    } else {
      a->get_data_async(r, poll);
    }
  };
  a->get_data_async(r, poll);
  auto f = saw_new.get_future();
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(f.get()) << "the new data was seen before the watch event";

  // The session's own write: the notification comes before the write's reply.
  EventLog log;
  ASSERT_TRUE(a->exists(r, [&log](const WatchedEvent& e) { log.add(event_str(e)); }).ok());
  a->set_data_async(r, "mine", -1, [&log](Result<Stat> res) {
    log.add(std::string("reply:") + error_name(res.err));
  });
  ASSERT_TRUE(log.wait_for("reply:OK"));
  EXPECT_GE(log.index("NodeDataChanged:" + r), 0);
  EXPECT_LT(log.index("NodeDataChanged:" + r), log.index("reply:OK"));
}

TEST_F(ClientE2E, PipelinedRequestsCompleteInOrder) {
  auto c = connect();
  const std::string r = root();
  ASSERT_TRUE(c->create(r, "").ok());
  constexpr int kN = 2000;
  std::vector<std::string> order;  // appended on the event thread only
  std::promise<void> done;
  for (int i = 0; i < kN; ++i) {
    if (i % 2 == 0) {
      c->create_async(r + "/n-", std::to_string(i), CreateMode::kPersistentSequential,
                      open_acl_unsafe(), 0, [&, i](Result<Created> res) {
                        order.push_back(res.ok() ? "c" + std::to_string(i) + res.value.path
                                                 : std::string(error_name(res.err)));
                        if (order.size() == kN) done.set_value();
                      });
    } else {
      c->get_children_async(r, [&, i](Result<ChildrenResult> res) {
        order.push_back("l" + std::to_string(i) + ":" + std::to_string(res.value.children.size()));
        if (order.size() == kN) done.set_value();
      });
    }
  }
  ASSERT_EQ(done.get_future().wait_for(kWait), std::future_status::ready);
  std::string last_path;
  for (int i = 0; i < kN; ++i) {
    if (i % 2 == 0) {
      ASSERT_EQ(order[i].rfind("c" + std::to_string(i), 0), 0u) << order[i];
      std::string path = order[i].substr(1 + std::to_string(i).size());
      EXPECT_GT(path, last_path);  // sequence numbers follow the request order
      last_path = path;
    } else {
      // FIFO per session: the listing after the k-th create sees exactly k+1 children.
      EXPECT_EQ(order[i], "l" + std::to_string(i) + ":" + std::to_string(i / 2 + 1));
    }
  }
}

TEST_F(ClientE2E, SessionExpiryRemovesEphemerals) {
  auto observer = connect();
  const std::string r = root();
  ASSERT_TRUE(observer->create(r, "").ok());
  EventLog log;
  auto doomed = connect("", 1000ms, &log);
  ASSERT_TRUE(doomed->create(r + "/eph", "", CreateMode::kEphemeral).ok());
  std::int64_t id = doomed->session_id();
  std::string passwd = doomed->session_passwd();

  EventLog seen;
  ASSERT_TRUE(
      observer->exists(r + "/eph", [&seen](const WatchedEvent& e) { seen.add(event_str(e)); })
          .ok());
  doomed->detach();  // silent: no closeSession, so the cluster must expire the session
  EXPECT_TRUE(seen.wait_for("NodeDeleted:" + r + "/eph"));
  EXPECT_EQ(observer->exists(r + "/eph").err, Error::NONODE);

  // Resuming the expired session ends in Expired.
  EventLog resumed_log;
  Options o;
  o.connect = server_->address();
  o.session_timeout = 1000ms;
  o.session_id = id;
  o.passwd = passwd;
  o.session_watcher = [&resumed_log](const WatchedEvent& e) {
    resumed_log.add(std::string("session:") + to_string(e.state));
  };
  Client resumed(o);
  EXPECT_TRUE(resumed_log.wait_for("session:Expired"));
  EXPECT_EQ(resumed.state(), State::kExpired);
  EXPECT_EQ(resumed.get_data(r).err, Error::SESSIONEXPIRED);
}

TEST_F(ClientE2E, ResumedSessionKeepsItsEphemerals) {
  auto first = connect("", 10s);
  const std::string r = root();
  ASSERT_TRUE(first->create(r, "").ok());
  ASSERT_TRUE(first->create(r + "/eph", "", CreateMode::kEphemeral).ok());
  std::int64_t id = first->session_id();
  std::string passwd = first->session_passwd();
  first->detach();
  Options o;
  o.connect = server_->address();
  o.session_id = id;
  o.passwd = passwd;
  Client second(o);
  ASSERT_TRUE(second.wait_connected(kWait));
  EXPECT_EQ(second.session_id(), id);
  EXPECT_EQ(second.get_ephemerals(r).value, std::vector<std::string>{r + "/eph"});
  EXPECT_TRUE(second.close().ok());
}

TEST(ServerRestart, SessionAndWatchesSurviveARestart) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << server.error();
  EventLog log;
  Options o;
  o.connect = server.address();
  o.session_timeout = 30s;
  o.session_watcher = [&log](const WatchedEvent& e) {
    log.add(std::string("session:") + to_string(e.state));
  };
  Client c(o);
  ASSERT_TRUE(c.wait_connected(kWait));
  ASSERT_TRUE(c.create("/r", "").ok());
  ASSERT_TRUE(c.create("/r/eph", "", CreateMode::kEphemeral).ok());
  auto w = [&log](const WatchedEvent& e) { log.add(event_str(e)); };
  ASSERT_EQ(c.exists("/r/later", w).err, Error::NONODE);
  ASSERT_TRUE(c.get_children("/r", w).ok());
  std::int64_t session = c.session_id();

  ASSERT_TRUE(server.restart()) << server.error();  // kill -9, same port and data directory
  EXPECT_TRUE(log.wait_for("session:Disconnected"));
  EXPECT_TRUE(log.wait_for("session:SyncConnected", 2));
  EXPECT_EQ(c.session_id(), session);
  EXPECT_TRUE(c.exists("/r/eph").ok());

  // The watches were re-sent with setWatches: a change made after the restart fires them.
  Options other_o;
  other_o.connect = server.address();
  Client other(other_o);
  ASSERT_TRUE(other.create("/r/later", "").ok());
  EXPECT_TRUE(log.wait_for("NodeCreated:/r/later"));
  EXPECT_TRUE(log.wait_for("NodeChildrenChanged:/r"));
}

// ---- qlab shell -c -----------------------------------------------------------------------

class ShellE2E : public ClientE2E {
 protected:
  CommandResult shell(const std::string& command) {
    return run_qlab({"shell", "--connect", server_->address(), "-c", command});
  }
};

TEST_F(ShellE2E, OneShotCommandsAndExitCodes) {
  const std::string r = root();
  auto res = shell("create " + r + " top");
  EXPECT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(res.out, "Created " + r + "\n");
  res = shell("create " + r + "/a 'hello world'");
  EXPECT_EQ(res.exit_code, 0) << res.err;
  res = shell("get " + r + "/a");
  EXPECT_EQ(res.exit_code, 0);
  EXPECT_EQ(res.out, "hello world\n");
  res = shell("get -s " + r + "/a");
  EXPECT_NE(res.out.find("dataVersion = 0\n"), std::string::npos) << res.out;
  EXPECT_NE(res.out.find("dataLength = 11\n"), std::string::npos) << res.out;
  res = shell("set -v 0 " + r + "/a bye");
  EXPECT_EQ(res.exit_code, 0) << res.err;
  res = shell("set -v 0 " + r + "/a again");
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.err.find("BADVERSION"), std::string::npos) << res.err;
  res = shell("stat " + r + "/a");
  EXPECT_NE(res.out.find("dataVersion = 1\n"), std::string::npos) << res.out;
  res = shell("create -s " + r + "/s- x");
  EXPECT_EQ(res.exit_code, 0);
  EXPECT_EQ(res.out.rfind("Created " + r + "/s-00000000", 0), 0u) << res.out;
  res = shell("ls " + r);
  EXPECT_EQ(res.exit_code, 0);
  EXPECT_EQ(res.out.rfind("[a, s-00000000", 0), 0u) << res.out;
  res = shell("ls -R " + r);
  EXPECT_EQ(res.out.rfind(r + "\n" + r + "/a\n", 0), 0u) << res.out;
  res = shell("getAllChildrenNumber " + r);
  EXPECT_EQ(res.out, "2\n");
  res = shell("getAcl " + r + "/a");
  EXPECT_EQ(res.out, "'world,'anyone\n: cdrwa\n");
  res = shell("setAcl " + r + "/a world:anyone:r");
  EXPECT_EQ(res.exit_code, 0) << res.err;
  res = shell("set " + r + "/a denied");
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.err.find("Insufficient permission"), std::string::npos) << res.err;
  EXPECT_NE(res.err.find("NOAUTH"), std::string::npos) << res.err;
  res = shell("sync " + r);
  EXPECT_EQ(res.out, "Sync is OK\n");
  res = shell("get " + r + "/missing");
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.err.find("Node does not exist: " + r + "/missing"), std::string::npos) << res.err;
  EXPECT_NE(res.err.find("NONODE"), std::string::npos);
  res = shell("delete " + r);
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.err.find("NOTEMPTY"), std::string::npos) << res.err;
  res = shell("deleteall " + r);
  EXPECT_EQ(res.exit_code, 0) << res.err;
  res = shell("stat " + r);
  EXPECT_EQ(res.exit_code, 1);
  res = shell("create -e " + r + "-eph x");  // gone when the one-shot session closes
  EXPECT_EQ(res.exit_code, 0);
  EXPECT_EQ(shell("stat " + r + "-eph").exit_code, 1);
  res = shell("addauth digest bob:pw");
  EXPECT_EQ(res.exit_code, 0) << res.err;
  res = shell("whoami");
  EXPECT_EQ(res.out.rfind("Auth scheme: User\n", 0), 0u) << res.out;
  res = shell("removewatches /nothing -d");
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.err.find("NOWATCHER"), std::string::npos) << res.err;
  res = shell("getEphemerals /");
  EXPECT_EQ(res.out, "[]\n");
  res = shell("frobnicate /a");
  EXPECT_EQ(res.exit_code, 2);
  res = shell("get");
  EXPECT_EQ(res.exit_code, 2);
  EXPECT_NE(res.err.find("usage: get [-s] [-w] path"), std::string::npos) << res.err;
  res = shell("help");
  EXPECT_EQ(res.exit_code, 0);
  EXPECT_NE(res.out.find("getAllChildrenNumber path"), std::string::npos);
}

TEST_F(ShellE2E, FlagsOfEveryCommand) {
  const std::string r = root();
  ASSERT_EQ(shell("create " + r + " top").exit_code, 0);
  // create: container (-c), TTL (-t), and the combinations ZooKeeper's shell refuses.
  auto res = shell("create -c " + r + "/ctr");
  EXPECT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(res.out, "Created " + r + "/ctr\n");
  res = shell("create -t 600000 " + r + "/ttl x");
  EXPECT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(shell("stat " + r + "/ttl").exit_code, 0);
  res = shell("create -t soon " + r + "/bad x");
  EXPECT_EQ(res.exit_code, 2);
  EXPECT_NE(res.err.find("bad ttl"), std::string::npos) << res.err;
  res = shell("create -c -s " + r + "/bad");
  EXPECT_EQ(res.exit_code, 2) << res.err;
  res = shell("create -e -t 5 " + r + "/bad");
  EXPECT_EQ(res.exit_code, 2);
  EXPECT_NE(res.err.find("TTLs cannot be used with ephemeral nodes"), std::string::npos) << res.err;
  EXPECT_EQ(shell("stat " + r + "/bad").exit_code, 1) << "a refused create made nothing";
  res = shell("create -t 0 " + r + "/bad x");  // the server checks the range
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.err.find("BADARGUMENTS"), std::string::npos) << res.err;

  // ls -s: the children, then the parent's stat.
  res = shell("ls -s " + r);
  EXPECT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(res.out.rfind("[ctr, ttl]\n", 0), 0u) << res.out;
  EXPECT_NE(res.out.find("numChildren = 2\n"), std::string::npos) << res.out;
  EXPECT_NE(res.out.find("cversion = 2\n"), std::string::npos) << res.out;

  // delete -v and setAcl -v check the version.
  ASSERT_EQ(shell("create " + r + "/v x").exit_code, 0);
  res = shell("delete -v 3 " + r + "/v");
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.err.find("BADVERSION"), std::string::npos) << res.err;
  res = shell("setAcl -v 1 " + r + "/v world:anyone:cdrwa");
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.err.find("BADVERSION"), std::string::npos) << res.err;
  res = shell("setAcl -v 0 " + r + "/v world:anyone:cdrw");
  EXPECT_EQ(res.exit_code, 0) << res.err;
  res = shell("getAcl -s " + r + "/v");
  EXPECT_NE(res.out.find("'world,'anyone\n: cdrw\n"), std::string::npos) << res.out;
  EXPECT_NE(res.out.find("aclVersion = 1\n"), std::string::npos) << res.out;
  res = shell("delete -v x " + r + "/v");
  EXPECT_EQ(res.exit_code, 2) << res.err;
  res = shell("delete -v 0 " + r + "/v");
  EXPECT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(shell("stat " + r + "/v").exit_code, 1);
  res = shell("addWatch -m SOMETIMES " + r);
  EXPECT_EQ(res.exit_code, 2);
  EXPECT_NE(res.err.find("mode must be PERSISTENT or PERSISTENT_RECURSIVE"), std::string::npos)
      << res.err;

  // Watches need a session that outlives one command: a script on standard input, one session.
  // A watcher prints before the reply of the command that fired it completes (the client's
  // event thread runs callbacks in message order), so the order of the lines is fixed.
  const std::vector<std::string> commands = {
      "create @/w one",
      "get -w @/w",
      "set @/w two",
      "set @/w three",  // a one-shot watch fires once
      "stat -w @/later",
      "create @/later x",
      "ls -w @",
      "create @/kid x",
      "addWatch -m PERSISTENT @/w",
      "set @/w four",
      "set @/w five",
      "removewatches @/w -p",
      "set @/w six",
      "addWatch @/ctr",  // PERSISTENT_RECURSIVE
      "create @/ctr/deep x",
      "set @/ctr/deep y",
      "removewatches @/ctr",
      "removewatches @/ctr",
  };
  std::string script;
  for (std::string c : commands) {
    for (auto at = c.find('@'); at != std::string::npos; at = c.find('@'))
      c.replace(at, 1, r);
    script += c + "\n";
  }
  res = run_qlab({"shell", "--connect", server_->address()}, script);
  EXPECT_EQ(res.exit_code, 1) << "the last command fails: " << res.err;
  EXPECT_NE(res.err.find("NOWATCHER"), std::string::npos) << res.err;
  std::vector<std::string> events;
  std::istringstream lines(res.out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("WatchedEvent", 0) == 0 && line.find("type:None") == std::string::npos)
      events.push_back(line);
  const std::string p = "WatchedEvent state:SyncConnected type:";
  EXPECT_EQ(events, (std::vector<std::string>{
                        p + "NodeDataChanged path:" + r + "/w",
                        p + "NodeCreated path:" + r + "/later",
                        p + "NodeChildrenChanged path:" + r,
                        p + "NodeDataChanged path:" + r + "/w",
                        p + "NodeDataChanged path:" + r + "/w",
                        // removeWatches tells the removed watcher, as ZooKeeper's client does
                        p + "PersistentWatchRemoved path:" + r + "/w",
                        p + "NodeCreated path:" + r + "/ctr/deep",
                        p + "NodeDataChanged path:" + r + "/ctr/deep",
                        p + "PersistentWatchRemoved path:" + r + "/ctr",
                    }))
      << res.out;
}

TEST_F(ShellE2E, BenchReportsJson) {
  auto res = run_qlab({"bench",
                       "--connect",
                       server_->address(),
                       "--sessions",
                       "2",
                       "--outstanding",
                       "8",
                       "--keys",
                       "20",
                       "--value-bytes",
                       "100",
                       "--read-pct",
                       "50",
                       "--duration",
                       "1",
                       "--warmup",
                       "0",
                       "--root",
                       "/bench-e2e",
                       "--json"});
  ASSERT_EQ(res.exit_code, 0) << res.err;
  auto j = nlohmann::json::parse(res.out);
  EXPECT_GT(j["ops_per_s"].get<double>(), 0);
  EXPECT_GT(j["reads_per_s"].get<double>(), 0);
  EXPECT_GT(j["writes_per_s"].get<double>(), 0);
  EXPECT_GT(j["latency_us"]["p50"].get<double>(), 0);
  EXPECT_LE(j["latency_us"]["p50"].get<double>(), j["latency_us"]["p999"].get<double>());
  EXPECT_TRUE(j["errors"].empty()) << j["errors"].dump();
  EXPECT_EQ(j["sessions"], 2);
  EXPECT_EQ(j["outstanding"], 8);
  EXPECT_EQ(j["read_pct"], 50);
  EXPECT_EQ(j["value_bytes"], 100);
  EXPECT_NE(res.err.find("ops/s"), std::string::npos);  // per-second lines on stderr
  // --protocol zookeeper needs a ZooKeeper front-end, which this fixture's server lacks: it is
  // tested against real ones in harness/tests_zk/test_bench.py.
}

}  // namespace
}  // namespace quorumlab::client::e2e
