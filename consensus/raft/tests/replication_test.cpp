// Log replication: Figure 2 "AppendEntries RPC", thesis 3.5 (log matching), 3.6.2 (commitment
// only of the current term's entries: the paper's Figure 8), fast backtracking, a partitioned
// leader returning, persistence before acknowledgement, the in-flight window.
#include <gtest/gtest.h>

#include "raft_test_util.hpp"

using namespace quorumlab;
using namespace quorumlab::raft;
using namespace quorumlab::raft::test;
using State = RaftBroadcast::State;

namespace {
LogEntry entry(LogIndex index, std::uint64_t term, const std::string& data = "") {
  return LogEntry{index, term, make_zxid(term, index), txn(data)};
}
consensus::testing::DurableDisk disk(std::uint64_t term, std::vector<LogEntry> entries) {
  consensus::testing::DurableDisk d;
  d.hard_state.term = term;
  d.entries = std::move(entries);
  return d;
}
}  // namespace

TEST(Replication_3_5, CommittedEntriesAreAppliedEverywhereInOrderWithTheNoOpFirst) {
  auto net = make_network(3, 1);
  net->start();
  NodeId leader = elect(*net);
  ASSERT_TRUE(net->propose(leader, {txn("a"), txn("b")}).accepted);
  ASSERT_TRUE(net->propose(leader, {txn("c")}).accepted);
  ASSERT_TRUE(applied_everywhere(*net, txn("c")));
  for (NodeId id : net->ids()) {
    const auto& a = net->applied(id);
    ASSERT_EQ(a.size(), 4u) << id;
    EXPECT_TRUE(a[0].data.empty());  // the leader's no-op of its term
    EXPECT_EQ(a[1].data, txn("a"));
    EXPECT_EQ(a[3].data, txn("c"));
    EXPECT_EQ(a[3].zxid, make_zxid(a[3].epoch, 4));
  }
}

// A follower catching up gets AppendEntries of at most max_bytes_per_msg payload bytes (one
// entry always goes): 256 entries of 10 KiB in one message exceed the transport's message
// limit, which drops the connection, and the follower would never catch up.
TEST(Replication_3_5, CatchUpMessagesStayWithinTheByteBudget) {
  auto net = make_network(3, 0, {{"max_bytes_per_msg", std::int64_t{8192}}});
  net->start();
  NodeId leader = elect(*net);
  NodeId behind = leader == 1 ? 2 : 1;
  net->isolate(behind);
  const std::string value(3000, 'v');
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(net->propose(leader, {txn(value + std::to_string(i))}).accepted);
  std::vector<NodeId> others;
  for (NodeId id : net->ids())
    if (id != behind) others.push_back(id);
  ASSERT_TRUE(applied_everywhere(*net, txn(value + "19"), 100, others));
  net->heal();
  // Deliver one message at a time (a round would deliver the replies' follow-ups unseen).
  std::size_t most = 0;
  for (int r = 0; r < 200 && !has_applied(*net, behind, txn(value + "19")); ++r) {
    net->tick_all();
    for (int step = 0; step < 10000; ++step) {
      auto ids = net->messages();
      if (ids.empty()) break;
      const Envelope* e = net->find(ids.front());
      if (e->from == leader && e->to == behind) {
        auto m = message_of(*e);
        std::size_t bytes = 0;
        for (const auto& entry : m->entries)
          bytes += entry.data.size();
        most = std::max(most, bytes);
      }
      net->deliver(ids.front());
    }
  }
  ASSERT_TRUE(has_applied(*net, behind, txn(value + "19")));
  EXPECT_GT(most, 3000u) << "catch-up messages carried entries";
  EXPECT_LE(most, 8192u) << "no AppendEntries beyond the byte budget";
}

TEST(Replication_3_5, AFollowerDoesNotAcknowledgeBeforeItsLogIsDurable) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  net->set_auto_persist_all(false);
  ASSERT_TRUE(net->propose(leader, {txn("a")}).accepted);
  net->deliver_all();
  EXPECT_TRUE(in_flight(*net, wire::Type::append_entries_response).empty());
  EXPECT_FALSE(has_applied(*net, leader, txn("a")));
  net->set_auto_persist_all(true);
  for (NodeId id : net->ids())
    net->complete_persist(id);
  EXPECT_TRUE(applied_everywhere(*net, txn("a")));
}

TEST(Figure8_3_6_2, AnEntryOfAnOlderTermIsNotCommittedByCountingReplicas) {
  // Figure 8 (c): S1 leads term 4 with index 2 of term 2 on S1, S2, S3 (a majority of five);
  // S5 holds index 2 of term 3. Committing index 2 by counting would let S5 overwrite it.
  auto net = make_network(5, 0, {{"max_entries_per_msg", std::int64_t{1}}});
  net->preload(1, disk(3, {entry(1, 1), entry(2, 2, "term2")}));
  net->preload(2, disk(3, {entry(1, 1), entry(2, 2, "term2")}));
  net->preload(3, disk(3, {entry(1, 1)}));
  net->preload(4, disk(3, {entry(1, 1)}));
  net->preload(5, disk(3, {entry(1, 1), entry(2, 3, "term3")}));
  net->start();
  net->isolate(4);
  net->isolate(5);
  time_out(*net, 1);
  for (auto id : in_flight(*net, wire::Type::request_vote))
    net->deliver(id);
  for (auto id : in_flight(*net, wire::Type::request_vote_response))
    net->deliver(id);
  ASSERT_EQ(raft_of(*net, 1).state(), State::leader);
  ASSERT_EQ(raft_of(*net, 1).term(), 4u);
  // S2 receives the no-op of term 4 (index 3); S3 only index 2 (term 2).
  for (int i = 0; i < 6; ++i) {
    while (net->deliver_next(1, 2)) {
    }
    while (net->deliver_next(2, 1)) {
    }
  }
  ASSERT_EQ(raft_of(*net, 2).log().last_index(), 3u);
  for (int i = 0; i < 4 && raft_of(*net, 3).log().last_index() < 2; ++i) {
    ASSERT_TRUE(net->deliver_next(1, 3));
    while (net->deliver_next(3, 1)) {
    }
  }
  ASSERT_EQ(raft_of(*net, 3).log().last_index(), 2u);
  ASSERT_EQ(raft_of(*net, 1).progress(3)->match, 2u);
  // A majority (S1, S2, S3) holds index 2, yet it is not committed: it is of term 2.
  EXPECT_EQ(raft_of(*net, 1).commit_index(), 0u);
  // S1 crashes; S5 (last term 3) wins with S3 and S4 and overwrites index 2 everywhere.
  net->crash(1);
  net->drop_all();
  net->heal();
  // Term 4 fails (S3 voted for S1 in it); S5 wins term 5, as in Figure 8 (d).
  for (int attempt = 0; attempt < 3 && raft_of(*net, 5).state() != State::leader; ++attempt) {
    time_out(*net, 5);
    net->deliver_all();
  }
  ASSERT_EQ(raft_of(*net, 5).state(), State::leader);
  EXPECT_EQ(raft_of(*net, 5).term(), 5u);
  net->restart(1);
  ASSERT_TRUE(applied_everywhere(*net, txn("term3")));
  for (NodeId id : net->ids())
    EXPECT_FALSE(has_applied(*net, id, txn("term2"))) << id;
}

TEST(PartitionedLeader_3_5, ReturnsWithALongerLogOfAnOlderTermAndIsOverwritten) {
  auto net = make_network(3);
  net->start();
  NodeId old_leader = elect(*net);
  std::uint64_t old_term = raft_of(*net, old_leader).term();
  net->isolate(old_leader);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(net->propose(old_leader, {txn("lost" + std::to_string(i))}).accepted);
  NodeId new_leader = 0;
  ASSERT_TRUE(net->run_until(
      [&] {
        for (NodeId id : net->ids()) {
          if (id != old_leader && raft_of(*net, id).state() == State::leader &&
              net->status(id).can_propose)
            new_leader = id;
        }
        return new_leader != 0;
      },
      300));
  ASSERT_TRUE(net->propose(new_leader, {txn("kept")}).accepted);
  NodeId third = 6 - old_leader - new_leader;
  ASSERT_TRUE(applied_everywhere(*net, txn("kept"), 50, {new_leader, third}));
  EXPECT_GT(raft_of(*net, old_leader).log().last_index(),
            raft_of(*net, new_leader).log().last_index());
  net->heal();
  ASSERT_TRUE(applied_everywhere(*net, txn("kept")));
  EXPECT_NE(raft_of(*net, old_leader).state(), State::leader);
  EXPECT_GT(raft_of(*net, old_leader).term(), old_term);
  EXPECT_EQ(raft_of(*net, old_leader).log().last_index(),
            raft_of(*net, new_leader).log().last_index());
  for (NodeId id : net->ids())
    EXPECT_FALSE(has_applied(*net, id, txn("lost0")));
}

TEST(FastBacktracking, AConflictingTermIsSkippedInOneRoundTrip) {
  // S3 holds 50 entries of term 2 that never committed; the leader of term 3 has none of them.
  std::vector<LogEntry> long_log{entry(1, 1)};
  for (LogIndex i = 2; i <= 51; ++i)
    long_log.push_back(entry(i, 2, "stale"));
  auto net = make_network(3);
  net->preload(1, disk(3, {entry(1, 1), entry(2, 3)}));
  net->preload(2, disk(3, {entry(1, 1), entry(2, 3)}));
  net->preload(3, disk(2, long_log));
  net->start();
  net->isolate(3);
  NodeId leader = elect(*net);
  ASSERT_NE(leader, 3u);
  net->heal();
  ASSERT_TRUE(net->propose(leader, {txn("x")}).accepted);
  // One message at a time, counting S3's rejections: one suffices to skip its whole term 2.
  std::size_t rejections = 0;
  for (int i = 0; i < 200 && !has_applied(*net, 3, txn("x")); ++i) {
    if (net->in_flight().empty()) {
      net->tick_all();
      continue;
    }
    const Envelope& e = net->in_flight().front();
    auto m = message_of(e);
    if (e.from == 3 && m && m->type == wire::Type::append_entries_response && !m->granted)
      rejections++;
    net->deliver(e.id);
  }
  ASSERT_TRUE(applied_everywhere(*net, txn("x")));
  EXPECT_EQ(rejections, 1u);
  EXPECT_EQ(raft_of(*net, 3).log().last_index(), raft_of(*net, leader).log().last_index());
  EXPECT_FALSE(has_applied(*net, 3, txn("stale")));
}

TEST(Progress, TheInFlightWindowBoundsAppendEntriesToAFollower) {
  auto net = make_network(
      3, 0, {{"max_inflight_msgs", std::int64_t{2}}, {"max_entries_per_msg", std::int64_t{1}}});
  net->start();
  NodeId leader = elect(*net);
  NodeId f = leader == 1 ? 2 : 1;
  net->block(f, leader);  // no acknowledgements come back
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(net->propose(leader, {txn(std::to_string(i))}).accepted);
  EXPECT_EQ(raft_of(*net, leader).progress(f)->mode, Progress::Mode::replicate);
  EXPECT_LE(in_flight(*net, wire::Type::append_entries, leader, f).size(), 2u);
  EXPECT_EQ(raft_of(*net, leader).progress(f)->inflight.size(), 2u);
  net->unblock(f, leader);
  ASSERT_TRUE(applied_everywhere(*net, txn("9")));
}

TEST(Replication_3_5, EveryCommittedEntrySurvivesACrashOfAllNodes) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  ASSERT_TRUE(net->propose(leader, {txn("durable")}).accepted);
  ASSERT_TRUE(applied_everywhere(*net, txn("durable")));
  for (NodeId id : net->ids())
    net->crash(id);
  for (NodeId id : net->ids())
    net->restart(id);
  leader = elect(*net);
  ASSERT_NE(leader, 0u);
  ASSERT_TRUE(net->propose(leader, {txn("after")}).accepted);
  ASSERT_TRUE(applied_everywhere(*net, txn("after")));
  for (NodeId id : net->ids())
    EXPECT_TRUE(has_applied(*net, id, txn("durable")));
}
