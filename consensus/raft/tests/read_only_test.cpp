// Read-only queries (thesis 6.4): the barriers sync_op, read_index and leader_commit, and the
// lease (6.4.1).
#include <gtest/gtest.h>

#include "quorumlab/consensus/testing/lease_check.hpp"
#include "raft_test_util.hpp"

using namespace quorumlab;
using namespace quorumlab::raft;
using namespace quorumlab::raft::test;

TEST(ReadIndex_6_4, ResolvesAfterAHeartbeatRoundAtTheCommitIndex) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  ASSERT_TRUE(net->propose(leader, {txn("a")}).accepted);
  ASSERT_TRUE(applied_everywhere(*net, txn("a")));
  net->request_barrier(leader, 1, BarrierKind::read_index);
  EXPECT_FALSE(net->barrier(leader, 1).has_value());  // needs the quorum round
  EXPECT_FALSE(in_flight(*net, wire::Type::heartbeat, leader).empty());
  net->deliver_all();
  auto b = net->barrier(leader, 1);
  ASSERT_TRUE(b && b->ok);
  EXPECT_EQ(b->index, raft_of(*net, leader).commit_index());
}

TEST(ReadIndex_6_4, APartitionedLeaderNeverServesAndFailsWhenDeposed) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  net->isolate(leader);
  net->request_barrier(leader, 7, BarrierKind::read_index);
  for (int i = 0; i < 100; ++i)
    net->round();
  EXPECT_FALSE(net->barrier(leader, 7).has_value());
  net->heal();
  ASSERT_TRUE(net->run_until([&] { return net->barrier(leader, 7).has_value(); }, 100));
  EXPECT_FALSE(net->barrier(leader, 7)->ok);
  EXPECT_EQ(net->barrier(leader, 7)->failure, BarrierFailure::not_leader);
}

TEST(ReadIndex_6_4, AFollowerForwardsToItsLeader) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  NodeId f = leader == 1 ? 2 : 1;
  ASSERT_TRUE(net->propose(leader, {txn("a")}).accepted);
  ASSERT_TRUE(applied_everywhere(*net, txn("a")));
  net->request_barrier(f, 3, BarrierKind::read_index);
  net->request_barrier(f, 4, BarrierKind::sync_op);
  net->request_barrier(f, 5, BarrierKind::leader_commit);
  net->deliver_all();
  for (std::uint64_t id : {3, 4, 5}) {
    auto b = net->barrier(f, id);
    ASSERT_TRUE(b && b->ok) << id;
    EXPECT_EQ(b->zxid, net->status(leader).last_committed_zxid);
  }
}

TEST(Lease_6_4_1, WithoutCheckQuorumTheLeaseFailsAsUnsupported) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  net->request_barrier(leader, 9, BarrierKind::lease);
  auto b = net->barrier(leader, 9);
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->ok);
  EXPECT_EQ(b->failure, BarrierFailure::unsupported);
  EXPECT_NE(barrier_unavailable(Params({{"check_quorum", false}}), BarrierKind::lease), "");
  EXPECT_EQ(barrier_unavailable(Params({{"check_quorum", true}}), BarrierKind::lease), "");
}

TEST(Lease_6_4_1, ThePeriodFollowsTheFormulaOfTheHeader) {
  // floor((min - 1) * (1e6 - drift) / (1e6 + drift))
  EXPECT_EQ(consensus::lease_period_ticks(15, 1000), 13);
  EXPECT_EQ(consensus::lease_period_ticks(15, 0), 14);
  EXPECT_EQ(consensus::lease_period_ticks(15, 100000), 11);  // 14 * 0.9 / 1.1 = 11.45
  EXPECT_EQ(consensus::lease_period_ticks(2, 1000), 0);      // too short for any lease
}

TEST(Lease_6_4_1, ALeaderWithAFreshQuorumServesWithoutAMessage) {
  auto net = make_network(3, 0, {{"check_quorum", true}});
  net->start();
  NodeId leader = elect(*net);
  ASSERT_TRUE(net->propose(leader, {txn("a")}).accepted);
  ASSERT_TRUE(applied_everywhere(*net, txn("a")));
  for (int i = 0; i < 3; ++i)  // a heartbeat (every 3 ticks), acknowledged: the lease holds
    net->round();
  net->deliver_all();
  const std::size_t before = net->in_flight().size();
  net->request_barrier(leader, 1, BarrierKind::lease);
  auto b = net->barrier(leader, 1);
  ASSERT_TRUE(b && b->ok);
  EXPECT_EQ(b->zxid, net->status(leader).last_committed_zxid);
  EXPECT_EQ(net->in_flight().size(), before);  // no message
  EXPECT_EQ(net->status(leader).lease_hits, 1u);
  // A follower forwards it and gets the leader's commit point.
  NodeId f = leader == 1 ? 2 : 1;
  net->request_barrier(f, 2, BarrierKind::lease);
  net->deliver_all();
  b = net->barrier(f, 2);
  ASSERT_TRUE(b && b->ok);
  EXPECT_EQ(b->zxid, net->status(leader).last_committed_zxid);
}

TEST(Lease_6_4_1, AnIsolatedLeaderStopsServingBeforeAnotherLeaderExists) {
  for (bool prevote : {false, true}) {
    auto net = make_network(3, 0, {{"check_quorum", true}, {"prevote", prevote}});
    net->start();
    NodeId leader = elect(*net);
    for (int i = 0; i < 3; ++i)
      net->round();
    net->deliver_all();
    auto w = consensus::testing::isolate_leader_and_watch_lease(*net, leader);
    ASSERT_GE(w.new_leader_round, 0) << "no new leader; prevote " << prevote;
    EXPECT_GE(w.last_hit_round, 0) << "the lease never served";
    EXPECT_LT(w.last_hit_round, w.new_leader_round) << "prevote " << prevote;
    EXPECT_GT(w.lease_misses, 0u);
  }
}

TEST(Lease_6_4_1, SelfTestALeaderClockSlowerThanTheBoundServesAfterANewLeaderIsElected) {
  // The lease's assumption broken on purpose: the followers' clocks run 4 times as fast as
  // the leader's (the bound is 0.1%). The same watch that passes above must see the old leader
  // serve a lease read after a new leader exists.
  auto net = make_network(3, 0, {{"check_quorum", true}});
  net->start();
  NodeId leader = elect(*net);
  for (int i = 0; i < 3; ++i)
    net->round();
  net->deliver_all();
  auto w = consensus::testing::isolate_leader_and_watch_lease(*net, leader, 1000, 500, 1, 4);
  ASSERT_GE(w.new_leader_round, 0);
  EXPECT_GE(w.last_hit_round, w.new_leader_round) << "no overlap: the self-test shows nothing";
}

TEST(Lease_6_4_1, ALeaderTransportDisconnectDoesNotEndTheVoteGuard) {
  // The leader is alive (only its connection to one follower broke): that follower must not
  // campaign or vote while the leader may hold a lease on its acknowledgement.
  auto net = make_network(3, 0, {{"check_quorum", true}});
  net->start();
  NodeId leader = elect(*net);
  NodeId f = leader == 1 ? 2 : 1;
  net->round();
  net->peer_disconnected(f, leader);
  net->isolate(leader);
  const auto term = raft_of(*net, f).term();
  for (int i = 0; i < 12; ++i)
    net->tick(f);  // within election_timeout_min_ticks (15) of the last heartbeat
  EXPECT_EQ(raft_of(*net, f).term(), term);
  EXPECT_EQ(raft_of(*net, f).state(), RaftBroadcast::State::follower);
}

TEST(Lease_6_4_1, ARestartedVoterRefusesVotesForAMinimumElectionTimeout) {
  auto net = make_network(3, 0, {{"check_quorum", true}});
  net->start();
  NodeId leader = elect(*net);
  NodeId f = leader == 1 ? 2 : 1;
  NodeId other = 6 - leader - f;
  net->crash(f);
  net->restart(f);
  net->isolate(leader);
  time_out(*net, other);  // `other` campaigns at once
  net->deliver_all();
  EXPECT_NE(raft_of(*net, other).state(), RaftBroadcast::State::leader)
      << "a restarted voter granted a vote within the guard";
}

TEST(SyncOp, ResolvesOnceEverythingProposedBeforeItCommitted) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  ASSERT_TRUE(net->propose(leader, {txn("x")}).accepted);
  net->request_barrier(leader, 2, BarrierKind::sync_op);
  EXPECT_FALSE(net->barrier(leader, 2).has_value());
  net->deliver_all();
  auto b = net->barrier(leader, 2);
  ASSERT_TRUE(b && b->ok);
  EXPECT_EQ(b->index, raft_of(*net, leader).log().last_index());
}

TEST(Lease_6_4_1, ALeaderThatStartsATransferGivesUpItsLeaseForTheTerm) {
  // 3.10's TimeoutNow lets the target's RequestVotes through the vote guard the lease rests on.
  auto net = make_network(3, 0, {{"check_quorum", true}});
  net->start();
  NodeId leader = elect(*net);
  for (int i = 0; i < 3; ++i)
    net->round();
  net->deliver_all();
  net->request_barrier(leader, 1, BarrierKind::lease);
  ASSERT_TRUE(net->barrier(leader, 1) && net->barrier(leader, 1)->ok);  // a hit
  NodeId target = leader == 1 ? 2 : 1;
  net->isolate(target);  // the transfer cannot complete
  ASSERT_EQ(raft_of(*net, leader).transfer_leadership(target).status, TransferStatus::started);
  net->request_barrier(leader, 2, BarrierKind::lease);
  EXPECT_FALSE(net->barrier(leader, 2).has_value()) << "served from the lease during a transfer";
  // Given up after an election timeout, the lease stays off for the rest of the term.
  for (int i = 0; i < 40; ++i)
    net->round();
  net->heal();
  for (int i = 0; i < 6; ++i)
    net->round();
  net->deliver_all();
  if (raft_of(*net, leader).state() == RaftBroadcast::State::leader) {
    const auto hits = net->status(leader).lease_hits;
    net->request_barrier(leader, 3, BarrierKind::lease);
    EXPECT_EQ(net->status(leader).lease_hits, hits);
  }
}
