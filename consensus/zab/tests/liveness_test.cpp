// Reference §3.3 and §3.11, timing: the leader pings every ping_interval_ticks; a learner gives
// up on a silent leader after sync_limit_ticks, or at once when the transport reports the leader's
// connection closed; a leader that has not heard from a quorum for sync_limit_ticks gives up
// ("Not sufficient followers synced"). With the kernel's 10 ms tick a crashed leader is replaced
// in well under 200 ms; a silent one (paused, partitioned) within syncLimit plus a few ticks.
#include <gtest/gtest.h>

#include "zab_test_util.hpp"

using namespace quorumlab;
using namespace quorumlab::zab;
using namespace quorumlab::zab::test;

TEST(Timing_3_11, DefaultsAreTunedForATenMillisecondTick) {
  ZabConfig d;
  EXPECT_EQ(d.ping_interval_ticks, 1);
  // syncLimit 300 ms rides out a loaded machine's scheduling stalls; a crash is seen sooner,
  // through peer_disconnected.
  EXPECT_EQ(d.sync_limit_ticks, 30);
  EXPECT_EQ(d.init_limit_ticks, 100);
  EXPECT_EQ(d.finalize_wait_ticks, 2);
  std::map<std::string, ParamValue> given;
  Params p = resolve_params("zab", param_schema(), given);
  for (const auto& spec : param_schema()) {
    EXPECT_TRUE(p.contains(spec.name));
    EXPECT_FALSE(spec.help.empty()) << spec.name;
  }
  Params custom = resolve_params("zab", param_schema(), {{"sync_limit_ticks", std::int64_t{20}}});
  EXPECT_EQ(ZabConfig::from(custom).sync_limit_ticks, 20);
  EXPECT_THROW(resolve_params("zab", param_schema(), {{"sync_limit_ticks", std::int64_t{0}}}),
               ConfigError);
}

TEST(Liveness_3_3, TheLeaderPingsEveryLearnerEveryInterval) {
  auto net = make_network(3, 1, {{"ping_interval_ticks", std::int64_t{2}}});
  net->start();
  NodeId leader = elect(*net);
  std::size_t pings = 0;
  for (int t = 0; t < 10; ++t) {
    net->tick(leader);
    pings += in_flight(*net, wire::Kind::ping, leader).size();
    net->deliver_all();
  }
  EXPECT_EQ(pings, 5u * 3u) << "every second tick, to two followers and one observer";
}

TEST(Liveness_3_3, AFollowerGivesUpOnASilentLeaderAfterSyncLimit) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  NodeId f = leader == 1 ? 2 : 1;
  net->block(leader, f);
  for (int t = 1; t <= ZabConfig{}.sync_limit_ticks; ++t) {
    net->tick(f);
    ASSERT_EQ(net->status(f).role, Role::follower) << "tick " << t;
  }
  net->tick(f);
  EXPECT_EQ(net->status(f).role, Role::looking);
}

TEST(Liveness_3_3, AFollowerThatLosesTheLeaderSocketGoesLookingAtOnce) {
  // Learner.followLeader ends on an IOException from the leader socket, before syncLimit.
  auto net = make_network(3, 1);
  net->start();
  NodeId leader = elect(*net);
  std::vector<NodeId> learners;
  for (NodeId id : net->ids())
    if (id != leader) learners.push_back(id);
  // A lost connection to another learner changes nothing.
  net->peer_disconnected(learners[0], learners[1]);
  for (NodeId id : learners)
    EXPECT_NE(net->status(id).role, Role::looking) << id;
  net->crash(leader);
  for (NodeId id : learners) {
    net->peer_disconnected(id, leader);
    EXPECT_EQ(net->status(id).role, Role::looking) << "no tick needed, learner " << id;
  }
}

TEST(Liveness_3_11, ALeaderCrashSeenByTheSocketsFailsOverWithinAFewTicks) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  net->propose(leader, {txn("before")});
  ASSERT_TRUE(applied_everywhere(*net, txn("before")));
  net->crash(leader);
  for (NodeId id : net->ids())
    if (id != leader) net->peer_disconnected(id, leader);
  std::size_t rounds = 0;
  std::optional<NodeId> next;
  while (!(next = net->leader()) && rounds < 100) {
    net->round();
    rounds++;
  }
  ASSERT_TRUE(next);
  net->propose(*next, {txn("after")});
  while (!has_applied(*net, *next, txn("after")) && rounds < 100) {
    net->round();
    rounds++;
  }
  std::printf("[ failover ] with the disconnect seen: %zu ticks to the first new commit\n", rounds);
  // Election (finalize wait) plus discovery and synchronization, without waiting syncLimit:
  // far under the 200 ms aim at 10 ms per tick.
  EXPECT_LE(rounds, static_cast<std::size_t>(ZabConfig{}.finalize_wait_ticks + 4));
  EXPECT_LT(rounds * 10, 200u);
}

TEST(Liveness_3_3, ALeaderWithoutAQuorumGivesUpAfterSyncLimit) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  net->isolate(leader);
  for (int t = 1; t <= ZabConfig{}.sync_limit_ticks; ++t) {
    net->tick(leader);
    ASSERT_EQ(net->status(leader).role, Role::leader) << "tick " << t;
  }
  net->tick(leader);
  EXPECT_EQ(net->status(leader).role, Role::looking) << "not sufficient followers synced";
  EXPECT_FALSE(net->status(leader).can_propose);
}

TEST(Liveness_3_3, OneSlowFollowerDoesNotDeposeTheLeader) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  NodeId slow = leader == 1 ? 2 : 1;
  net->isolate(slow);
  for (int t = 0; t < 50; ++t)
    net->round();
  EXPECT_EQ(net->leader(), std::optional<NodeId>(leader));
  ASSERT_TRUE(net->propose(leader, {txn("a")}).accepted);
  EXPECT_TRUE(
      applied_everywhere(*net, txn("a"), 10, {leader, static_cast<NodeId>(6 - leader - slow)}));
}

TEST(Liveness_3_11, ASilentLeaderIsReplacedWithinSyncLimitAndAFewTicks) {
  // One round = every message delivered, then one tick everywhere: 10 ms of kernel time when
  // messages take well under a tick, as on a LAN.
  for (std::size_t voters : {3u, 5u}) {
    auto net = make_network(voters);
    net->start();
    NodeId leader = elect(*net);
    net->propose(leader, {txn("before")});
    ASSERT_TRUE(applied_everywhere(*net, txn("before")));
    net->crash(leader);  // no peer_disconnected: as if paused or cut off
    std::size_t rounds = 0;
    std::optional<NodeId> next;
    while (!(next = net->leader()) && rounds < 100) {
      net->round();
      rounds++;
    }
    ASSERT_TRUE(next);
    net->propose(*next, {txn("after")});
    while (!has_applied(*net, *next, txn("after")) && rounds < 100) {
      net->round();
      rounds++;
    }
    std::printf(
        "[ failover ] %zu voters: %zu ticks (%zu ms at 10 ms/tick) from a silent leader's "
        "crash to the first new commit\n",
        voters, rounds, rounds * 10);
    EXPECT_LE(rounds, static_cast<std::size_t>(ZabConfig{}.sync_limit_ticks + 6));
  }
}
