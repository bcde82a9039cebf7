// Read-only queries (thesis 6.4): the barriers sync_op, read_index and leader_commit.
#include <gtest/gtest.h>

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

TEST(Barriers, LeaseIsNotImplementedAndFailsAsUnsupported) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  net->request_barrier(leader, 9, BarrierKind::lease);
  auto b = net->barrier(leader, 9);
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->ok);
  EXPECT_EQ(b->failure, BarrierFailure::unsupported);
  EXPECT_EQ(kBarrierKinds & barrier_bit(BarrierKind::lease), 0u);
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
