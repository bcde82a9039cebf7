// Behaviour in the style of a classroom Raft lab, on the scripted network (one round = every
// message delivered, then one tick of every node; a tick is 10 ms by default).
#include <gtest/gtest.h>

#include "raft_test_util.hpp"

using namespace quorumlab;
using namespace quorumlab::raft;
using namespace quorumlab::raft::test;

TEST(Lab, NoNewElectionWhileTheLeaderLivesAndTheNetworkIsQuiet) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  std::uint64_t term = raft_of(*net, leader).term();
  for (int i = 0; i < 1000; ++i)
    net->round();
  EXPECT_EQ(net->leader(), leader);
  for (NodeId id : net->ids())
    EXPECT_EQ(raft_of(*net, id).term(), term);
}

TEST(Lab, AnIdleClusterExchangesABoundedNumberOfMessages) {
  // Bound: a heartbeat to each of the N-1 peers and its response every heartbeat interval:
  // 2 * (N - 1) * ticks / heartbeat_interval_ticks. With 3 nodes, 3 ticks (30 ms): about 133
  // messages per second of 100 ticks.
  auto net = make_network(3);
  net->start();
  elect(*net);
  for (int i = 0; i < 50; ++i)
    net->round();
  const std::size_t kTicks = 100;
  std::size_t delivered = 0;
  for (std::size_t i = 0; i < kTicks; ++i) {
    delivered += net->deliver_all();
    net->tick_all();
  }
  const std::size_t bound = 2 * 2 * (kTicks / 3 + 1);
  EXPECT_LE(delivered, bound);
  EXPECT_GT(delivered, 0u);
}

TEST(Lab, AgreementDespiteADisconnectedFollower) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  NodeId f = leader == 1 ? 2 : 1;
  net->isolate(f);
  ASSERT_TRUE(net->propose(leader, {txn("a")}).accepted);
  NodeId other = 6 - leader - f;
  ASSERT_TRUE(applied_everywhere(*net, txn("a"), 50, {leader, other}));
  net->heal();
  ASSERT_TRUE(applied_everywhere(*net, txn("a"), 200));
}

TEST(Lab, NoAgreementWithoutAQuorumAndProgressAfterHealing) {
  auto net = make_network(5);
  net->start();
  NodeId leader = elect(*net);
  std::vector<NodeId> cut;
  for (NodeId id : net->ids()) {
    if (id != leader && cut.size() < 3) cut.push_back(id);
  }
  for (NodeId id : cut)
    net->isolate(id);
  ASSERT_TRUE(net->propose(leader, {txn("minority")}).accepted);
  for (int i = 0; i < 100; ++i)
    net->round();
  for (NodeId id : net->ids())
    EXPECT_FALSE(has_applied(*net, id, txn("minority")));
  net->heal();
  // The rejoining servers' higher terms may depose a freshly elected leader before its entry
  // commits (plain raft): retry with whoever leads, as a client would.
  bool done = false;
  for (int attempt = 0; attempt < 5 && !done; ++attempt) {
    NodeId l2 = elect(*net, 500);
    ASSERT_NE(l2, 0u);
    if (!net->propose(l2, {txn("healed")}).accepted) continue;
    done = applied_everywhere(*net, txn("healed"), 100);
  }
  EXPECT_TRUE(done) << net->describe();
}

TEST(Lab, ALeaderIsElectedAgainAfterTheLeaderIsPartitionedAway) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  net->isolate(leader);
  // 5 s of simulated time = 500 ticks.
  bool elected = net->run_until(
      [&] {
        auto l = net->leader();
        return l && *l != leader && raft_of(*net, *l).term() > raft_of(*net, leader).term();
      },
      500);
  EXPECT_TRUE(elected) << net->describe();
}
