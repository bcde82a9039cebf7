// Issue 13: three `raft` servers with `wal`. kill -9 the leader under a write load: a new leader
// takes over, clients reconnect, no acknowledged write is lost, the old leader restarts as a
// follower and catches up, and every replica ends with the same digest.
#include "cluster_fixture.hpp"

using namespace quorumlab;
using namespace quorumlab::testing;

TEST(RaftCluster, LeaderKill9UnderLoadLosesNoAcknowledgedWriteAndReplicasConverge) {
  TestCluster c(3, {"--broadcast", "raft", "--storage", "wal"});
  NodeId old_leader = cluster::wait_for_leader(c.spec, 30s);
  std::set<int> acked;
  {
    AckedWriter w(c.connect(), 100);
    ASSERT_TRUE(w.wait_acked(2000, 60s));
    cluster::signal_node(c.spec, old_leader, SIGKILL);
    std::size_t before = w.acked().size();
    NodeId new_leader = cluster::wait_for_leader(c.spec, 30s);
    EXPECT_NE(new_leader, old_leader);
    ASSERT_TRUE(w.wait_acked(before + 1000, 60s)) << "no progress after the leader was killed";
    w.stop();
    acked = w.acked();
  }
  cluster::start_node(c.spec, old_leader, 30s);
  ASSERT_TRUE(c.converged(60s)) << "replicas did not reach the same digest";
  for (const auto& n : c.spec.nodes)
    expect_all_present(c.connect_to(n.id), acked);
}
