// Leader election: Figure 2 "RequestVote RPC" and "Rules for Servers", thesis 3.4 and 3.6.1,
// PreVote (9.6) and CheckQuorum (6.2, 4.2.3) against a disruptive server.
#include <gtest/gtest.h>

#include "raft_test_util.hpp"

using namespace quorumlab;
using namespace quorumlab::raft;
using namespace quorumlab::raft::test;
using State = RaftBroadcast::State;

TEST(Election_3_4, OneLeaderIsElectedAndEveryoneFollowsIt) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  ASSERT_NE(leader, 0u);
  for (NodeId id : net->ids()) {
    EXPECT_EQ(raft_of(*net, id).term(), raft_of(*net, leader).term());
    EXPECT_EQ(net->status(id).leader, leader) << net->describe();
  }
  EXPECT_EQ(net->status(leader).role, Role::leader);
  EXPECT_EQ(net->tracer(leader).count(TraceKind::became_leader), 1u);
}

TEST(Election_3_4, SplitVoteIsResolvedByRandomizedTimeouts) {
  auto net = make_network(4);
  net->start();
  time_out(*net, 1);
  time_out(*net, 2);
  ASSERT_EQ(raft_of(*net, 1).term(), 1u);
  ASSERT_EQ(raft_of(*net, 2).term(), 1u);
  // 3 votes for 1 and 4 for 2: two votes each, three needed.
  ASSERT_TRUE(net->deliver(in_flight(*net, wire::Type::request_vote, 1, 3).at(0)));
  ASSERT_TRUE(net->deliver(in_flight(*net, wire::Type::request_vote, 2, 4).at(0)));
  net->deliver_all();
  EXPECT_FALSE(net->leader().has_value());
  EXPECT_EQ(raft_of(*net, 3).voted_for(), 1u);
  EXPECT_EQ(raft_of(*net, 4).voted_for(), 2u);
  // Randomized timeouts: someone times out first in term 2 and wins.
  NodeId leader = elect(*net);
  ASSERT_NE(leader, 0u);
  EXPECT_GE(raft_of(*net, leader).term(), 2u);
}

TEST(Election_3_6_1, VoteIsRefusedToACandidateWithAnOlderLog) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  NodeId behind = leader == 3 ? 2 : 3;
  net->isolate(behind);
  ASSERT_TRUE(net->propose(leader, {txn("a")}).accepted);
  for (int i = 0; i < 5; ++i)
    net->round();
  net->drop_all();
  net->heal();
  // The node that missed "a" campaigns: both others refuse it.
  NodeId other = 6 - leader - behind;
  net->crash(leader);
  time_out(*net, behind);
  std::uint64_t term = raft_of(*net, behind).term();
  net->deliver_all();
  EXPECT_NE(raft_of(*net, behind).state(), State::leader);
  EXPECT_NE(raft_of(*net, other).voted_for(), behind);
  EXPECT_GE(net->tracer(other).count(TraceKind::vote_sent, "candidate's log is behind"), 1u);
  EXPECT_GE(raft_of(*net, other).term(), term);
}

TEST(Figure2_RequestVote, AVoteSurvivesACrashAndIsNotGivenTwice) {
  auto net = make_network(3);
  net->start();
  time_out(*net, 1);
  net->deliver(in_flight(*net, wire::Type::request_vote, 1, 3).at(0));
  EXPECT_EQ(raft_of(*net, 3).voted_for(), 1u);
  net->drop_all();
  net->crash(3);
  net->restart(3);
  EXPECT_EQ(raft_of(*net, 3).voted_for(), 1u);
  EXPECT_EQ(raft_of(*net, 3).term(), 1u);
  // A second candidate in term 1 is refused.
  net->crash(1);
  time_out(*net, 2);
  ASSERT_EQ(raft_of(*net, 2).term(), 1u);
  net->deliver_all();
  EXPECT_EQ(raft_of(*net, 3).voted_for(), 1u);
  EXPECT_NE(raft_of(*net, 2).state(), State::leader);
}

TEST(Learners, NeverVoteNorCampaignButReceiveTheLog) {
  auto net = make_network(3, 1);
  net->start();
  for (int i = 0; i < 500; ++i)
    net->tick(4);
  EXPECT_EQ(raft_of(*net, 4).state(), State::follower);
  EXPECT_EQ(raft_of(*net, 4).term(), 0u);
  NodeId leader = elect(*net);
  ASSERT_NE(leader, 0u);
  EXPECT_EQ(net->status(4).role, Role::learner);
  EXPECT_EQ(raft_of(*net, 4).voted_for(), 0u);
  ASSERT_TRUE(net->propose(leader, {txn("x")}).accepted);
  EXPECT_TRUE(applied_everywhere(*net, txn("x")));
  EXPECT_EQ(net->status(4).leader, leader);
}

// ---- disruptive server (4.2.3, 9.6) ------------------------------------------------------

namespace {

struct Disruption {
  std::uint64_t term_before = 0;
  std::uint64_t leader_term_after_votes = 0;
  bool leader_still_leads = false;
  NodeId leader = 0;
};

// A 3-node cluster elects a leader; one follower is partitioned away long enough to time out
// repeatedly, then rejoins and its RequestVotes (or pre-votes) reach the others.
Disruption rejoin(bool prevote, bool check_quorum) {
  auto net = make_network(3, 0, {{"prevote", prevote}, {"check_quorum", check_quorum}});
  net->start();
  Disruption d;
  d.leader = elect(*net);
  NodeId lonely = d.leader == 3 ? 2 : 3;
  d.term_before = raft_of(*net, d.leader).term();
  net->isolate(lonely);
  for (int i = 0; i < 200; ++i)
    net->round();
  net->drop_all();
  net->heal();
  // Its election requests arrive before anything else.
  time_out(*net, lonely);
  for (auto id : in_flight(*net, wire::Type::request_vote, lonely))
    net->deliver(id);
  net->deliver_all();
  d.leader_term_after_votes = raft_of(*net, d.leader).term();
  d.leader_still_leads = raft_of(*net, d.leader).state() == State::leader;
  return d;
}

}  // namespace

TEST(DisruptiveServer_4_2_3, PlainRaftRaisesTheTermAndDeposesTheLeader) {
  Disruption d = rejoin(false, false);
  EXPECT_GT(d.leader_term_after_votes, d.term_before);
  EXPECT_FALSE(d.leader_still_leads);
}

TEST(DisruptiveServer_9_6, PreVoteKeepsTheTermAndTheLeader) {
  Disruption d = rejoin(true, false);
  EXPECT_EQ(d.leader_term_after_votes, d.term_before);
  EXPECT_TRUE(d.leader_still_leads);
}

TEST(DisruptiveServer_4_2_3, CheckQuorumIgnoresTheRequestVotes) {
  Disruption d = rejoin(false, true);
  EXPECT_EQ(d.leader_term_after_votes, d.term_before);
  EXPECT_TRUE(d.leader_still_leads);
}

TEST(DisruptiveServer_9_6, PreVoteWithCheckQuorumKeepsTheTermAndTheLeader) {
  Disruption d = rejoin(true, true);
  EXPECT_EQ(d.leader_term_after_votes, d.term_before);
  EXPECT_TRUE(d.leader_still_leads);
}

TEST(CheckQuorum_6_2, ALeaderCutOffFromAQuorumStepsDown) {
  auto net = make_network(3, 0, {{"check_quorum", true}});
  net->start();
  NodeId leader = elect(*net);
  net->isolate(leader);
  for (int i = 0; i < 100; ++i)
    net->tick(leader);
  EXPECT_NE(raft_of(*net, leader).state(), State::leader);
}

TEST(Election_3_4, FixedTimeoutWithoutRandomnessStillElects) {
  // Figure 16's 150-150 ms range: no randomness. Only the servers' timing differs (here one
  // clock is a tick ahead), and that is enough.
  auto net = make_network(3, 0,
                          {{"election_timeout_min_ticks", std::int64_t{15}},
                           {"election_timeout_max_ticks", std::int64_t{15}}});
  net->start();
  net->tick(2);
  EXPECT_NE(elect(*net, 2000), 0u);
}

TEST(PeerDisconnected, FollowersCampaignSoonAfterTheirLeaderDies) {
  auto net = make_network(3, 0,
                          {{"election_timeout_min_ticks", std::int64_t{50}},
                           {"election_timeout_max_ticks", std::int64_t{60}}});
  net->start();
  NodeId leader = elect(*net, 1000);
  ASSERT_NE(leader, 0u);
  net->crash(leader);
  for (NodeId id : net->ids()) {
    if (id != leader) net->peer_disconnected(id, leader);
  }
  // Within the spread (10 ticks) plus an election, not a whole 50-tick timeout.
  std::size_t rounds = 0;
  while (!net->leader() && rounds < 40) {
    net->round();
    rounds++;
  }
  EXPECT_TRUE(net->leader().has_value());
  EXPECT_LT(rounds, 40u);
}

TEST(Refloated, AShorterCandidateTimeoutAndBackOffStillElectWithoutRandomness) {
  // Follower timeout fixed at 15 ticks; a candidate retries after 5..8 ticks, doubling.
  auto net = make_network(5, 0,
                          {{"election_timeout_min_ticks", std::int64_t{15}},
                           {"election_timeout_max_ticks", std::int64_t{15}},
                           {"candidate_timeout_min_ticks", std::int64_t{5}},
                           {"candidate_timeout_max_ticks", std::int64_t{8}},
                           {"candidate_backoff", true}});
  net->start();
  EXPECT_NE(elect(*net, 2000), 0u);
}

TEST(Refloated, BackOffDoublesTheCandidateTimeout) {
  auto net = make_network(3, 0,
                          {{"candidate_timeout_min_ticks", std::int64_t{10}},
                           {"candidate_timeout_max_ticks", std::int64_t{10}},
                           {"candidate_backoff", true}});
  net->start();
  net->isolate(1);
  // Elections 2, 3 and 4 of an isolated server come 10, 20, 40 ticks after the one before.
  auto elections = [&] { return net->tracer(1).count(TraceKind::election_started); };
  while (elections() == 0)
    net->tick(1);
  std::vector<std::size_t> gaps;
  for (int e = 0; e < 3; ++e) {
    std::size_t before = elections(), ticks = 0;
    while (elections() == before && ticks < 1000) {
      net->tick(1);
      ticks++;
    }
    gaps.push_back(ticks);
  }
  EXPECT_EQ(gaps, (std::vector<std::size_t>{10, 20, 40}));
}

TEST(Refloated, ACandidateRetriesAfterItsOwnTimeoutAndOnlyWithIt) {
  // An isolated server keeps losing. Without candidate_timeout_* its retries come after the
  // (fixed) election timeout, as before the parameter existed; with it, after the candidate's.
  auto gaps_between_elections = [](std::map<std::string, ParamValue> params) {
    auto net = make_network(3, 0, std::move(params));
    net->start();
    net->isolate(1);
    auto elections = [&] { return net->tracer(1).count(TraceKind::election_started); };
    while (elections() == 0)
      net->tick(1);
    std::vector<std::size_t> gaps;
    for (int e = 0; e < 3; ++e) {
      std::size_t before = elections(), ticks = 0;
      while (elections() == before && ticks < 1000) {
        net->tick(1);
        ticks++;
      }
      gaps.push_back(ticks);
    }
    return gaps;
  };
  EXPECT_EQ(gaps_between_elections({{"election_timeout_min_ticks", std::int64_t{20}},
                                    {"election_timeout_max_ticks", std::int64_t{20}}}),
            (std::vector<std::size_t>{20, 20, 20}));
  EXPECT_EQ(gaps_between_elections({{"election_timeout_min_ticks", std::int64_t{20}},
                                    {"election_timeout_max_ticks", std::int64_t{20}},
                                    {"candidate_timeout_min_ticks", std::int64_t{7}},
                                    {"candidate_timeout_max_ticks", std::int64_t{7}}}),
            (std::vector<std::size_t>{7, 7, 7}));
}

TEST(Election, AHigherTermAloneRestartsTheTimerOnlyWhenConfiguredTo) {
  // A follower that missed an entry cannot win; it campaigns and its RequestVote reaches the
  // other follower, which refuses it but takes the new term. 10 ticks into that follower's
  // 20-tick timeout, etcd's rule (the default) restarts it; Figure 2's rule lets it run out 10
  // ticks later.
  auto ticks_until_the_other_campaigns = [](bool resets) {
    auto net = make_network(3, 0,
                            {{"election_timeout_min_ticks", std::int64_t{20}},
                             {"election_timeout_max_ticks", std::int64_t{20}},
                             {"heartbeat_interval_ticks", std::int64_t{5}},
                             {"higher_term_resets_timer", resets}});
    net->start();
    // Fixed timeouts tie when every node ticks: node 1 alone runs out and wins.
    while (raft_of(*net, 1).state() != RaftBroadcast::State::candidate)
      net->tick(1);
    net->deliver_all();
    net->deliver_all();
    const NodeId leader = 1;
    EXPECT_EQ(raft_of(*net, 1).state(), RaftBroadcast::State::leader);
    std::vector<NodeId> followers;
    for (NodeId id : net->ids()) {
      if (id != leader) followers.push_back(id);
    }
    const NodeId other = followers.at(0), stale = followers.at(1);
    net->isolate(stale);
    EXPECT_TRUE(net->propose(leader, {txn("x")}).accepted);
    net->deliver_all();
    net->deliver_all();
    net->crash(leader);
    net->heal();
    net->drop_all();
    for (int i = 0; i < 10; ++i)
      net->tick(other);
    auto elections = [&](NodeId id) { return net->tracer(id).count(TraceKind::election_started); };
    const std::size_t before_other = elections(other), before_stale = elections(stale);
    while (elections(stale) == before_stale)
      net->tick(stale);
    net->deliver_all();  // the stale RequestVote: refused (log behind), its term taken
    EXPECT_EQ(raft_of(*net, other).term(), raft_of(*net, stale).term());
    EXPECT_EQ(raft_of(*net, other).voted_for(), 0u);
    std::size_t ticks = 0;
    while (elections(other) == before_other && ticks < 100) {
      net->tick(other);
      ticks++;
    }
    return ticks;
  };
  EXPECT_EQ(ticks_until_the_other_campaigns(true), 20u);
  EXPECT_EQ(ticks_until_the_other_campaigns(false), 10u);
}
