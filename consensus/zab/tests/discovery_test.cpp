// Reference §3.3, discovery: FOLLOWERINFO with acceptedEpoch, new epoch = max(accepted) + 1
// over a quorum, LEADERINFO, ACKEPOCH with currentEpoch and history, acceptedEpoch durable
// before ACKEPOCH (and before LEADERINFO on the leader), an epoch acknowledged only once, and
// the leader giving up when a follower's history is more recent than its own.
#include <gtest/gtest.h>

#include "zab_test_util.hpp"

using namespace quorumlab;
using namespace quorumlab::zab;
using namespace quorumlab::zab::test;
using consensus::testing::DurableDisk;

namespace {

DurableDisk epochs(std::uint64_t current, std::uint64_t accepted) {
  DurableDisk d;
  d.hard_state = make_hard_state(current, accepted);
  return d;
}

/// Delivers election notifications until node `leader` is LEADING (nothing else moves).
void run_election_only(ScriptedNetwork& net, NodeId leader) {
  for (int i = 0; i < 50 && zab_of(net, leader).peer_state() != PeerState::leading; ++i) {
    deliver_kind(net, wire::Kind::notification);
    if (zab_of(net, leader).peer_state() != PeerState::leading) net.tick_all();
  }
  ASSERT_EQ(zab_of(net, leader).peer_state(), PeerState::leading);
}

wire::AckEpoch ack_epoch_in_flight(const ScriptedNetwork& net, NodeId from) {
  auto ids = in_flight(net, wire::Kind::ack_epoch, from);
  EXPECT_EQ(ids.size(), 1u);
  return std::get<wire::AckEpoch>(wire::decode(net.find(ids.at(0))->payload)->body);
}

}  // namespace

TEST(Discovery_3_3, NewEpochIsOneAboveTheHighestAcceptedEpochOfAQuorum) {
  auto net = make_network(3);
  net->preload(1, epochs(1, 3));
  net->preload(2, epochs(1, 5));
  net->preload(3, epochs(1, 1));
  net->start();
  run_election_only(*net, 3);
  EXPECT_EQ(net->status(3).role, Role::candidate) << "a prospective leader, not yet established";
  // Node 2's FOLLOWERINFO (acceptedEpoch 5) completes the quorum {3, 2}.
  ASSERT_EQ(deliver_kind(*net, wire::Kind::learner_info, 2, 3), 1u);
  EXPECT_EQ(zab_of(*net, 3).accepted_epoch(), 6u);
  auto info = in_flight(*net, wire::Kind::leader_info, 3, 2);
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(std::get<wire::LeaderInfo>(wire::decode(net->find(info[0])->payload)->body).new_epoch,
            6u);
  ASSERT_EQ(elect(*net), 3u);
  EXPECT_EQ(net->status(3).epoch, 6u);
  for (NodeId id : net->ids())
    EXPECT_EQ(zab_of(*net, id).accepted_epoch(), 6u);
}

TEST(Discovery_3_3, ALearnerThatAcceptedAHigherEpochMakesTheLeaderStartOver) {
  auto net = make_network(3);
  net->preload(1, epochs(1, 3));
  net->preload(2, epochs(1, 5));
  net->preload(3, epochs(1, 1));
  net->start();
  run_election_only(*net, 3);
  // Node 1 (accepted 3) completes the quorum first: epoch 4, which node 2 promised never to
  // follow (acceptedEpoch 5). ZooKeeper leaves node 2 out forever; we re-elect.
  ASSERT_EQ(deliver_kind(*net, wire::Kind::learner_info, 1, 3), 1u);
  EXPECT_EQ(zab_of(*net, 3).accepted_epoch(), 4u);
  deliver_kind(*net, wire::Kind::learner_info, 2, 3);
  EXPECT_EQ(zab_of(*net, 3).peer_state(), PeerState::looking);
  NodeId leader = elect(*net);
  // The next quorum may or may not include node 2; either way the epoch is at least its
  // accepted epoch 5, which it can follow.
  EXPECT_GE(net->status(leader).epoch, 5u);
  EXPECT_TRUE(net->run_until(
      [&] {
        return net->status(2).role == Role::follower &&
               net->status(2).epoch == net->status(leader).epoch;
      },
      30));
  ASSERT_TRUE(net->propose(leader, {txn("x")}).accepted);
  EXPECT_TRUE(applied_everywhere(*net, txn("x")));
}

TEST(Discovery_3_3, ALostFollowerInfoIsRepeatedUntilLeaderInfoArrives) {
  // A learner may settle before its leader leaves LOOKING; the leader drops the FOLLOWERINFO
  // then. ZooKeeper's learner retries connectToLeader; ours repeats FOLLOWERINFO every tick
  // instead of waiting initLimit for a leader that is waiting for it.
  auto net = make_network(3);
  net->start();
  run_election_only(*net, 3);
  for (auto id : in_flight(*net, wire::Kind::learner_info))
    net->drop(id);
  net->isolate(2);
  net->tick(1);
  ASSERT_EQ(in_flight(*net, wire::Kind::learner_info, 1, 3).size(), 1u);
  ASSERT_EQ(deliver_kind(*net, wire::Kind::learner_info, 1, 3), 1u);
  // A repeat with the same nonce is a duplicate: one handler, one LEADERINFO.
  net->tick(1);
  deliver_kind(*net, wire::Kind::learner_info, 1, 3);
  net->complete_persist(3);
  EXPECT_EQ(in_flight(*net, wire::Kind::leader_info, 3, 1).size(), 1u);
  ASSERT_EQ(deliver_kind(*net, wire::Kind::leader_info, 3, 1), 1u);
  net->tick(1);
  EXPECT_TRUE(in_flight(*net, wire::Kind::learner_info, 1).empty()) << "LEADERINFO arrived";
  EXPECT_TRUE(net->run_until([&] { return net->status(3).can_propose; }, 5));
}

TEST(Discovery_3_3, AcceptedEpochIsDurableBeforeAckEpochLeaves) {
  auto net = make_network(3);
  net->start();
  run_election_only(*net, 3);
  net->set_auto_persist(1, false);
  deliver_kind(*net, wire::Kind::learner_info);
  ASSERT_EQ(deliver_kind(*net, wire::Kind::leader_info, 3, 1), 1u);
  EXPECT_EQ(zab_of(*net, 1).accepted_epoch(), 1u);
  EXPECT_TRUE(in_flight(*net, wire::Kind::ack_epoch, 1).empty()) << "waits for the disk";
  EXPECT_EQ(accepted_epoch_of(net->disk(1).hard_state).value_or(0), 0u);
  net->complete_persist(1);
  EXPECT_EQ(accepted_epoch_of(net->disk(1).hard_state).value_or(0), 1u);
  auto ack = ack_epoch_in_flight(*net, 1);
  EXPECT_TRUE(ack.counts);
  EXPECT_EQ(ack.current_epoch, 0u);
}

TEST(Discovery_3_3, LeaderInfoLeavesOnlyOnceTheLeadersAcceptedEpochIsDurable) {
  auto net = make_network(3);
  net->start();
  run_election_only(*net, 3);
  net->set_auto_persist(3, false);
  deliver_kind(*net, wire::Kind::learner_info);
  EXPECT_EQ(zab_of(*net, 3).accepted_epoch(), 1u);
  EXPECT_TRUE(in_flight(*net, wire::Kind::leader_info).empty());
  net->complete_persist(3);
  EXPECT_EQ(accepted_epoch_of(net->disk(3).hard_state).value_or(0), 1u);
  EXPECT_EQ(in_flight(*net, wire::Kind::leader_info).size(), 2u);
}

TEST(Discovery_3_3, AnEpochIsAcknowledgedOnlyOnce) {
  auto net = make_network(3);
  // Node 1 already accepted epoch 2 (from a leader that never established it).
  net->preload(1, epochs(1, 2));
  net->preload(2, epochs(1, 1));
  net->preload(3, epochs(1, 1));
  net->start();
  run_election_only(*net, 3);
  deliver_kind(*net, wire::Kind::learner_info, 2, 3);  // epoch max(1, 1) + 1 = 2
  ASSERT_EQ(zab_of(*net, 3).accepted_epoch(), 2u);
  deliver_kind(*net, wire::Kind::learner_info, 1, 3);
  deliver_kind(*net, wire::Kind::leader_info, 3, 1);
  auto ack1 = ack_epoch_in_flight(*net, 1);
  EXPECT_FALSE(ack1.counts) << "node 1 acknowledged epoch 2 before: its reply does not count";
  deliver_kind(*net, wire::Kind::ack_epoch, 1, 3);
  EXPECT_EQ(net->status(3).role, Role::candidate) << "{3, 1} is not a quorum for epoch 2";
  deliver_kind(*net, wire::Kind::leader_info, 3, 2);
  deliver_kind(*net, wire::Kind::ack_epoch, 2, 3);
  EXPECT_EQ(net->status(3).role, Role::leader);
  EXPECT_EQ(net->status(3).epoch, 2u);
  net->deliver_all();
  EXPECT_EQ(net->status(1).epoch, 2u) << "node 1 is synchronized all the same";
}

TEST(Discovery_3_3, AckEpochCarriesTheLearnersHistory) {
  auto net = make_network(3);
  DurableDisk d = epochs(2, 2);
  d.entries = {{1, 1, make_zxid(1, 1), txn("a")},
               {2, 1, make_zxid(1, 2), txn("b")},
               {3, 2, make_zxid(2, 1), txn("c")}};
  net->preload(1, d);
  net->start();
  net->isolate(1);
  run_election_only(*net, 3);
  net->heal();
  net->drop_all(3, 1);
  // Node 1 finds the leader through FOLLOWING/LEADING notifications and registers.
  ASSERT_TRUE(step_until(*net, [&] { return !in_flight(*net, wire::Kind::ack_epoch, 1).empty(); }));
  auto a = ack_epoch_in_flight(*net, 1);
  EXPECT_EQ(a.current_epoch, 2u);
  EXPECT_EQ(a.last_zxid, make_zxid(2, 1));
  ASSERT_EQ(a.segments.size(), 2u);
  EXPECT_EQ(a.segments[0].epoch, 2u);
  EXPECT_EQ(a.segments[0].first_index, 3u);
  EXPECT_EQ(a.segments[1].epoch, 1u);
  EXPECT_EQ(a.segments[1].last_index, 2u);
  EXPECT_TRUE(a.segments_complete);
}

TEST(Discovery_3_3, AFollowerAheadOfTheLeaderMakesItGiveUp) {
  auto net = make_network(3);
  DurableDisk ahead = epochs(2, 2);
  ahead.entries = {{1, 2, make_zxid(2, 1), txn("ahead")}};
  net->preload(1, ahead);
  net->preload(2, epochs(1, 1));
  net->preload(3, epochs(1, 1));
  net->start();
  // Node 1 is cut off while 2 and 3 elect 3; 2's FOLLOWERINFO is lost.
  net->isolate(1);
  run_election_only(*net, 3);
  net->drop_all(2, 3);
  net->heal();
  net->block(2, 3);
  // Node 1 registers: epoch = max(1, 2) + 1 = 3, and its ACKEPOCH says currentEpoch 2 > 1.
  bool gave_up =
      net->run_until([&] { return zab_of(*net, 3).peer_state() == PeerState::looking; }, 10);
  EXPECT_TRUE(gave_up) << "Follower is ahead of the leader";
  net->heal();
  EXPECT_EQ(elect(*net), 1u) << "the server with the most recent history wins next";
  EXPECT_TRUE(applied_everywhere(*net, txn("ahead"), 100));
}

TEST(Discovery_3_3, StreamPacketsNeverOvertakeOnesWaitingForTheDisk) {
  auto net = make_network(3);
  net->start();
  run_election_only(*net, 3);
  net->set_auto_persist(3, false);
  deliver_kind(*net, wire::Kind::learner_info);
  net->tick(3);  // a PING for each learner, in a later Ready than the LEADERINFOs
  net->tick(3);
  EXPECT_TRUE(in_flight(*net, wire::Kind::leader_info).empty());
  EXPECT_TRUE(in_flight(*net, wire::Kind::ping).empty()) << "it would overtake LEADERINFO";
  net->complete_persist(3);
  for (NodeId f : {1u, 2u}) {
    auto link = net->messages(3, f);
    ASSERT_GE(link.size(), 3u);
    EXPECT_EQ(kind_of(*net->find(link[0])), wire::Kind::leader_info);
    EXPECT_EQ(kind_of(*net->find(link[1])), wire::Kind::ping);
  }
  net->set_auto_persist(3, true);
  EXPECT_EQ(elect(*net), 3u) << "the learners saw no gap";
  EXPECT_EQ(net->status(1).role, Role::follower);
}
