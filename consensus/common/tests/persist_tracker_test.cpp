// PersistTracker: persisted(i) reports batches in order; a rewrite is not durable until its
// own batch is, even when an older batch reports a higher index.
#include <gtest/gtest.h>

#include "quorumlab/consensus/persist_tracker.hpp"

using quorumlab::consensus::PersistTracker;

TEST(PersistTracker, BatchesBecomeDurableInOrder) {
  PersistTracker t;
  t.reset(0);
  auto s1 = t.on_emit(3);
  auto s2 = t.on_emit(5);
  EXPECT_EQ(t.stable_index(), 0u);
  EXPECT_TRUE(t.on_persisted(3));
  EXPECT_EQ(t.durable_seq(), s1);
  EXPECT_EQ(t.stable_index(), 3u);
  EXPECT_FALSE(t.on_persisted(9)) << "no batch ends at 9";
  EXPECT_TRUE(t.on_persisted(5));
  EXPECT_EQ(t.durable_seq(), s2);
  EXPECT_EQ(t.pending(), 0u);
}

TEST(PersistTracker, RewriteIsNotDurableUntilItsBatchIs) {
  PersistTracker t;
  t.reset(0);
  t.on_emit(10);  // entries 1..10
  t.on_rewrite(5);
  t.on_emit(7);  // truncate to 5, append new 6..7
  EXPECT_TRUE(t.on_persisted(10));
  EXPECT_EQ(t.stable_index(), 5u) << "the old 6..10 are durable, the new 6..7 are not";
  EXPECT_TRUE(t.on_persisted(7));
  EXPECT_EQ(t.stable_index(), 7u);
}

TEST(PersistTracker, UnemittedRewriteClampsAtOnce) {
  PersistTracker t;
  t.reset(12);
  EXPECT_EQ(t.stable_index(), 12u);
  t.on_rewrite(4);
  EXPECT_EQ(t.stable_index(), 4u);
  auto need = t.next_seq();
  EXPECT_EQ(t.on_emit(6), need);
  EXPECT_EQ(t.stable_index(), 4u);
  EXPECT_TRUE(t.on_persisted(6));
  EXPECT_GE(t.durable_seq(), need);
  EXPECT_EQ(t.stable_index(), 6u);
}
