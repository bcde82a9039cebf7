// Sessions across servers, on a scripted in-process cluster: production Nodes with the zab
// plugin and memory storage, a FIFO network the test delivers, and a clock the test moves one
// 10 ms tick at a time. No sockets, no threads, no sleeps: every run is the same run.
//
// What it checks (issue 5): the leader's kernel tracks sessions from the liveness reports
// (TOUCH envelopes) that followers and observers send it every tick
// (Node::report_session_touches, the TOUCH case of Node::on_peer_message), expires a session
// nobody touched within its timeout and proposes closeSession (Node::leader_duties), and a
// node that becomes leader gives every session a fresh timeout (Node::on_status_change).
// Issue 18: a node that leaves the quorum closes its client connections and refuses new ones
// until it rejoins, so its clients reconnect (KeepAlive) to keep their sessions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "../src/internal.hpp"
#include "quorumlab/log.hpp"

using namespace quorumlab;
using namespace quorumlab::node;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kTickMs = 10;
constexpr std::int32_t kTimeoutMs = 1000;  ///< every session's (negotiated) timeout

class ScriptedCluster;

/// One replica's environment: its peer sends go into the cluster's network queue.
struct Member final : NodeEnv {
  Member(ScriptedCluster& c, NodeId i) : cluster(c), id(i) {}
  void send_peer(NodeId to, Bytes bytes) override;
  void send_client(ConnId conn, Bytes bytes) override { out[conn].push_back(std::move(bytes)); }
  void close_client(ConnId conn) override { closed.insert(conn); }
  std::int64_t now_ms() override;
  std::int64_t wall_ms() override { return 1'700'000'000'000 + now_ms(); }

  ScriptedCluster& cluster;
  const NodeId id;
  std::unique_ptr<Node> node;  ///< null while crashed
  bool isolated = false;       ///< every peer message to or from it is lost
  std::map<ConnId, std::vector<Bytes>> out;
  std::set<ConnId> closed;
};

class ScriptedCluster {
 public:
  ScriptedCluster(int voters, int observers, NodeOptions options = {},
                  std::vector<std::string> settings = {})
      : options_(std::move(options)), settings_(std::move(settings)) {
    dir_ = fs::temp_directory_path() /
           ("ql_session_cluster_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    loader_ = std::make_unique<PluginLoader>(PluginLoader::default_dir());
    for (int i = 1; i <= voters + observers; ++i) {
      if (i > 1) peers_ += ",";
      peers_ += std::to_string(i) + "@127.0.0.1:" + std::to_string(7100 + i);
      if (i > voters) peers_ += ":observer";
      members_.push_back(std::make_unique<Member>(*this, static_cast<NodeId>(i)));
    }
    for (auto& m : members_)
      start(m->id);
  }
  ~ScriptedCluster() {
    for (auto& m : members_)
      m->node.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static int& counter() {
    static int c = 0;
    return c;
  }

  std::int64_t now() const { return now_; }
  std::size_t largest_peer_message = 0;  ///< bytes of the largest peer message sent
  Member& member(NodeId id) { return *members_.at(id - 1); }
  Node& node(NodeId id) { return *member(id).node; }
  std::vector<NodeId> up() const {
    std::vector<NodeId> ids;
    for (const auto& m : members_)
      if (m->node) ids.push_back(m->id);
    return ids;
  }

  void start(NodeId id) {
    std::vector<std::string> settings = {"id=" + std::to_string(id),
                                         "data_dir=" + (dir_ / std::to_string(id)).string(),
                                         "storage=memory",
                                         "broadcast=zab",
                                         "peers=" + peers_,
                                         "tick_ms=" + std::to_string(kTickMs),
                                         "min_session_timeout_ms=100",
                                         "max_session_timeout_ms=60000"};
    settings.insert(settings.end(), settings_.begin(), settings_.end());
    auto cfg = load_config(std::nullopt, settings);
    Member& m = member(id);
    m.node = std::make_unique<Node>(cfg, *loader_, m, tracer_, options_);
    m.node->set_storage_waker([] {});  // memory storage is durable at once; pump() polls
  }
  /// kill -9: the node and its messages are gone; peers see the connection drop, as the
  /// runtime's disconnect monitor reports it.
  void crash(NodeId id) {
    member(id).node.reset();
    for (NodeId other : up())
      node(other).on_peer_disconnected(id);
  }
  void isolate(NodeId id, bool on) { member(id).isolated = on; }

  void send(NodeId from, NodeId to, Bytes bytes) {
    largest_peer_message = std::max(largest_peer_message, bytes.size());
    if (member(from).isolated || member(to).isolated) return;
    net_.push_back({from, to, std::move(bytes)});
  }

  /// Runs every node and delivers messages until nothing more is in flight.
  void pump() {
    for (std::size_t delivered = 0;;) {
      for (NodeId id : up()) {
        node(id).on_storage_wakeup();
        node(id).process();
      }
      if (net_.empty()) return;
      while (!net_.empty()) {
        Packet p = std::move(net_.front());
        net_.pop_front();
        Member& to = member(p.to);
        if (!to.node || to.isolated || member(p.from).isolated) continue;
        to.node->on_peer_message(p.bytes.data(), p.bytes.size());
        to.node->process();
        ASSERT_LT(++delivered, 10'000'000u) << "the network never went quiet";
      }
    }
  }

  /// Moves the clock by `ms`, one tick at a time (every up node ticks, then the network runs).
  /// `each_tick` runs after every tick (clients act there).
  /// One tick for `id` alone, without letting it process what follows (its plugin moves on,
  /// the node has not yet handled the change).
  void tick_only(NodeId id) {
    now_ += kTickMs;
    node(id).on_tick();
  }
  void run_for(std::int64_t ms, const std::function<void()>& each_tick = {}) {
    for (std::int64_t t = 0; t < ms; t += kTickMs) {
      now_ += kTickMs;
      for (NodeId id : up())
        node(id).on_tick();
      pump();
      if (each_tick) each_tick();
    }
  }

  /// The leader that can propose, if every up, reachable node agrees on it; 0 otherwise.
  NodeId agreed_leader() {
    NodeId leader = 0;
    for (NodeId id : up()) {
      if (member(id).isolated) continue;
      BroadcastStatus s = node(id).status();
      if (s.role == Role::leader && s.can_propose) leader = id;
    }
    if (leader == 0) return 0;
    for (NodeId id : up()) {
      if (member(id).isolated) continue;
      BroadcastStatus s = node(id).status();
      if (s.leader != leader) return 0;
      if (id != leader && s.role != Role::follower && s.role != Role::learner) return 0;
    }
    return leader;
  }
  /// Runs ticks until a leader is agreed (simulated-time deadline). Returns it, 0 on timeout.
  NodeId wait_for_leader(std::int64_t max_ms = 10'000, const std::function<void()>& each = {}) {
    for (std::int64_t t = 0; t <= max_ms; t += kTickMs) {
      if (NodeId l = agreed_leader()) return l;
      run_for(kTickMs, each);
    }
    return 0;
  }

  // ---- a client speaking the native protocol on connection `conn` of node `at`

  void client_send(NodeId at, ConnId conn, capnp::MallocMessageBuilder& msg) {
    Bytes b = to_bytes(msg);
    node(at).on_client_message(conn, b.data(), b.size(), "127.0.0.1:5555");
    pump();
  }
  /// Opens a new session, or with `session` moves that session to `conn`; returns its id
  /// (0 if refused).
  SessionId connect(NodeId at, ConnId conn, SessionId session = 0, bool read_only = false) {
    capnp::MallocMessageBuilder m;
    auto c = m.initRoot<proto::ClientMessage>().initConnect();
    c.setProtocolVersion(1);
    c.setReadOnly(read_only);
    c.setTimeoutMs(kTimeoutMs);
    c.setSessionId(session);
    Bytes pw = session != 0 ? session_password(session) : Bytes(16);
    c.setPasswd(kj::arrayPtr(pw.data(), pw.size()));
    client_send(at, conn, m);
    for (auto& b : member(at).out[conn]) {
      CapnpReader r(b.data(), b.size(), 1 << 26);
      auto msg = r.root<proto::ServerMessage>();
      if (msg.isConnectResponse() && msg.getConnectResponse().getErr() == 0) {
        EXPECT_EQ(msg.getConnectResponse().getTimeoutMs(), kTimeoutMs);
        return static_cast<SessionId>(msg.getConnectResponse().getSessionId());
      }
    }
    return 0;
  }
  void ping(NodeId at, ConnId conn) {
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<proto::ClientMessage>().initRequest();
    r.setXid(-2);
    r.initOp().setPing();
    client_send(at, conn, m);
  }
  /// Creates an ephemeral znode; returns the error code of the reply (-1: no reply).
  int create_ephemeral(NodeId at, ConnId conn, const std::string& path,
                       const std::string& data = "") {
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<proto::ClientMessage>().initRequest();
    r.setXid(++xid_);
    auto c = r.initOp().initCreate();
    c.setPath(path);
    c.setData(kj::arrayPtr(reinterpret_cast<const capnp::byte*>(data.data()), data.size()));
    c.setMode(static_cast<int>(CreateMode::kEphemeral));
    auto acl = c.initAcl(1);
    acl[0].setPerms(31);
    acl[0].initId().setScheme("world");
    acl[0].getId().setId("anyone");
    client_send(at, conn, m);
    for (auto& b : member(at).out[conn]) {
      CapnpReader rd(b.data(), b.size(), 1 << 26);
      auto msg = rd.root<proto::ServerMessage>();
      if (msg.isResponse() && msg.getResponse().getXid() == xid_) return msg.getResponse().getErr();
    }
    return -1;
  }
  /// True if the server told the connection it is closing it and closed it.
  bool told_closed(NodeId at, ConnId conn) {
    Member& m = member(at);
    if (m.closed.count(conn) == 0 || m.out[conn].empty()) return false;
    auto& b = m.out[conn].back();
    CapnpReader r(b.data(), b.size(), 1 << 26);
    return r.root<proto::ServerMessage>().isClosing();
  }
  /// The reason the server gave when it closed the connection ("" if it did not).
  std::string closing_reason(NodeId at, ConnId conn) {
    if (!told_closed(at, conn)) return "";
    auto& b = member(at).out[conn].back();
    CapnpReader r(b.data(), b.size(), 1 << 26);
    return r.root<proto::ServerMessage>().getClosing().cStr();
  }
  /// The readOnly flag of the connect response on `conn`.
  bool read_only_session(NodeId at, ConnId conn) {
    for (auto& b : member(at).out[conn]) {
      CapnpReader r(b.data(), b.size(), 1 << 26);
      auto msg = r.root<proto::ServerMessage>();
      if (msg.isConnectResponse()) return msg.getConnectResponse().getReadOnly();
    }
    return false;
  }
  /// True if the last message on `conn` is the reply to a ping.
  bool ping_answered(NodeId at, ConnId conn) {
    auto& out = member(at).out[conn];
    if (out.empty()) return false;
    CapnpReader r(out.back().data(), out.back().size(), 1 << 26);
    auto msg = r.root<proto::ServerMessage>();
    return msg.isResponse() && msg.getResponse().getXid() == -2;
  }
  /// The error code and message of the last connect response on `conn` (-1000: none).
  std::pair<int, std::string> connect_refusal(NodeId at, ConnId conn) {
    for (auto& b : member(at).out[conn]) {
      CapnpReader r(b.data(), b.size(), 1 << 26);
      auto msg = r.root<proto::ServerMessage>();
      if (msg.isConnectResponse()) {
        return {msg.getConnectResponse().getErr(), msg.getConnectResponse().getMessage().cStr()};
      }
    }
    return {-1000, ""};
  }

  // ---- replica state

  /// Number of up replicas that know the session.
  int replicas_with_session(SessionId s) {
    int n = 0;
    for (NodeId id : up())
      n += node(id).tree().has_session(s);
    return n;
  }
  int replicas_with_znode(const std::string& path) {
    int n = 0;
    for (NodeId id : up())
      n += node(id).tree().exists(path, sm::AuthInfo{}, nullptr) == sm::Err::OK;
    return n;
  }

 private:
  friend struct Member;
  struct Packet {
    NodeId from;
    NodeId to;
    Bytes bytes;
  };
  NodeOptions options_;
  std::vector<std::string> settings_;  ///< extra server settings, KEY=VALUE
  fs::path dir_;
  std::string peers_;
  std::unique_ptr<PluginLoader> loader_;
  NullTracer tracer_;
  std::vector<std::unique_ptr<Member>> members_;
  std::deque<Packet> net_;
  std::int64_t now_ = 1000;
  std::int32_t xid_ = 0;
};

void Member::send_peer(NodeId to, Bytes bytes) {
  cluster.send(id, to, std::move(bytes));
}
std::int64_t Member::now_ms() {
  return cluster.now();
}

/// A voter that does not lead.
NodeId some_follower(NodeId leader, int voters) {
  for (NodeId id = 1; id <= static_cast<NodeId>(voters); ++id)
    if (id != leader) return id;
  return 0;
}

/// A client that keeps its session alive through one server: pings every third of a timeout,
/// and when the server closes its connection (it left the quorum) moves the session to a new
/// connection of the same server as soon as that server takes it again.
/// Pass it as std::ref(keep_alive): run_for and wait_for_leader take a copy otherwise.
struct KeepAlive {
  ScriptedCluster& c;
  NodeId at;
  ConnId conn;
  SessionId session;
  ConnId next_conn = 1000 + conn * 100;
  std::int64_t last = 0;
  int reconnects = 0;
  void operator()() {
    if (c.now() - last < kTimeoutMs / 3) return;
    last = c.now();
    if (!c.member(at).closed.count(conn)) return c.ping(at, conn);
    const ConnId attempt = next_conn++;
    const SessionId got = c.connect(at, attempt, session);
    if (got == session) {
      conn = attempt;
      ++reconnects;
    }
  }
};

class SessionsAcrossServers : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { log::configure("off"); }
};

}  // namespace

TEST_F(SessionsAcrossServers, PingsToAFollowerOrObserverKeepTheSessionAliveOnTheLeader) {
  ScriptedCluster c(3, 1);
  const NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, 0u);
  const NodeId follower = some_follower(leader, 3);
  const NodeId observer = 4;
  ASSERT_EQ(c.node(observer).status().role, Role::learner);

  const SessionId on_follower = c.connect(follower, 1);
  const SessionId on_observer = c.connect(observer, 2);
  ASSERT_NE(on_follower, 0u);
  ASSERT_NE(on_observer, 0u);
  ASSERT_EQ(c.create_ephemeral(follower, 1, "/f"), 0);
  ASSERT_EQ(c.create_ephemeral(observer, 2, "/o"), 0);

  // Five timeouts long, the clients ping only their own server, every third of a timeout.
  // Only the liveness reports carry that to the leader, which alone expires sessions.
  std::int64_t last_ping = c.now();
  c.run_for(5 * kTimeoutMs, [&] {
    if (c.now() - last_ping < kTimeoutMs / 3) return;
    c.ping(follower, 1);
    c.ping(observer, 2);
    last_ping = c.now();
  });
  EXPECT_EQ(c.replicas_with_session(on_follower), 4);
  EXPECT_EQ(c.replicas_with_session(on_observer), 4);
  EXPECT_EQ(c.replicas_with_znode("/f"), 4);
  EXPECT_EQ(c.replicas_with_znode("/o"), 4);
  EXPECT_FALSE(c.told_closed(follower, 1));
  EXPECT_FALSE(c.told_closed(observer, 2));
}

TEST_F(SessionsAcrossServers,
       LeaderExpiresASilentSessionOfAFollowerAndEveryReplicaDropsItsEphemerals) {
  ScriptedCluster c(3, 1);
  const NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, 0u);
  const NodeId follower = some_follower(leader, 3);
  const SessionId quiet = c.connect(follower, 1);
  const SessionId chatty = c.connect(follower, 2);
  ASSERT_NE(quiet, 0u);
  ASSERT_NE(chatty, 0u);
  ASSERT_EQ(c.create_ephemeral(follower, 1, "/quiet"), 0);
  ASSERT_EQ(c.create_ephemeral(follower, 2, "/chatty"), 0);
  c.ping(follower, 1);
  const std::int64_t last_touch = c.now();  // the quiet client's last message

  std::int64_t last_ping = c.now();
  auto chatty_pings = [&] {
    if (c.now() - last_ping < kTimeoutMs / 3) return;
    c.ping(follower, 2);
    last_ping = c.now();
  };
  // Not before its timeout ...
  c.run_for(kTimeoutMs - 5 * kTickMs, chatty_pings);
  EXPECT_EQ(c.replicas_with_session(quiet), 4) << "expired early, at " << c.now() - last_touch;
  // ... but within a few ticks after it (the report rides the next tick).
  c.run_for(10 * kTickMs, chatty_pings);
  EXPECT_EQ(c.replicas_with_session(quiet), 0)
      << "not expired " << c.now() - last_touch << " ms after its last ping";
  EXPECT_EQ(c.replicas_with_znode("/quiet"), 0) << "its ephemeral survives on some replica";
  EXPECT_TRUE(c.told_closed(follower, 1)) << "the follower keeps the expired session's connection";
  for (NodeId id : c.up())
    EXPECT_EQ(c.node(id).tree().digest(), c.node(leader).tree().digest()) << "node " << id;
  // The other session of the same follower is untouched.
  EXPECT_EQ(c.replicas_with_session(chatty), 4);
  EXPECT_EQ(c.replicas_with_znode("/chatty"), 4);
  EXPECT_FALSE(c.told_closed(follower, 2));
}

TEST_F(SessionsAcrossServers, NewLeaderGivesEverySessionAFreshTimeout) {
  ScriptedCluster c(3, 0);
  const NodeId old_leader = c.wait_for_leader();
  ASSERT_NE(old_leader, 0u);
  const NodeId stays = some_follower(old_leader, 3);
  NodeId cut = 0;
  for (NodeId id = 1; id <= 3; ++id)
    if (id != old_leader && id != stays) cut = id;

  const SessionId quiet = c.connect(stays, 1);
  const SessionId chatty = c.connect(stays, 2);
  ASSERT_NE(quiet, 0u);
  ASSERT_NE(chatty, 0u);
  ASSERT_EQ(c.create_ephemeral(stays, 1, "/quiet"), 0);
  c.ping(stays, 1);  // the quiet client's last message
  const std::int64_t last_touch = c.now();
  KeepAlive chatty_pings{c, stays, 2, chatty};
  chatty_pings.last = c.now();

  // The leader dies and the cluster has no quorum for two session timeouts.
  c.crash(old_leader);
  c.isolate(cut, true);
  c.run_for(2 * kTimeoutMs, std::ref(chatty_pings));
  EXPECT_EQ(c.agreed_leader(), 0u);
  c.isolate(cut, false);
  const NodeId new_leader = c.wait_for_leader(10'000, std::ref(chatty_pings));
  ASSERT_NE(new_leader, 0u);
  ASSERT_NE(new_leader, old_leader);
  const std::int64_t elected = c.now();
  ASSERT_GT(elected - last_touch, 2 * kTimeoutMs);

  // The new leader heard nothing of the quiet session for more than two timeouts, yet it
  // gives it a whole timeout from its election ...
  c.run_for(kTimeoutMs - 5 * kTickMs, std::ref(chatty_pings));
  EXPECT_EQ(c.replicas_with_session(quiet), 2)
      << "expired " << c.now() - elected << " ms after the new leader was elected";
  // ... and then expires it: the clock was restarted, not stopped.
  c.run_for(10 * kTickMs, std::ref(chatty_pings));
  EXPECT_EQ(c.replicas_with_session(quiet), 0)
      << "not expired " << c.now() - elected << " ms after the new leader was elected";
  EXPECT_EQ(c.replicas_with_znode("/quiet"), 0);
  EXPECT_TRUE(c.told_closed(stays, 1));
  // Without a quorum `stays` closed both connections and took none; the chatty client moved
  // its session back once `stays` followed the new leader, and the session lives on.
  EXPECT_THAT(c.closing_reason(stays, 2), ::testing::HasSubstr("not part of a working quorum"));
  EXPECT_EQ(chatty_pings.reconnects, 1);
  EXPECT_EQ(c.replicas_with_session(chatty), 2);
  EXPECT_FALSE(c.told_closed(stays, chatty_pings.conn));
}

TEST_F(SessionsAcrossServers, ReelectedLeaderDoesNotReuseTheDeadlinesOfItsEarlierReign) {
  ScriptedCluster c(3, 0);
  const NodeId first = c.wait_for_leader();
  ASSERT_NE(first, 0u);
  const NodeId client_node = some_follower(first, 3);
  const SessionId s = c.connect(client_node, 1);
  ASSERT_NE(s, 0u);
  ASSERT_EQ(c.create_ephemeral(client_node, 1, "/e"), 0);
  KeepAlive pings{c, client_node, 1, s};
  pings.last = c.now();

  // The first leader is cut off: it stops hearing the session's touches (its tracker keeps
  // the deadline it had then), steps down, and the other two elect a second leader.
  c.isolate(first, true);
  const NodeId second = c.wait_for_leader(10'000, std::ref(pings));
  ASSERT_NE(second, 0u);
  ASSERT_NE(second, first);
  c.run_for(3 * kTimeoutMs, std::ref(pings));
  c.isolate(first, false);
  ASSERT_EQ(c.wait_for_leader(10'000, std::ref(pings)), second);
  c.run_for(20 * kTickMs, std::ref(pings));  // the first leader catches up as a follower

  // The second leader dies; the first one, now as up to date as the client's server and
  // with the higher id (it won the first election), leads again.
  c.crash(second);
  const NodeId third = c.wait_for_leader(10'000, std::ref(pings));
  ASSERT_EQ(third, first) << "the scenario needs the first leader to lead again";
  c.run_for(3 * kTimeoutMs, std::ref(pings));
  EXPECT_EQ(c.replicas_with_session(s), 2)
      << "the re-elected leader expired a live session from its stale deadline";
  EXPECT_EQ(c.replicas_with_znode("/e"), 2);
  EXPECT_FALSE(c.told_closed(client_node, pings.conn));
}

// A node that serves clients without a leader to send their txns to keeps those txns for when
// it has one again, but not without bound (NodeOptions::max_waiting_txns): beyond that a new
// session gets CONNECTIONLOSS and a connection whose write does not fit is closed with the
// reason, never left waiting for a reply that cannot come. What was kept is proposed once the
// node rejoins. Since issue 18 a node without a leader serves no clients at all (see
// NodeThatLeavesTheQuorumClosesItsClientsAndRefusesConnectsUntilItRejoins), so this reaches
// the limit with that switched off (test_serve_without_quorum).
TEST_F(SessionsAcrossServers, NodeWithoutALeaderRefusesClientTxnsBeyondItsLimitAndSaysWhy) {
  NodeOptions options;
  options.max_waiting_txns = 3;
  options.test_serve_without_quorum = true;
  ScriptedCluster c(3, 0, options);
  const NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, 0u);
  const NodeId f = some_follower(leader, 3);
  ASSERT_NE(c.connect(f, 1), 0u);
  ASSERT_NE(c.connect(f, 2), 0u);

  c.isolate(f, true);
  for (int t = 0; t < 200 && c.node(f).status().leader != 0; ++t)
    c.run_for(kTickMs);
  ASSERT_EQ(c.node(f).status().leader, 0u) << "the cut-off follower still follows";

  for (int i = 0; i < 3; ++i)  // kept: no reply yet
    EXPECT_EQ(c.create_ephemeral(f, 1, "/kept" + std::to_string(i)), -1) << i;
  EXPECT_FALSE(c.told_closed(f, 1));
  EXPECT_EQ(c.create_ephemeral(f, 1, "/refused"), -1);
  EXPECT_THAT(c.closing_reason(f, 1), ::testing::HasSubstr("no leader and 3 txns waiting"));
  EXPECT_EQ(c.create_ephemeral(f, 2, "/refused-too"), -1);
  EXPECT_THAT(c.closing_reason(f, 2), ::testing::HasSubstr("try another server"));
  EXPECT_EQ(c.connect(f, 3), 0u);
  auto [err, message] = c.connect_refusal(f, 3);
  EXPECT_EQ(err, sm::err_code(sm::Err::CONNECTIONLOSS));
  EXPECT_THAT(message, ::testing::HasSubstr("no leader"));
  EXPECT_TRUE(c.member(f).closed.count(3));
  EXPECT_EQ(c.node(f).stats().txns_refused, 3u);

  // Back in the ensemble, the node sends what it kept and takes new sessions again.
  c.isolate(f, false);
  ASSERT_NE(c.wait_for_leader(), 0u);
  c.run_for(10 * kTickMs);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(c.replicas_with_znode("/kept" + std::to_string(i)), 3) << i;
  EXPECT_EQ(c.replicas_with_znode("/refused"), 0);
  EXPECT_EQ(c.replicas_with_znode("/refused-too"), 0);
  const SessionId again = c.connect(f, 4);
  ASSERT_NE(again, 0u);
  EXPECT_EQ(c.create_ephemeral(f, 4, "/again"), 0);
}

// A createSession forwarded to a leader that is gone (paused, cut off) is lost with it. When
// the follower sees the leader change it closes the connecting client as it does one with a
// pending write, so the client tries again at once instead of waiting out its connect timeout
// (found by `qlab cluster pause` of the leader: kazoo took 5 s to reconnect).
TEST_F(SessionsAcrossServers, ConnectWhoseCreateSessionWentToALostLeaderIsClosed) {
  ScriptedCluster c(3, 0);
  const NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, 0u);
  const NodeId f = some_follower(leader, 3);
  c.isolate(leader, true);
  EXPECT_EQ(c.connect(f, 1), 0u) << "answered without a leader";
  EXPECT_EQ(c.member(f).closed.count(1), 0u);
  for (int t = 0; t < 200 && c.node(f).status().leader == leader; ++t)
    c.run_for(kTickMs);
  ASSERT_NE(c.node(f).status().leader, leader);
  EXPECT_THAT(c.closing_reason(f, 1), ::testing::HasSubstr("leader changed"));
  // The client's next attempt, once the rest have elected a leader, gets a session.
  ASSERT_NE(c.wait_for_leader(), 0u);
  EXPECT_NE(c.connect(f, 2), 0u);
}

// Issue 18, as ZooKeeper: a server that leaves the quorum (a follower cut off from its leader,
// a leader cut off from its followers) closes every client connection, answers no ping and
// refuses connects until it rejoins, so its clients see Disconnected long before the majority
// can expire their sessions, and move them to a server of the quorum.
TEST_F(SessionsAcrossServers,
       NodeThatLeavesTheQuorumClosesItsClientsAndRefusesConnectsUntilItRejoins) {
  ScriptedCluster c(3, 0);
  const NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, 0u);
  const NodeId f = some_follower(leader, 3);
  NodeId other = 0;
  for (NodeId id = 1; id <= 3; ++id)
    if (id != leader && id != f) other = id;
  const SessionId on_f = c.connect(f, 1);
  const SessionId on_leader = c.connect(leader, 2);
  ASSERT_NE(on_f, 0u);
  ASSERT_NE(on_leader, 0u);
  ASSERT_EQ(c.create_ephemeral(f, 1, "/on-f"), 0);

  // The follower cut off: closed once it stops following, within zab's syncLimit (300 ms),
  // far within the session timeout.
  c.isolate(f, true);
  const std::int64_t cut = c.now();
  for (int t = 0; t < 200 && !c.member(f).closed.count(1); ++t)
    c.run_for(kTickMs);
  ASSERT_TRUE(c.told_closed(f, 1)) << "the cut-off follower keeps its client";
  EXPECT_LT(c.now() - cut, kTimeoutMs / 2);
  EXPECT_EQ(c.node(f).status().leader, 0u);
  EXPECT_THAT(c.closing_reason(f, 1), ::testing::HasSubstr("not part of a working quorum"));
  EXPECT_EQ(c.node(f).connection_count(), 0u);
  // No new session and no old one either, with the reason.
  EXPECT_EQ(c.connect(f, 3), 0u);
  auto [err, message] = c.connect_refusal(f, 3);
  EXPECT_EQ(err, sm::err_code(sm::Err::CONNECTIONLOSS));
  EXPECT_THAT(message, ::testing::HasSubstr("not part of a working quorum"));
  EXPECT_EQ(c.connect(f, 4, on_f), 0u);
  EXPECT_TRUE(c.member(f).closed.count(4));
  // A ping on the closed connection is not answered.
  const std::size_t before = c.member(f).out[1].size();
  c.ping(f, 1);
  for (std::size_t i = before; i < c.member(f).out[1].size(); ++i) {
    const Bytes& b = c.member(f).out[1][i];
    CapnpReader r(b.data(), b.size(), 1 << 26);
    auto msg = r.root<proto::ServerMessage>();
    EXPECT_FALSE(msg.isResponse()) << "answered without a quorum";
  }

  // The client moves its session to the majority and keeps it, ephemeral included.
  EXPECT_EQ(c.connect(other, 5, on_f), on_f);
  c.ping(other, 5);
  c.run_for(kTimeoutMs / 2);
  c.ping(other, 5);
  c.run_for(kTimeoutMs / 2);
  EXPECT_EQ(c.replicas_with_session(on_f), 3);
  EXPECT_EQ(c.replicas_with_znode("/on-f"), 3);
  EXPECT_FALSE(c.told_closed(other, 5));

  // Back in the ensemble, the follower takes clients again.
  c.isolate(f, false);
  ASSERT_NE(c.wait_for_leader(), 0u);
  for (int t = 0; t < 500 && c.node(f).status().leader == 0; ++t)
    c.run_for(kTickMs);
  EXPECT_EQ(c.connect(f, 6, on_f), on_f);

  // A leader cut off from both followers gives up its quorum after syncLimit and lets its
  // clients go too.
  const NodeId lead = c.agreed_leader();
  ASSERT_NE(lead, 0u);
  const SessionId on_lead = c.connect(lead, 7);
  ASSERT_NE(on_lead, 0u);
  c.isolate(lead, true);
  for (int t = 0; t < 200 && !c.member(lead).closed.count(7); ++t)
    c.run_for(kTickMs);
  EXPECT_TRUE(c.told_closed(lead, 7)) << "the leader without a quorum keeps its client";
  EXPECT_NE(c.node(lead).status().role, Role::leader);
  EXPECT_EQ(c.connect(lead, 8), 0u);
}

// ZooKeeper's read-only mode (the read_only_mode setting): outside a quorum the server gives
// clients that allow it a read-only session (writes get NOTREADONLY, pings are answered), still
// refuses the others, and ends its read-only sessions when it rejoins a quorum.
TEST_F(SessionsAcrossServers, ReadOnlyModeServesReadOnlySessionsOnlyOutsideAQuorum) {
  ScriptedCluster c(3, 0, {}, {"read_only_mode=true"});
  const NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, 0u);
  const NodeId f = some_follower(leader, 3);
  // Inside a quorum, a client that allows read-only gets a read-write session.
  const SessionId rw = c.connect(f, 1, 0, /*read_only=*/true);
  ASSERT_NE(rw, 0u);
  EXPECT_FALSE(c.read_only_session(f, 1));
  EXPECT_FALSE(c.node(f).read_only());
  ASSERT_EQ(c.create_ephemeral(f, 1, "/rw"), 0);

  c.isolate(f, true);
  for (int t = 0; t < 200 && !c.member(f).closed.count(1); ++t)
    c.run_for(kTickMs);
  ASSERT_TRUE(c.told_closed(f, 1)) << "the cut-off follower keeps its read-write client";
  EXPECT_TRUE(c.node(f).read_only());
  EXPECT_EQ(c.connect(f, 2), 0u) << "a client that does not allow read-only got a session";
  const SessionId ro = c.connect(f, 3, 0, /*read_only=*/true);
  ASSERT_NE(ro, 0u);
  EXPECT_TRUE(c.read_only_session(f, 3));
  EXPECT_EQ(c.create_ephemeral(f, 3, "/ro"), sm::err_code(sm::Err::NOTREADONLY));
  c.ping(f, 3);
  EXPECT_TRUE(c.ping_answered(f, 3));
  // The earlier session, read-only here while the server is cut off.
  EXPECT_EQ(c.connect(f, 4, rw, /*read_only=*/true), rw);
  EXPECT_TRUE(c.read_only_session(f, 4));

  c.isolate(f, false);
  ASSERT_NE(c.wait_for_leader(), 0u);
  for (int t = 0; t < 500 && c.node(f).status().leader == 0; ++t)
    c.run_for(kTickMs);
  EXPECT_FALSE(c.node(f).read_only());
  EXPECT_THAT(c.closing_reason(f, 3), ::testing::HasSubstr("read-only sessions end"));
  EXPECT_THAT(c.closing_reason(f, 4), ::testing::HasSubstr("read-only sessions end"));
  EXPECT_EQ(c.replicas_with_session(ro), 0) << "a local read-only session reached the ensemble";
  EXPECT_EQ(c.connect(f, 5, rw), rw);
  EXPECT_FALSE(c.read_only_session(f, 5));
}

// Txns kept while there was no leader go out in batches once there is one: a forward (or a
// proposal) holding them all would be one peer message beyond the transport's limit (twice
// max_data_bytes plus 64 KiB; ZeroMQ drops the connection of a larger one), and the writes
// would be lost with it.
TEST_F(SessionsAcrossServers, ManyLargeWritesAreForwardedInMessagesWithinTheTransportLimit) {
  NodeOptions options;
  options.test_serve_without_quorum = true;  // keep the connection while cut off
  ScriptedCluster c(3, 0, options);
  const NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, 0u);
  const NodeId f = some_follower(leader, 3);
  ASSERT_NE(c.connect(f, 1), 0u);
  c.isolate(f, true);
  for (int t = 0; t < 200 && c.node(f).status().leader != 0; ++t)
    c.run_for(kTickMs);
  ASSERT_EQ(c.node(f).status().leader, 0u) << "the cut-off follower still follows";
  const std::string value(700 * 1024, 'v');
  for (int i = 0; i < 6; ++i)  // 4.2 MB kept for the next leader
    EXPECT_EQ(c.create_ephemeral(f, 1, "/big" + std::to_string(i), value), -1) << i;
  c.largest_peer_message = 0;
  c.isolate(f, false);
  ASSERT_NE(c.wait_for_leader(), 0u);
  c.run_for(20 * kTickMs);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(c.replicas_with_znode("/big" + std::to_string(i)), 3) << i;
  EXPECT_LE(c.largest_peer_message, 2u * 1024 * 1024 + 64 * 1024);
}

// A write that reached a server just as it lost its leader is dropped with the client's
// connection, not kept for the next leader: the client retries it elsewhere, and applying the
// kept copy as well would apply it twice (a queue entry put twice across a leader kill).
TEST_F(SessionsAcrossServers, AWriteKeptWhenTheServerLeavesTheQuorumIsDroppedWithItsClient) {
  ScriptedCluster c(3, 0);
  const NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, 0u);
  const NodeId f = some_follower(leader, 3);
  ASSERT_NE(c.connect(f, 1), 0u);
  c.isolate(f, true);
  for (int t = 0; t < 1000 && c.node(f).status().leader != 0; ++t)
    c.tick_only(f);
  ASSERT_EQ(c.node(f).status().leader, 0u) << "the cut-off follower still follows";
  // The create arrives before the node handled the loss: it is taken and kept for a leader.
  EXPECT_EQ(c.create_ephemeral(f, 1, "/late"), -1);
  EXPECT_TRUE(c.told_closed(f, 1));
  c.isolate(f, false);
  ASSERT_NE(c.wait_for_leader(), 0u);
  c.run_for(20 * kTickMs);
  EXPECT_EQ(c.replicas_with_znode("/late"), 0) << "the kept write was applied after all";
}
