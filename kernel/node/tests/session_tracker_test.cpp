// SessionTracker: the leader's expiry bookkeeping (exact deadlines, each expiry reported once).
#include <gtest/gtest.h>

#include "quorumlab/node/session_tracker.hpp"

using quorumlab::SessionId;
using quorumlab::node::SessionTracker;
using Ids = std::vector<SessionId>;

TEST(SessionTracker, ExpiresExactlyAtAddTimePlusTimeout) {
  SessionTracker t;
  t.add(7, 1000, 5000);
  EXPECT_TRUE(t.contains(7));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.take_expired(5999), Ids{});
  EXPECT_EQ(t.take_expired(6000), Ids{7});
  EXPECT_TRUE(t.contains(7)) << "an expired session stays known (closing) until removed";
}

TEST(SessionTracker, TouchPushesTheDeadlineAndUnknownIdsAreIgnored) {
  SessionTracker t;
  t.add(1, 1000, 0);
  t.touch(1, 900);
  EXPECT_EQ(t.take_expired(1000), Ids{});
  EXPECT_EQ(t.take_expired(1899), Ids{});
  EXPECT_EQ(t.take_expired(1900), Ids{1});
  t.touch(99, 0);  // unknown: no entry appears
  EXPECT_FALSE(t.contains(99));
  EXPECT_EQ(t.size(), 1u);
}

TEST(SessionTracker, ExpiredSessionIsReportedOnceAndTouchesDoNotReviveIt) {
  SessionTracker t;
  t.add(1, 100, 0);
  EXPECT_EQ(t.take_expired(100), Ids{1});
  t.touch(1, 150);  // closeSession is already on its way
  EXPECT_EQ(t.take_expired(10000), Ids{});
  // add() (e.g. the session was re-created or is re-tracked) clears the closing mark.
  t.add(1, 100, 20000);
  EXPECT_EQ(t.take_expired(20099), Ids{});
  EXPECT_EQ(t.take_expired(20100), Ids{1});
}

TEST(SessionTracker, OldestDeadlineFirstTiesById) {
  SessionTracker t;
  t.add(30, 500, 0);
  t.add(10, 500, 0);
  t.add(20, 300, 0);
  t.add(40, 900, 0);
  EXPECT_EQ(t.take_expired(600), (Ids{20, 10, 30}));
  EXPECT_EQ(t.take_expired(900), Ids{40});
}

TEST(SessionTracker, AddOfAKnownSessionRefreshesTimeoutAndDeadline) {
  SessionTracker t;
  t.add(5, 100, 0);
  t.add(5, 1000, 50);  // the new timeout counts from the new time
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.take_expired(1049), Ids{});
  t.touch(5, 1040);  // and touches use the new timeout
  EXPECT_EQ(t.take_expired(2039), Ids{});
  EXPECT_EQ(t.take_expired(2040), Ids{5});
}

TEST(SessionTracker, RemoveForgetsTheSessionWhetherPendingOrExpired) {
  SessionTracker t;
  t.add(1, 100, 0);
  t.add(2, 100, 0);
  t.remove(1);
  EXPECT_FALSE(t.contains(1));
  EXPECT_EQ(t.take_expired(100), Ids{2});
  t.remove(2);  // after its closeSession applied
  EXPECT_EQ(t.size(), 0u);
  t.remove(3);  // unknown: no effect
  EXPECT_EQ(t.take_expired(1000), Ids{});
}
