// Quorum helpers: only voters count, each once; quorum_value is the quorum-th highest report.
#include <gtest/gtest.h>

#include "quorumlab/consensus/quorum.hpp"

using namespace quorumlab;
using quorumlab::consensus::quorum_value;
using quorumlab::consensus::QuorumCounter;

TEST(QuorumCounter, CountsDistinctVotersOnly) {
  Membership m{{1, 2, 3, 4, 5}, {6, 7}};
  QuorumCounter q(m);
  EXPECT_TRUE(q.add(1));
  EXPECT_FALSE(q.add(1)) << "a voter counts once";
  EXPECT_FALSE(q.add(6)) << "observers never count";
  EXPECT_FALSE(q.add(9)) << "strangers never count";
  EXPECT_TRUE(q.add(3));
  EXPECT_FALSE(q.has_quorum());
  EXPECT_TRUE(q.add(5));
  EXPECT_TRUE(q.has_quorum());
  EXPECT_EQ(q.count(), 3u);
  EXPECT_TRUE(q.contains(3));
  q.clear();
  EXPECT_EQ(q.count(), 0u);
}

TEST(QuorumValue, IsTheValueAQuorumHasReached) {
  Membership m{{1, 2, 3, 4, 5}, {6}};
  std::map<NodeId, std::uint64_t> acked{{1, 10}, {2, 7}, {3, 3}, {4, 9}, {6, 100}};
  auto v = quorum_value(m, [&](NodeId id) { return acked.count(id) ? acked[id] : 0; });
  EXPECT_EQ(v, 7u) << "10, 9, 7 form a majority; the observer's 100 does not count";
  Membership one{{4}, {}};
  EXPECT_EQ(quorum_value(one, [](NodeId) { return 42; }), 42u);
}
