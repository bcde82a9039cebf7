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
