// Leadership transfer (thesis 3.10): TimeoutNow once the target is up to date, no proposals
// meanwhile, an election without PreVote that check_quorum lets through, and the transfer given
// up after an election timeout.
#include <gtest/gtest.h>

#include "raft_test_util.hpp"

using namespace quorumlab;
using namespace quorumlab::raft;
using namespace quorumlab::raft::test;
using State = RaftBroadcast::State;

namespace {

bool leads(ScriptedNetwork& net, NodeId id) {
  BroadcastStatus s = net.status(id);
  return net.is_up(id) && s.role == Role::leader && s.can_propose;
}

NodeId other_than(NodeId a, NodeId b) {
  return 6 - a - b;  // 3 nodes: 1 + 2 + 3
}

}  // namespace

TEST(Transfer_3_10, ToAnUpToDateFollowerTheTargetLeadsInTheNextTerm) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  ASSERT_NE(leader, 0u);
  ASSERT_TRUE(net->propose(leader, {txn("a")}).accepted);
  ASSERT_TRUE(applied_everywhere(*net, txn("a")));
  NodeId target = leader == 1 ? 2 : 1;
  std::uint64_t term = raft_of(*net, leader).term();

  TransferResult r = net->transfer_leadership(leader, target);
  ASSERT_EQ(r.status, TransferStatus::started) << r.detail;
  // Up to date already: TimeoutNow leaves at once.
  EXPECT_EQ(in_flight(*net, wire::Type::timeout_now, leader, target).size(), 1u);
  EXPECT_EQ(net->status(leader).sub_state, "leader/transfer to " + std::to_string(target));

  ASSERT_TRUE(net->run_until([&] { return leads(*net, target); }, 50)) << net->describe();
  EXPECT_EQ(raft_of(*net, target).term(), term + 1);
  EXPECT_EQ(raft_of(*net, leader).state(), State::follower);
  EXPECT_EQ(raft_of(*net, leader).transfer_target(), 0u);
  EXPECT_EQ(raft_of(*net, leader).voted_for(), target);
  EXPECT_EQ(net->tracer(target).count(TraceKind::became_candidate, "leadership transfer"), 1u);
  EXPECT_EQ(net->tracer(leader).count(TraceKind::custom, "TimeoutNow sent"), 1u);
  EXPECT_EQ(net->tracer(leader).count(TraceKind::custom, "done: stepped down"), 1u);
  // The new leader commits as usual, and everyone has what was committed before.
  ASSERT_TRUE(net->propose(target, {txn("b")}).accepted);
  EXPECT_TRUE(applied_everywhere(*net, txn("b")));
}

TEST(Transfer_3_10, ToAFollowerThatIsBehindWaitsUntilItCaughtUp) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  ASSERT_NE(leader, 0u);
  NodeId target = leader == 1 ? 2 : 1;
  NodeId other = other_than(leader, target);
  net->isolate(target);
  for (const char* s : {"a", "b", "c"}) {
    ASSERT_TRUE(net->propose(leader, {txn(s)}).accepted);
    net->deliver_all();
  }
  ASSERT_TRUE(has_applied(*net, other, txn("c")));
  ASSERT_FALSE(has_applied(*net, target, txn("a")));
  const LogIndex last = raft_of(*net, leader).log().last_index();
  ASSERT_LT(raft_of(*net, leader).progress(target)->match, last);

  ASSERT_EQ(net->transfer_leadership(leader, target).status, TransferStatus::started);
  // While the target lacks entries: no TimeoutNow, the leader keeps leading (a few ticks of
  // the reachable nodes only, well within the election timeout).
  for (int i = 0; i < 5; ++i) {
    net->tick(leader);
    net->tick(other);
    net->deliver_all();
    EXPECT_TRUE(in_flight(*net, wire::Type::timeout_now).empty());
    EXPECT_EQ(net->tracer(leader).count(TraceKind::custom, "TimeoutNow sent"), 0u);
    EXPECT_TRUE(leads(*net, leader));
    EXPECT_EQ(raft_of(*net, leader).transfer_target(), target);
  }
  net->drop_all();
  net->heal();
  // Caught up first, then TimeoutNow: when it reaches the target, its log ends where the
  // leader's does.
  bool saw_timeout_now = false;
  for (int i = 0; i < 2000 && !leads(*net, target); ++i) {
    auto tn = in_flight(*net, wire::Type::timeout_now, leader, target);
    if (!tn.empty()) {
      EXPECT_EQ(raft_of(*net, target).log().last_index(), last);
      saw_timeout_now = true;
      net->deliver(tn.front());
      continue;
    }
    auto all = net->messages();
    if (!all.empty()) {
      net->deliver(all.front());  // one message at a time: TimeoutNow is seen in flight
      continue;
    }
    net->tick_all();
  }
  EXPECT_TRUE(saw_timeout_now);
  ASSERT_TRUE(leads(*net, target)) << net->describe();
  EXPECT_TRUE(has_applied(*net, target, txn("c")));
  EXPECT_EQ(net->tracer(leader).count(TraceKind::custom, "aborted"), 0u);
}

TEST(Transfer_3_10, AbortsAfterAnElectionTimeoutWhenTheTargetIsDown) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  ASSERT_NE(leader, 0u);
  NodeId target = leader == 1 ? 2 : 1;
  NodeId other = other_than(leader, target);
  net->crash(target);
  ASSERT_EQ(net->transfer_leadership(leader, target).status, TransferStatus::started);
  const auto timeout = raft_of(*net, leader).config().election_timeout_max_ticks;
  for (std::int64_t i = 0; i + 1 < timeout; ++i) {
    net->tick(leader);
    net->tick(other);
    net->deliver_all();
  }
  EXPECT_EQ(raft_of(*net, leader).transfer_target(), target);
  EXPECT_FALSE(net->propose(leader, {txn("refused")}).accepted);
  net->tick(leader);
  EXPECT_EQ(raft_of(*net, leader).transfer_target(), 0u);
  EXPECT_EQ(net->tracer(leader).count(TraceKind::custom, "aborted: not done within an election"),
            1u);
  // The leader leads on and takes proposals again.
  EXPECT_TRUE(leads(*net, leader));
  EXPECT_EQ(net->status(leader).sub_state, "leader");
  ASSERT_TRUE(net->propose(leader, {txn("after")}).accepted);
  EXPECT_TRUE(applied_everywhere(*net, txn("after"), 100, {leader, other}));
}

TEST(Transfer_3_10, ProposalsAreRefusedDuringTheTransferAndTheLeaderStillServes) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  ASSERT_NE(leader, 0u);
  NodeId target = leader == 1 ? 2 : 1;
  net->isolate(target);
  ASSERT_EQ(net->transfer_leadership(leader, target).status, TransferStatus::started);
  ProposeResult p = net->propose(leader, {txn("x")});
  EXPECT_FALSE(p.accepted);
  EXPECT_EQ(p.leader_hint, 0u);  // the kernel keeps the txn until the next leader takes it
  BroadcastStatus s = net->status(leader);
  EXPECT_EQ(s.role, Role::leader);
  EXPECT_TRUE(s.can_propose);  // its clients stay connected
  const LogIndex last = raft_of(*net, leader).log().last_index();
  EXPECT_FALSE(net->propose(leader, {txn("y")}).accepted);
  EXPECT_EQ(raft_of(*net, leader).log().last_index(), last);
}

TEST(Transfer_3_10, RefusedByAFollowerForALearnerAndIdleForItself) {
  auto net = make_network(3, 1);
  net->start();
  NodeId leader = elect(*net);
  ASSERT_NE(leader, 0u);
  NodeId follower = leader == 1 ? 2 : 1;
  TransferResult r = net->transfer_leadership(follower, 3);
  EXPECT_EQ(r.status, TransferStatus::not_leader);
  EXPECT_EQ(r.leader_hint, leader);
  r = net->transfer_leadership(leader, 4);
  EXPECT_EQ(r.status, TransferStatus::not_voter);
  EXPECT_NE(r.detail.find("learner"), std::string::npos) << r.detail;
  r = net->transfer_leadership(leader, 9);
  EXPECT_EQ(r.status, TransferStatus::not_voter);
  r = net->transfer_leadership(leader, leader);
  EXPECT_EQ(r.status, TransferStatus::already_leader);
  EXPECT_EQ(raft_of(*net, leader).transfer_target(), 0u);
  EXPECT_TRUE(net->propose(leader, {txn("still")}).accepted);
}

// With PreVote and CheckQuorum the target campaigns without a pre-vote, and the third server,
// which heard from the leader a moment ago, votes for it: the RequestVote carries the transfer
// flag (etcd-raft does the same).
class TransferVariants : public ::testing::TestWithParam<std::pair<bool, bool>> {};

TEST_P(TransferVariants, Transfer_3_10_WorksWithPreVoteAndCheckQuorum) {
  auto [prevote, check_quorum] = GetParam();
  auto net = make_network(3, 0, {{"prevote", prevote}, {"check_quorum", check_quorum}});
  net->start();
  NodeId leader = elect(*net);
  ASSERT_NE(leader, 0u);
  ASSERT_TRUE(net->propose(leader, {txn("a")}).accepted);
  ASSERT_TRUE(applied_everywhere(*net, txn("a")));
  NodeId target = leader == 1 ? 2 : 1;
  NodeId other = other_than(leader, target);
  // The third server heard from the leader within the minimum election timeout.
  net->tick(leader);
  net->round();
  const std::uint64_t term = raft_of(*net, leader).term();
  const auto pre_before = net->tracer(target).count(TraceKind::became_candidate, "pre-candidate");

  ASSERT_EQ(net->transfer_leadership(leader, target).status, TransferStatus::started);
  net->deliver_all();  // TimeoutNow, RequestVotes with the transfer flag, votes
  EXPECT_TRUE(leads(*net, target) || net->run_until([&] { return leads(*net, target); }, 20))
      << net->describe();
  EXPECT_EQ(raft_of(*net, target).term(), term + 1);
  EXPECT_EQ(net->tracer(target).count(TraceKind::became_candidate, "pre-candidate"), pre_before);
  EXPECT_EQ(net->tracer(other).count(TraceKind::vote_sent, "check_quorum"), 0u);
  EXPECT_EQ(raft_of(*net, other).voted_for(), target);
}

INSTANTIATE_TEST_SUITE_P(Raft, TransferVariants,
                         ::testing::Values(std::make_pair(false, false),
                                           std::make_pair(true, false), std::make_pair(false, true),
                                           std::make_pair(true, true)),
                         [](const auto& p) {
                           return std::string(p.param.first ? "prevote" : "noprevote") + "_" +
                                  (p.param.second ? "cq" : "nocq");
                         });

// Without the flag, check_quorum ignores the same RequestVote: the flag is what lets it through.
TEST(Transfer_3_10, WithoutTheFlagCheckQuorumIgnoresAnEarlyRequestVote) {
  auto net = make_network(3, 0, {{"check_quorum", true}});
  net->start();
  NodeId leader = elect(*net);
  ASSERT_NE(leader, 0u);
  NodeId target = leader == 1 ? 2 : 1;
  NodeId other = other_than(leader, target);
  net->tick(leader);
  net->round();
  const std::uint64_t term = raft_of(*net, other).term();
  time_out(*net, target);
  for (auto id : in_flight(*net, wire::Type::request_vote, target, other))
    net->deliver(id);
  EXPECT_EQ(raft_of(*net, other).term(), term);
  EXPECT_GE(net->tracer(other).count(TraceKind::vote_sent, "check_quorum"), 1u);
}
