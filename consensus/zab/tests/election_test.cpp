// Reference §3.2, Fast Leader Election: vote order (peer epoch, zxid, server id), settling after
// a quorum agrees and finalizeWait passes, logical clocks, joining an established leader, and
// observers that neither win nor vote.
#include <gtest/gtest.h>

#include "zab_test_util.hpp"

using namespace quorumlab;
using namespace quorumlab::zab;
using namespace quorumlab::zab::test;
using consensus::testing::DurableDisk;

namespace {

/// A durable disk whose log has `count` entries of `epoch` (counters 1..count).
DurableDisk disk_with(std::uint64_t current_epoch, std::uint32_t epoch, std::uint32_t count,
                      LogIndex first_index = 1) {
  DurableDisk d;
  d.hard_state = make_hard_state(current_epoch, current_epoch);
  for (std::uint32_t c = 1; c <= count; ++c) {
    d.entries.push_back(LogEntry{first_index + c - 1, epoch, make_zxid(epoch, c),
                                 txn("e" + std::to_string(epoch) + "." + std::to_string(c))});
  }
  return d;
}

}  // namespace

TEST(Election_3_2, TotalOrderPredicateComparesPeerEpochThenZxidThenId) {
  Membership m{{1, 2, 3}, {4}};
  // Higher peer epoch wins even with a lower zxid and id.
  EXPECT_TRUE(total_order_predicate(m, 1, make_zxid(1, 1), 3, 3, make_zxid(2, 9), 2));
  // Same peer epoch: higher zxid wins.
  EXPECT_TRUE(total_order_predicate(m, 1, make_zxid(2, 5), 2, 3, make_zxid(2, 4), 2));
  EXPECT_FALSE(total_order_predicate(m, 3, make_zxid(2, 4), 2, 1, make_zxid(2, 5), 2));
  // Same peer epoch and zxid: higher id wins.
  EXPECT_TRUE(total_order_predicate(m, 3, 7, 2, 2, 7, 2));
  EXPECT_FALSE(total_order_predicate(m, 2, 7, 2, 3, 7, 2));
  EXPECT_FALSE(total_order_predicate(m, 2, 7, 2, 2, 7, 2)) << "a vote does not beat itself";
  // An observer (no quorum weight) never wins, whatever it has.
  EXPECT_FALSE(total_order_predicate(m, 4, make_zxid(9, 9), 9, 1, 0, 0));
  EXPECT_FALSE(total_order_predicate(m, 0, make_zxid(9, 9), 9, 1, 0, 0));
}

TEST(Election_3_2, EqualZxidsElectTheHighestId) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  EXPECT_EQ(leader, 3u);
  EXPECT_EQ(net->status(3).epoch, 1u) << "new epoch = max(acceptedEpoch) + 1 = 1";
  EXPECT_EQ(net->status(1).role, Role::follower);
  EXPECT_EQ(net->status(1).leader, 3u);
  EXPECT_EQ(net->status(2).leader, 3u);
  EXPECT_EQ(zab_of(*net, 1).current_vote().leader, 3u);
}

TEST(Election_3_2, HigherZxidBeatsHigherId) {
  auto net = make_network(3);
  net->preload(1, disk_with(1, 1, 5));
  net->preload(2, disk_with(1, 1, 4));
  net->preload(3, disk_with(1, 1, 4));
  net->start();
  EXPECT_EQ(elect(*net), 1u);
  EXPECT_EQ(net->status(1).epoch, 2u);
}

TEST(Election_3_2, HigherPeerEpochBeatsHigherZxid) {
  auto net = make_network(3);
  // Node 1 acknowledged epoch 5 (currentEpoch 5) with a history of epoch 2 only; node 3 has
  // uncommitted proposals of epoch 4 but only currentEpoch 4.
  net->preload(1, disk_with(5, 2, 3));
  net->preload(2, disk_with(4, 2, 3));
  DurableDisk d3 = disk_with(4, 2, 3);
  d3.entries.push_back(LogEntry{4, 4, make_zxid(4, 1), txn("e4.1")});
  net->preload(3, d3);
  net->start();
  EXPECT_EQ(elect(*net), 1u);
  EXPECT_EQ(net->status(1).epoch, 6u);
  // Node 3's uncommitted epoch-4 tail is truncated when it syncs.
  ASSERT_TRUE(net->run_until(
      [&] {
        return net->status(3).role == Role::follower &&
               zab_of(*net, 3).phase_name() == std::string("broadcast");
      },
      50));
  EXPECT_EQ(zab_of(*net, 3).log().last_zxid(), make_zxid(2, 3));
}

TEST(Election_3_2, SettlesOnlyAfterFinalizeWait) {
  auto net = make_network(3, 0, {{"finalize_wait_ticks", std::int64_t{3}}});
  net->start();
  net->deliver_all();  // every vote is exchanged: everyone proposes 3, a quorum agrees
  for (NodeId id : net->ids())
    EXPECT_EQ(zab_of(*net, id).peer_state(), PeerState::looking);
  net->tick_all();
  net->tick_all();
  net->deliver_all();
  for (NodeId id : net->ids())
    EXPECT_EQ(zab_of(*net, id).peer_state(), PeerState::looking);
  net->tick_all();  // the third tick ends finalizeWait
  EXPECT_EQ(zab_of(*net, 3).peer_state(), PeerState::leading);
  EXPECT_EQ(zab_of(*net, 1).peer_state(), PeerState::following);
}

TEST(Election_3_2, ABetterVoteDuringFinalizeWaitWins) {
  auto net = make_network(3, 0, {{"finalize_wait_ticks", std::int64_t{3}}});
  net->start();
  net->isolate(3);
  net->deliver_all();
  // 1 and 2 agree on 2 and wait.
  net->tick(1);
  net->tick(2);
  EXPECT_EQ(zab_of(*net, 1).peer_state(), PeerState::looking);
  net->heal();
  net->tick(3);  // 3 resends its vote later...
  net->tick(3);
  net->deliver_all();  // ...and it is better: everyone switches to 3 before settling
  net->run_until([&] { return net->leader().has_value(); }, 20);
  EXPECT_EQ(net->leader(), std::optional<NodeId>(3));
}

TEST(Election_3_2, LeaderLossElectsTheBestRemainingServer) {
  auto net = make_network(5);
  net->start();
  NodeId first = elect(*net);
  ASSERT_EQ(first, 5u);
  ASSERT_TRUE(net->propose(5, {txn("a")}).accepted);
  ASSERT_TRUE(applied_everywhere(*net, txn("a")));
  net->crash(5);
  NodeId second = elect(*net, 100);
  EXPECT_EQ(second, 4u) << "equal zxids: highest remaining id";
  EXPECT_EQ(net->status(4).epoch, 2u);
  ASSERT_TRUE(net->propose(4, {txn("b")}).accepted);
  EXPECT_TRUE(applied_everywhere(*net, txn("b")));
}

TEST(Election_3_2, RestartedServerJoinsTheEstablishedLeader) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  net->propose(leader, {txn("a")});
  ASSERT_TRUE(applied_everywhere(*net, txn("a")));
  net->crash(1);
  net->propose(leader, {txn("b")});
  ASSERT_TRUE(applied_everywhere(*net, txn("b"), 50, {2, 3}));
  std::uint64_t epoch = net->status(leader).epoch;
  net->restart(1);
  ASSERT_TRUE(net->run_until(
      [&] { return net->status(1).role == Role::follower && has_applied(*net, 1, txn("b")); }, 30));
  EXPECT_EQ(net->status(1).leader, leader);
  EXPECT_EQ(net->status(leader).epoch, epoch) << "no new election: the epoch did not change";
  EXPECT_EQ(net->leader(), std::optional<NodeId>(leader));
  EXPECT_EQ(applied_texts(*net, 1), (std::vector<std::string>{"a", "b"}));
}

TEST(Election_3_2, ObserversNeverWinAndDoNotVote) {
  auto net = make_network(3, 1);  // voters 1..3, observer 4
  net->start();
  NodeId leader = elect(*net);
  EXPECT_EQ(leader, 3u) << "observer 4 has the highest id but never wins";
  EXPECT_EQ(net->status(4).role, Role::learner);
  EXPECT_EQ(net->status(4).leader, 3u);
  net->crash(2);
  net->crash(3);
  // Voter 1 and observer 4 are two of four servers, but only voters count: no quorum.
  net->run_until([&] { return false; }, 60);
  EXPECT_FALSE(net->leader().has_value());
  EXPECT_NE(net->status(1).role, Role::leader);
  EXPECT_NE(net->status(4).role, Role::leader);
  net->restart(2);
  EXPECT_EQ(elect(*net), 2u);
  EXPECT_TRUE(net->run_until(
      [&] { return net->status(4).role == Role::learner && net->status(4).leader == 2u; }, 30));
}

TEST(Election_3_2, NotificationsBackOffWhileNobodyAnswers) {
  auto net = make_network(
      3, 0,
      {{"notification_min_ticks", std::int64_t{1}}, {"notification_max_ticks", std::int64_t{8}}});
  net->start();
  net->crash(2);
  net->crash(3);
  net->drop_all();
  std::vector<std::uint64_t> resend_ticks;
  for (std::uint64_t t = 1; t <= 40; ++t) {
    net->tick(1);
    if (!net->messages(1, 0).empty()) resend_ticks.push_back(t);
    net->drop_all();
  }
  // Intervals 1, 2, 4, 8, 8, ...
  ASSERT_GE(resend_ticks.size(), 5u);
  EXPECT_EQ(resend_ticks[0], 1u);
  EXPECT_EQ(resend_ticks[1], 3u);
  EXPECT_EQ(resend_ticks[2], 7u);
  EXPECT_EQ(resend_ticks[3], 15u);
  EXPECT_EQ(resend_ticks[4], 23u);
}
