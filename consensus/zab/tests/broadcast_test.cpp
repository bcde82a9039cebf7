// Reference §3.1 (zxid = epoch << 32 | counter, rollover forces a new epoch) and §3.5 (quorum
// ACK and in-order commit): PROPOSAL goes out at once, followers ACK after persisting, the
// leader's own ACK counts once durable, COMMIT strictly in zxid order, INFORM to observers.
// Crash and partition scenarios: a proposal is committed everywhere or truncated everywhere.
#include <gtest/gtest.h>

#include "zab_test_util.hpp"

using namespace quorumlab;
using namespace quorumlab::zab;
using namespace quorumlab::zab::test;

namespace {

std::vector<Zxid> applied_zxids(const ScriptedNetwork& net, NodeId id) {
  std::vector<Zxid> out;
  for (const auto& t : net.applied(id))
    out.push_back(t.zxid);
  return out;
}

}  // namespace

TEST(Zxid_3_1, ProposalsCountFromOneInEachEpoch) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  auto r = net->propose(leader, {txn("a"), txn("b")});
  ASSERT_TRUE(r.accepted);
  EXPECT_EQ(r.first_zxid, make_zxid(1, 1));
  EXPECT_EQ(net->propose(leader, {txn("c")}).first_zxid, make_zxid(1, 3));
  ASSERT_TRUE(applied_everywhere(*net, txn("c")));
  net->crash(leader);
  NodeId next = elect(*net);
  EXPECT_EQ(net->status(next).epoch, 2u);
  EXPECT_EQ(net->propose(next, {txn("d")}).first_zxid, make_zxid(2, 1));
  ASSERT_TRUE(applied_everywhere(*net, txn("d")));
  EXPECT_EQ(applied_zxids(*net, next), (std::vector<Zxid>{make_zxid(1, 1), make_zxid(1, 2),
                                                          make_zxid(1, 3), make_zxid(2, 1)}));
}

TEST(Zxid_3_1, CounterRolloverForcesANewEpoch) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  zab_of(*net, leader).set_next_counter_for_test(0xfffffffeu);
  EXPECT_EQ(net->propose(leader, {txn("x")}).first_zxid, make_zxid(1, 0xfffffffeu));
  EXPECT_EQ(net->propose(leader, {txn("y")}).first_zxid, make_zxid(1, 0xffffffffu));
  ASSERT_TRUE(applied_everywhere(*net, txn("y")));
  // The next counter would spill into the epoch bits: refuse, give up leadership.
  auto r = net->propose(leader, {txn("z")});
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(zab_of(*net, leader).peer_state(), PeerState::looking);
  NodeId next = elect(*net);
  EXPECT_EQ(net->status(next).epoch, 2u);
  r = net->propose(next, {txn("z")});
  ASSERT_TRUE(r.accepted);
  EXPECT_EQ(r.first_zxid, make_zxid(2, 1));
  ASSERT_TRUE(applied_everywhere(*net, txn("z")));
  EXPECT_EQ(applied_texts(*net, 1), (std::vector<std::string>{"x", "y", "z"}));
}

TEST(Zxid_3_1, ABatchThatWouldRollOverIsRefusedWhole) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  zab_of(*net, leader).set_next_counter_for_test(0xffffffffu);
  auto last = net->status(leader).last_index;
  EXPECT_FALSE(net->propose(leader, {txn("a"), txn("b")}).accepted);
  EXPECT_EQ(zab_of(*net, leader).log().last_index(), last) << "nothing of the batch was logged";
}

TEST(Broadcast_3_5, NonLeadersRefuseProposalsWithAHint) {
  auto net = make_network(3);
  net->start();
  auto r = net->propose(1, {txn("a")});
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.leader_hint, 0u) << "LOOKING: no leader known";
  NodeId leader = elect(*net);
  r = net->propose(1, {txn("a")});
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.leader_hint, leader);
  EXPECT_TRUE(net->applied(1).empty());
}

TEST(Broadcast_3_5, ProposalsLeaveAtOnceAndFollowersAckOnlyAfterPersisting) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  net->set_auto_persist(leader, false);
  net->set_auto_persist(1, false);
  net->propose(leader, {txn("a")});
  EXPECT_EQ(in_flight(*net, wire::Kind::proposal, leader).size(), 2u)
      << "PROPOSAL does not wait for the leader's own disk";
  deliver_kind(*net, wire::Kind::proposal, leader, 1);
  EXPECT_TRUE(in_flight(*net, wire::Kind::ack, 1).empty()) << "follower 1 has not persisted";
  net->complete_persist(1);
  EXPECT_EQ(in_flight(*net, wire::Kind::ack, 1).size(), 1u);
}

TEST(Broadcast_3_5, TheLeadersOwnAckCountsOnlyOnceDurable) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  NodeId f = leader == 1 ? 2 : 1;
  NodeId other = 6 - leader - f;
  net->crash(other);
  net->set_auto_persist(leader, false);
  net->propose(leader, {txn("a")});
  net->deliver_all();
  EXPECT_TRUE(net->applied(leader).empty()) << "follower's ACK alone is not a quorum";
  net->complete_persist(leader);
  EXPECT_EQ(applied_texts(*net, leader), (std::vector<std::string>{"a"}));
}

TEST(Broadcast_3_5, CommitNeedsAQuorumAndGoesInZxidOrder) {
  auto net = make_network(5);
  net->start();
  ASSERT_EQ(elect(*net), 5u);
  net->propose(5, {txn("a")});
  net->propose(5, {txn("b")});
  for (NodeId f : {1u, 2u}) {
    deliver_kind(*net, wire::Kind::proposal, 5, f);
  }
  // Only the ACKs of "b" reach the leader: each acknowledges "a" as well (cumulative).
  auto acks1 = in_flight(*net, wire::Kind::ack, 1, 5);
  ASSERT_EQ(acks1.size(), 2u);
  net->drop(acks1[0]);
  net->deliver(acks1[1]);
  EXPECT_TRUE(net->applied(5).empty()) << "leader + node 1 are 2 of 5";
  EXPECT_TRUE(in_flight(*net, wire::Kind::commit).empty());
  auto acks2 = in_flight(*net, wire::Kind::ack, 2, 5);
  net->deliver(acks2.back());
  EXPECT_EQ(applied_texts(*net, 5), (std::vector<std::string>{"a", "b"}));
  auto commits = in_flight(*net, wire::Kind::commit, 5);
  EXPECT_EQ(commits.size(), 4u) << "one cumulative COMMIT per follower";
  ASSERT_TRUE(applied_everywhere(*net, txn("b")));
  for (NodeId id : net->ids())
    EXPECT_EQ(applied_texts(*net, id), (std::vector<std::string>{"a", "b"}));
}

TEST(Broadcast_3_5, ObserversGetInformOfCommittedProposalsOnly) {
  auto net = make_network(3, 1);
  net->start();
  NodeId leader = elect(*net);
  ASSERT_TRUE(net->run_until(
      [&] {
        return net->status(4).role == Role::learner &&
               zab_of(*net, 4).phase_name() == std::string("broadcast");
      },
      20));
  net->propose(leader, {txn("a")});
  EXPECT_TRUE(in_flight(*net, wire::Kind::proposal, leader, 4).empty())
      << "no PROPOSAL to observers";
  deliver_kind(*net, wire::Kind::proposal);
  deliver_kind(*net, wire::Kind::ack);
  auto informs = in_flight(*net, wire::Kind::inform, leader, 4);
  ASSERT_EQ(informs.size(), 1u);
  net->deliver(informs[0]);
  EXPECT_EQ(applied_texts(*net, 4), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(in_flight(*net, wire::Kind::ack, 4).empty()) << "observers do not ACK proposals";
}

TEST(Broadcast_3_5, ObserversDoNotCountTowardsTheQuorum) {
  auto net = make_network(3, 2);  // voters 1..3, observers 4, 5
  net->start();
  NodeId leader = elect(*net);
  ASSERT_EQ(leader, 3u);
  net->propose(3, {txn("a")});
  ASSERT_TRUE(applied_everywhere(*net, txn("a")));
  net->crash(1);
  net->crash(2);
  auto r = net->propose(3, {txn("b")});
  ASSERT_TRUE(r.accepted);
  net->run_until([] { return false; }, 30);
  EXPECT_FALSE(has_applied(*net, 3, txn("b"))) << "leader + 2 observers are not a quorum of voters";
  EXPECT_FALSE(has_applied(*net, 4, txn("b")));
  EXPECT_NE(net->status(3).role, Role::leader) << "and the leader gave up";
}

TEST(Broadcast_3_5, LeaderCrashAfterAProposalReachedOneFollower_CommittedEverywhere) {
  auto net = make_network(3);
  net->start();
  ASSERT_EQ(elect(*net), 3u);
  net->propose(3, {txn("a")});
  ASSERT_TRUE(applied_everywhere(*net, txn("a")));
  net->propose(3, {txn("x")});
  deliver_kind(*net, wire::Kind::proposal, 3, 2);  // node 2 logs x (and ACKs)
  net->drop_all(3, 1);
  net->drop_all(2, 3);  // the ACK is lost: x is not committed
  EXPECT_FALSE(has_applied(*net, 3, txn("x")));
  net->crash(3);
  ASSERT_EQ(elect(*net), 2u) << "node 2 has the highest zxid";
  // x is part of the new leader's initial history: committed with the new epoch.
  ASSERT_TRUE(applied_everywhere(*net, txn("x"), 50, {1, 2}));
  net->restart(3);
  ASSERT_TRUE(applied_everywhere(*net, txn("x")));
  for (NodeId id : net->ids())
    EXPECT_EQ(applied_texts(*net, id), (std::vector<std::string>{"a", "x"}));
}

TEST(Broadcast_3_5, LeaderCrashBeforeAProposalLeftIt_TruncatedEverywhere) {
  auto net = make_network(3);
  net->start();
  ASSERT_EQ(elect(*net), 3u);
  net->propose(3, {txn("a")});
  ASSERT_TRUE(applied_everywhere(*net, txn("a")));
  net->propose(3, {txn("x")});
  net->drop_all(3, 0);
  net->crash(3);
  NodeId leader = elect(*net);
  net->propose(leader, {txn("b")});
  ASSERT_TRUE(applied_everywhere(*net, txn("b"), 50, {1, 2}));
  net->restart(3);
  ASSERT_TRUE(applied_everywhere(*net, txn("b")));
  for (NodeId id : net->ids()) {
    EXPECT_EQ(applied_texts(*net, id), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(zab_of(*net, id).log().last_index(), 2u);
  }
}

TEST(Broadcast_3_5, APartitionedOldLeaderCommitsNothingAndRejoinsAsFollower) {
  auto net = make_network(3);
  net->start();
  ASSERT_EQ(elect(*net), 3u);
  net->propose(3, {txn("a")});
  ASSERT_TRUE(applied_everywhere(*net, txn("a")));
  net->isolate(3);
  // Until it notices, the old leader still accepts proposals, which can never commit.
  ASSERT_TRUE(net->propose(3, {txn("lost")}).accepted);
  NodeId leader = 0;
  ASSERT_TRUE(net->run_until(
      [&] {
        auto l = net->leader();
        if (l && *l != 3) leader = *l;
        return leader != 0 && net->status(3).role != Role::leader;
      },
      40));
  EXPECT_FALSE(has_applied(*net, 3, txn("lost")));
  net->propose(leader, {txn("b")});
  ASSERT_TRUE(applied_everywhere(*net, txn("b"), 50, {1, 2}));
  net->heal();
  ASSERT_TRUE(applied_everywhere(*net, txn("b")));
  EXPECT_EQ(net->status(3).role, Role::follower);
  EXPECT_EQ(net->status(3).leader, leader);
  for (NodeId id : net->ids()) {
    EXPECT_EQ(applied_texts(*net, id), (std::vector<std::string>{"a", "b"}));
    for (const auto& e : zab_of(*net, id).log().entries_from(1))
      EXPECT_NE(e.data, txn("lost"));
  }
}
