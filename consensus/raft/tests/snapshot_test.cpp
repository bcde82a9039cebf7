// Log compaction (thesis 5.3): a follower behind the leader's compaction point is brought up
// by InstallSnapshot, in chunks.
#include <gtest/gtest.h>

#include "raft_test_util.hpp"

using namespace quorumlab;
using namespace quorumlab::raft;
using namespace quorumlab::raft::test;

TEST(InstallSnapshot_5_3, AFollowerFarBehindIsBroughtUpBySnapshotInChunks) {
  auto net = make_network(3, 0, {{"max_snapshot_chunk_bytes", std::int64_t{64}}});
  net->start();
  NodeId leader = elect(*net);
  NodeId behind = leader == 3 ? 2 : 3;
  net->crash(behind);
  for (int i = 0; i < 30; ++i)
    ASSERT_TRUE(net->propose(leader, {txn("v" + std::to_string(i))}).accepted);
  ASSERT_TRUE(applied_everywhere(*net, txn("v29")));
  // Down for longer than an election timeout: the leader no longer keeps entries for it.
  for (int i = 0; i < 40; ++i)
    net->round();
  for (NodeId id : net->ids()) {
    if (net->is_up(id)) net->compact(id);
  }
  ASSERT_GT(raft_of(*net, leader).log().base_index(), 1u);
  net->restart(behind);
  ASSERT_TRUE(net->propose(leader, {txn("after")}).accepted);
  ASSERT_TRUE(applied_everywhere(*net, txn("after"), 200));
  EXPECT_EQ(net->snapshots_installed(behind), 1u);
  EXPECT_EQ(net->tracer(leader).count(TraceKind::catch_up, "InstallSnapshot"), 1u);
  // More than one chunk went out.
  EXPECT_TRUE(has_applied(*net, behind, txn("after")));
}

TEST(InstallSnapshot_5_3, LostChunksAreResent) {
  auto net = make_network(3, 0, {{"max_snapshot_chunk_bytes", std::int64_t{32}}});
  net->start();
  NodeId leader = elect(*net);
  NodeId behind = leader == 3 ? 2 : 3;
  net->crash(behind);
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(net->propose(leader, {txn("w" + std::to_string(i))}).accepted);
  ASSERT_TRUE(applied_everywhere(*net, txn("w19")));
  for (int i = 0; i < 40; ++i)
    net->round();
  for (NodeId id : net->ids()) {
    if (net->is_up(id)) net->compact(id);
  }
  net->restart(behind);
  // Drop every other snapshot chunk for a while.
  for (int r = 0; r < 40; ++r) {
    auto chunks = in_flight(*net, wire::Type::install_snapshot, leader, behind);
    for (std::size_t i = 0; i < chunks.size(); i += 2)
      net->drop(chunks[i]);
    net->round();
  }
  ASSERT_TRUE(net->propose(leader, {txn("end")}).accepted);
  ASSERT_TRUE(applied_everywhere(*net, txn("end"), 300));
}

// A follower that is only behind (alive, its AppendEntries still on the way) when the kernel
// snapshots is not sent a snapshot: the leader keeps the entries it needs and compacts them once
// the follower has them.
TEST(InstallSnapshot_5_3, ALiveFollowerThatIsOnlyBehindCatchesUpWithoutASnapshot) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  ASSERT_NE(leader, 0u);
  NodeId slow = leader == 3 ? 2 : 3;
  NodeId other = 6 - leader - slow;
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(net->propose(leader, {txn("v" + std::to_string(i))}).accepted);
  // Only the leader and the other follower exchange messages: everything is committed, the
  // slow follower's AppendEntries wait in flight.
  while (net->deliver_next(leader, other) || net->deliver_next(other, leader)) {
  }
  ASSERT_TRUE(has_applied(*net, leader, txn("v19")));
  ASSERT_FALSE(has_applied(*net, slow, txn("v19")));
  const LogIndex last = raft_of(*net, leader).log().last_index();
  net->compact(leader);
  EXPECT_LT(raft_of(*net, leader).log().base_index(), last);
  EXPECT_LE(raft_of(*net, leader).log().base_index(), raft_of(*net, leader).progress(slow)->match);
  ASSERT_TRUE(applied_everywhere(*net, txn("v19")));
  EXPECT_EQ(net->tracer(leader).count(TraceKind::catch_up, "InstallSnapshot"), 0u);
  EXPECT_EQ(net->snapshots_installed(slow), 0u);
  // Once the follower has the entries, the leader compacts up to the kernel's snapshot.
  net->round();
  EXPECT_GE(raft_of(*net, leader).log().base_index(), last - 1);
}
