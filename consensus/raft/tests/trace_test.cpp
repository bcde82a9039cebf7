// The trace stream (issue 13): raft's events with the protocol's reasons in the detail, so a
// lab diagram or a failure report can say what happened and why: became pre-candidate,
// candidate, leader; vote granted or refused and why (log not up to date, already voted,
// check_quorum's lease, stale term); AppendEntries appended or rejected; commit; InstallSnapshot
// sent and installed.
#include <gtest/gtest.h>

#include "raft_test_util.hpp"

using namespace quorumlab;
using namespace quorumlab::raft;
using namespace quorumlab::raft::test;
using State = RaftBroadcast::State;

TEST(Trace, ElectionEventsNameTheirState) {
  auto net = make_network(3, 0, {{"prevote", true}});
  net->start();
  NodeId leader = elect(*net);
  ASSERT_NE(leader, 0u);
  auto& t = net->tracer(leader);
  EXPECT_GE(t.count(TraceKind::became_candidate, "pre-candidate for term 1"), 1u);
  EXPECT_GE(t.count(TraceKind::became_candidate, "candidate for term 1"), 1u);
  EXPECT_EQ(t.count(TraceKind::became_leader, "term 1"), 1u);
  std::size_t granted = 0;
  for (NodeId id : net->ids())
    granted += net->tracer(id).count(TraceKind::vote_sent, "vote granted for term 1");
  EXPECT_GE(granted, 1u);
}

TEST(Trace, VoteRefusalsSayWhy) {
  // Already voted: 1 and 2 campaign in term 1; 3 votes for 1 and refuses 2.
  auto net = make_network(3);
  net->start();
  time_out(*net, 1);
  ASSERT_TRUE(net->deliver(in_flight(*net, wire::Type::request_vote, 1, 3).at(0)));
  time_out(*net, 2);
  ASSERT_EQ(raft_of(*net, 2).term(), 1u);
  ASSERT_TRUE(net->deliver(in_flight(*net, wire::Type::request_vote, 2, 3).at(0)));
  EXPECT_EQ(net->tracer(3).count(TraceKind::vote_sent, "vote refused: voted for 1"), 1u);
  net->drop_all();
  // Stale term: 3 moves on to term 2; a RequestVote of term 1 is then refused as stale.
  time_out(*net, 3);
  ASSERT_EQ(raft_of(*net, 3).term(), 2u);
  net->drop_all();
  wire::Message stale;
  stale.type = wire::Type::request_vote;
  stale.term = 1;
  raft_of(*net, 3).step(PeerMessage{2, 3, wire::encode(stale)});
  EXPECT_EQ(net->tracer(3).count(TraceKind::vote_sent, "vote refused: stale term 1 below ours 2"),
            1u);
  // (Log not up to date: Election_3_6_1 checks "candidate's log is behind".)
}

TEST(Trace, CheckQuorumRefusalSaysTheLeaderWasHeard) {
  auto net = make_network(3, 0, {{"check_quorum", true}});
  net->start();
  NodeId leader = elect(*net);
  ASSERT_NE(leader, 0u);
  NodeId lonely = leader == 3 ? 2 : 3;
  NodeId other = 6 - leader - lonely;
  net->tick(leader);
  net->round();
  time_out(*net, lonely);
  for (auto id : in_flight(*net, wire::Type::request_vote, lonely, other))
    net->deliver(id);
  EXPECT_EQ(net->tracer(other).count(TraceKind::vote_sent,
                                     "ignored: leader " + std::to_string(leader) + " heard"),
            1u);
  EXPECT_EQ(net->tracer(other).count(TraceKind::vote_sent, "(check_quorum)"), 1u);
}

TEST(Trace, AppendCommitAndRejectionCarryTheirIndexes) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  ASSERT_NE(leader, 0u);
  NodeId f = leader == 1 ? 2 : 1;
  ASSERT_TRUE(net->propose(leader, {txn("a"), txn("b")}).accepted);
  ASSERT_TRUE(applied_everywhere(*net, txn("b")));
  EXPECT_GE(net->tracer(f).count(TraceKind::ack, "AppendEntries appended 2 entries after index 1"),
            1u);
  EXPECT_GE(net->tracer(leader).count(TraceKind::commit), 3u);  // no-op, a, b
  EXPECT_GE(net->tracer(f).count(TraceKind::commit), 3u);
  // An AppendEntries whose previous entry the follower lacks is rejected, with the hint.
  wire::Message m;
  m.type = wire::Type::append_entries;
  m.term = raft_of(*net, leader).term();
  m.index = 10;
  m.log_term = m.term;
  raft_of(*net, f).step(PeerMessage{leader, f, wire::encode(m)});
  EXPECT_EQ(net->tracer(f).count(TraceKind::custom, "AppendEntries rejected: no entry of term " +
                                                        std::to_string(m.term) +
                                                        " at index 10 (conflict term 0"),
            1u);
}

TEST(Trace, SnapshotSentAndInstalled) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  NodeId behind = leader == 3 ? 2 : 3;
  net->crash(behind);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(net->propose(leader, {txn("v" + std::to_string(i))}).accepted);
  ASSERT_TRUE(applied_everywhere(*net, txn("v9")));
  for (int i = 0; i < 40; ++i)  // down for longer than an election timeout
    net->round();
  for (NodeId id : net->ids()) {
    if (net->is_up(id)) net->compact(id);
  }
  net->restart(behind);
  ASSERT_TRUE(net->propose(leader, {txn("after")}).accepted);
  ASSERT_TRUE(applied_everywhere(*net, txn("after"), 200));
  EXPECT_EQ(net->tracer(leader).count(TraceKind::catch_up, "InstallSnapshot at index"), 1u);
  EXPECT_EQ(net->tracer(behind).count(TraceKind::catch_up, "snapshot installed at index"), 1u);
}
