// Reference §3.8 (how sync() works) and the read-index barrier: sync_op resolves once
// everything proposed before it is committed (forwarded by learners, answered after the
// COMMITs it depends on); read_index resolves at the commit point recorded at the request once
// a quorum round started after it confirms leadership; both fail without a leader.
#include <gtest/gtest.h>

#include "quorumlab/consensus/testing/lease_check.hpp"
#include "zab_test_util.hpp"

using namespace quorumlab;
using namespace quorumlab::zab;
using namespace quorumlab::zab::test;

namespace {

std::optional<BarrierResult> result(const ScriptedNetwork& net, NodeId id, std::uint64_t b) {
  return net.barrier(id, b);
}

}  // namespace

TEST(Barrier_3_8, SyncOpOnTheLeaderWithNothingOutstandingResolvesAtOnce) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  net->propose(leader, {txn("a")});
  ASSERT_TRUE(applied_everywhere(*net, txn("a")));
  net->request_barrier(leader, 1, BarrierKind::sync_op);
  auto r = result(*net, leader, 1);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->zxid, make_zxid(1, 1));
  EXPECT_EQ(r->index, 1u);
}

TEST(Barrier_3_8, SyncOpOnTheLeaderWaitsForOutstandingProposals) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  net->propose(leader, {txn("a"), txn("b")});
  net->request_barrier(leader, 1, BarrierKind::sync_op);
  EXPECT_FALSE(result(*net, leader, 1)) << "a and b are not committed yet";
  net->deliver_all();
  auto r = result(*net, leader, 1);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->zxid, make_zxid(1, 2)) << "the zxid of the last proposal before the barrier";
  EXPECT_TRUE(has_applied(*net, leader, txn("b")));
}

TEST(Barrier_3_8, SyncOpOnAFollowerIsAnsweredAfterTheCommitsBeforeIt) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  NodeId f = leader == 1 ? 2 : 1;
  net->propose(leader, {txn("a")});
  net->request_barrier(f, 7, BarrierKind::sync_op);
  ASSERT_EQ(in_flight(*net, wire::Kind::request, f, leader).size(), 1u) << "forwarded as REQUEST";
  ASSERT_TRUE(step_until(
      *net, [&] { return result(*net, f, 7).has_value(); }, 200));
  auto r = *result(*net, f, 7);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.zxid, make_zxid(1, 1));
  // Applied before the barrier resolved (same Ready: committed txns come first).
  ASSERT_FALSE(net->applied(f).empty());
  EXPECT_GE(net->applied(f).back().zxid, r.zxid);
}

TEST(Barrier_ReadIndex, TheLeaderConfirmsLeadershipWithAQuorumRound) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  net->propose(leader, {txn("a")});
  ASSERT_TRUE(applied_everywhere(*net, txn("a")));
  net->deliver_all();  // no regular PING left in flight
  net->request_barrier(leader, 1, BarrierKind::read_index);
  EXPECT_FALSE(result(*net, leader, 1)) << "needs a quorum to echo a new round";
  auto pings = in_flight(*net, wire::Kind::ping, leader);
  ASSERT_EQ(pings.size(), 2u) << "the round starts at once, not at the next tick";
  NodeId f = net->find(pings[0])->to;
  deliver_kind(*net, wire::Kind::ping, leader, f);
  deliver_kind(*net, wire::Kind::ping_reply, f, leader);
  auto r = result(*net, leader, 1);
  ASSERT_TRUE(r) << "leader + one follower are a quorum";
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->index, 1u);
  EXPECT_EQ(r->zxid, make_zxid(1, 1));
}

TEST(Barrier_ReadIndex, ARoundStartedBeforeTheRequestDoesNotCount) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  net->request_barrier(leader, 1, BarrierKind::read_index);  // starts round 1
  net->request_barrier(leader, 2, BarrierKind::read_index);  // must wait for round 2
  deliver_kind(*net, wire::Kind::ping);                      // round 1 only
  auto replies = in_flight(*net, wire::Kind::ping_reply);
  ASSERT_FALSE(replies.empty());
  net->deliver(replies[0]);
  EXPECT_TRUE(result(*net, leader, 1));
  EXPECT_FALSE(result(*net, leader, 2)) << "round 1 started before barrier 2";
  net->deliver_all();
  auto r2 = result(*net, leader, 2);
  ASSERT_TRUE(r2);
  EXPECT_TRUE(r2->ok);
}

TEST(Barrier_ReadIndex, FailsWhenLeadershipIsLost) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  net->isolate(leader);
  net->request_barrier(leader, 1, BarrierKind::read_index);
  net->request_barrier(leader, 2, BarrierKind::sync_op);
  net->propose(leader, {txn("x")});
  net->request_barrier(leader, 3, BarrierKind::sync_op);  // waits for x, which cannot commit
  EXPECT_FALSE(result(*net, leader, 1));
  EXPECT_TRUE(result(*net, leader, 2)) << "nothing was outstanding";
  ASSERT_TRUE(net->run_until([&] { return net->status(leader).role != Role::leader; }, 60));
  ASSERT_TRUE(result(*net, leader, 1));
  EXPECT_FALSE(result(*net, leader, 1)->ok);
  ASSERT_TRUE(result(*net, leader, 3));
  EXPECT_FALSE(result(*net, leader, 3)->ok);
}

TEST(Barrier_ReadIndex, AFollowerForwardsItToTheLeader) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  NodeId f = leader == 1 ? 2 : 1;
  net->propose(leader, {txn("a")});
  ASSERT_TRUE(applied_everywhere(*net, txn("a")));
  net->request_barrier(f, 9, BarrierKind::read_index);
  ASSERT_TRUE(step_until(
      *net, [&] { return result(*net, f, 9).has_value(); }, 200));
  auto r = *result(*net, f, 9);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.zxid, make_zxid(1, 1));
}

TEST(Barrier, FailsWithoutALeader) {
  auto net = make_network(3);
  net->start();
  net->request_barrier(1, 1, BarrierKind::sync_op);
  net->request_barrier(1, 2, BarrierKind::read_index);
  ASSERT_TRUE(result(*net, 1, 1));
  EXPECT_FALSE(result(*net, 1, 1)->ok);
  ASSERT_TRUE(result(*net, 1, 2));
  EXPECT_FALSE(result(*net, 1, 2)->ok);
}

TEST(Barrier, AForwardedBarrierFailsWhenTheFollowerLosesItsLeader) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  NodeId f = leader == 1 ? 2 : 1;
  net->request_barrier(f, 4, BarrierKind::sync_op);
  net->drop_all(f, leader);  // the REQUEST is lost
  net->isolate(f);
  ASSERT_TRUE(net->run_until([&] { return result(*net, f, 4).has_value(); }, 60));
  EXPECT_FALSE(result(*net, f, 4)->ok);
  EXPECT_EQ(net->status(f).role, Role::looking);
}

// The lease (lease=true; zab.hpp and consensus/lease.hpp state the formula).

TEST(Barrier_Lease, WithoutLeaseTrueItFailsAsUnsupported) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  net->request_barrier(leader, 9, BarrierKind::lease);
  ASSERT_TRUE(result(*net, leader, 9));
  EXPECT_FALSE(result(*net, leader, 9)->ok);
  EXPECT_EQ(result(*net, leader, 9)->failure, BarrierFailure::unsupported);
  EXPECT_NE(barrier_unavailable(Params({{"lease", false}}), BarrierKind::lease), "");
  EXPECT_EQ(barrier_unavailable(Params({{"lease", true}}), BarrierKind::lease), "");
}

TEST(Barrier_Lease, ALeaderWithAFreshQuorumServesWithoutAMessage) {
  auto net = make_network(3, 0, {{"lease", true}});
  net->start();
  NodeId leader = elect(*net, 300);
  ASSERT_NE(leader, 0u);
  net->propose(leader, {txn("a")});
  ASSERT_TRUE(applied_everywhere(*net, txn("a")));
  net->round();  // a PING round echoed by a quorum
  const std::size_t before = net->in_flight().size();
  net->request_barrier(leader, 1, BarrierKind::lease);
  auto r = result(*net, leader, 1);
  ASSERT_TRUE(r && r->ok);
  EXPECT_EQ(r->zxid, net->status(leader).last_committed_zxid);
  EXPECT_EQ(net->in_flight().size(), before);
  EXPECT_EQ(net->status(leader).lease_hits, 1u);
  NodeId f = leader == 1 ? 2 : 1;
  net->request_barrier(f, 2, BarrierKind::lease);
  net->deliver_all();
  r = result(*net, f, 2);
  ASSERT_TRUE(r && r->ok);
  EXPECT_EQ(r->zxid, net->status(leader).last_committed_zxid);
}

TEST(Barrier_Lease, AnIsolatedLeaderStopsServingBeforeAnotherLeaderExists) {
  auto net = make_network(3, 0, {{"lease", true}});
  net->start();
  NodeId leader = elect(*net, 300);
  ASSERT_NE(leader, 0u);
  net->round();
  auto w = consensus::testing::isolate_leader_and_watch_lease(*net, leader);
  ASSERT_GE(w.new_leader_round, 0) << "no new leader";
  EXPECT_GE(w.last_hit_round, 0) << "the lease never served";
  EXPECT_LT(w.last_hit_round, w.new_leader_round);
  EXPECT_GT(w.lease_misses, 0u);
}

TEST(Barrier_Lease, SelfTestALeaderClockSlowerThanTheBoundServesAfterANewLeaderIsElected) {
  // Followers' clocks 4 times as fast as the leader's, far beyond the 0.1% bound: the old
  // leader's lease outlasts their guard.
  auto net = make_network(3, 0, {{"lease", true}});
  net->start();
  NodeId leader = elect(*net, 300);
  ASSERT_NE(leader, 0u);
  net->round();
  auto w = consensus::testing::isolate_leader_and_watch_lease(*net, leader, 1000, 500, 1, 4);
  ASSERT_GE(w.new_leader_round, 0);
  EXPECT_GE(w.last_hit_round, w.new_leader_round) << "no overlap: the self-test shows nothing";
}

TEST(Barrier_Lease, AFollowerThatLostItsLeadersConnectionWaitsOutTheGuard) {
  auto net = make_network(3, 0, {{"lease", true}});
  net->start();
  NodeId leader = elect(*net, 300);
  ASSERT_NE(leader, 0u);
  NodeId f = leader == 1 ? 2 : 1;
  NodeId other = 6 - leader - f;
  net->round();
  net->isolate(leader);
  net->peer_disconnected(f, leader);
  net->peer_disconnected(other, leader);
  // Both followers are LOOKING, but neither starts an election within sync_limit_ticks (30)
  // of the leader's last packet.
  for (int i = 0; i < 25; ++i)
    net->round();
  EXPECT_EQ(net->status(f).role, Role::looking);
  EXPECT_EQ(net->status(other).role, Role::looking);
  EXPECT_FALSE(net->leader().has_value() && *net->leader() != leader);
  // Then they elect one of them.
  ASSERT_TRUE(net->run_until([&] { return net->leader() && *net->leader() != leader; }, 300));
}
