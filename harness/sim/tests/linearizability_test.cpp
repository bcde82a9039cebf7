// The linearizability checker on hand-written histories, linearizable and not.
#include <gtest/gtest.h>

#include "quorumlab/sim/linearizability.hpp"

using namespace quorumlab;
using namespace quorumlab::sim;

namespace {

/// Builds histories by hand: times in microseconds, results as the server would report them.
class Builder {
 public:
  HistoryOp& op(OpKind kind, const std::string& key, std::int64_t invoke, std::int64_t complete,
                int client = 0) {
    HistoryOp o;
    o.id = h.ops.size();
    o.client = client;
    o.kind = kind;
    o.key = key;
    o.invoke_us = invoke;
    o.complete_us = complete;
    h.ops.push_back(o);
    return h.ops.back();
  }
  void create(const std::string& key, const std::string& data, std::int64_t a, std::int64_t b,
              std::int32_t err = zerr::ok) {
    auto& o = op(OpKind::create, key, a, b);
    o.data = data;
    o.err = err;
    if (err == zerr::ok) o.observed = ZnodeState{true, data, 0, 0, 0};
  }
  void set(const std::string& key, const std::string& data, std::int64_t a, std::int64_t b,
           std::int32_t result_version, std::int32_t version = -1, std::int32_t err = zerr::ok) {
    auto& o = op(OpKind::set, key, a, b);
    o.data = data;
    o.version = version;
    o.err = err;
    if (err == zerr::ok) o.observed = ZnodeState{true, data, result_version, 0, 0};
  }
  void get(const std::string& key, std::int64_t a, std::int64_t b, const std::string& data,
           std::int32_t version) {
    auto& o = op(OpKind::get, key, a, b);
    o.observed = ZnodeState{true, data, version, 0, 0};
  }
  void get_none(const std::string& key, std::int64_t a, std::int64_t b) {
    op(OpKind::get, key, a, b).err = zerr::no_node;
  }
  void remove(const std::string& key, std::int64_t a, std::int64_t b, std::int32_t version = -1,
              std::int32_t err = zerr::ok) {
    auto& o = op(OpKind::remove, key, a, b);
    o.version = version;
    o.err = err;
  }
  History h;
};

constexpr std::int64_t kNone = HistoryOp::kNoReply;

}  // namespace

TEST(Linearizability, EmptyHistoryIsLinearizable) {
  EXPECT_TRUE(check_linearizable(History{}).ok);
}

TEST(Linearizability, SequentialCreateSetGetDelete) {
  Builder b;
  b.create("/a", "x", 0, 10);
  b.get("/a", 20, 30, "x", 0);
  b.set("/a", "y", 40, 50, 1);
  b.get("/a", 60, 70, "y", 1);
  b.remove("/a", 80, 90);
  b.get_none("/a", 100, 110);
  b.create("/a", "z", 120, 130);
  b.get("/a", 140, 150, "z", 0);  // a new node starts at version 0 again
  auto r = check_linearizable(b.h);
  EXPECT_TRUE(r.ok) << r.explanation;
  EXPECT_EQ(r.ops_checked, 8u);
}

TEST(Linearizability, ConcurrentReadMaySeeEitherSideOfAWrite) {
  Builder b;
  b.create("/a", "x", 0, 10);
  b.set("/a", "y", 20, 100, 1);
  b.get("/a", 30, 40, "x", 0);  // before the set takes effect
  b.get("/a", 50, 60, "y", 1);  // after
  EXPECT_TRUE(check_linearizable(b.h).ok);
}

TEST(Linearizability, StaleReadAfterACompletedWriteIsNot) {
  Builder b;
  b.create("/a", "x", 0, 10);
  b.set("/a", "y", 20, 30, 1);
  b.get("/a", 40, 50, "x", 0);  // the set completed before this read began
  auto r = check_linearizable(b.h);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failed_key, "/a");
  EXPECT_NE(r.explanation.find(">>"), std::string::npos) << r.explanation;
}

TEST(Linearizability, ReadsMustNotFlipFlopBetweenConcurrentWrites) {
  Builder ok;
  ok.create("/a", "0", 0, 5);
  ok.set("/a", "1", 10, 200, 1);
  ok.set("/a", "2", 10, 200, 2);
  ok.get("/a", 20, 30, "1", 1);
  ok.get("/a", 40, 50, "2", 2);
  EXPECT_TRUE(check_linearizable(ok.h).ok);
  Builder flip;
  flip.create("/a", "0", 0, 5);
  flip.set("/a", "1", 10, 200, 1);
  flip.set("/a", "2", 10, 200, 2);
  flip.get("/a", 20, 30, "2", 2);  // both sets took effect...
  flip.get("/a", 40, 50, "1", 1);  // ...so the first one's value cannot come back
  EXPECT_FALSE(check_linearizable(flip.h).ok);
}

TEST(Linearizability, ValueNobodyWroteIsNot) {
  Builder b;
  b.create("/a", "x", 0, 10);
  b.get("/a", 20, 30, "ghost", 0);
  EXPECT_FALSE(check_linearizable(b.h).ok);
}

TEST(Linearizability, WriteWithoutReplyMayOrMayNotHaveHappened) {
  Builder took_effect;
  took_effect.create("/a", "x", 0, kNone);
  took_effect.get("/a", 50, 60, "x", 0);
  EXPECT_TRUE(check_linearizable(took_effect.h).ok);

  Builder never;
  never.create("/a", "x", 0, kNone);
  never.get_none("/a", 50, 60);
  EXPECT_TRUE(check_linearizable(never.h).ok);

  Builder undone;  // once seen, it cannot disappear again
  undone.create("/a", "x", 0, kNone);
  undone.get("/a", 50, 60, "x", 0);
  undone.get_none("/a", 70, 80);
  EXPECT_FALSE(check_linearizable(undone.h).ok);
}

TEST(Linearizability, VersionConditionsAndTheirErrors) {
  Builder b;
  b.create("/a", "x", 0, 10);
  b.set("/a", "y", 20, 30, 1, /*version=*/0);
  b.set("/a", "z", 40, 50, 0, /*version=*/0, zerr::bad_version);
  b.remove("/a", 60, 70, /*version=*/0, zerr::bad_version);
  b.remove("/a", 80, 90, /*version=*/1);
  b.remove("/a", 100, 110, -1, zerr::no_node);
  b.create("/a", "w", 120, 130);
  b.create("/a", "v", 140, 150, zerr::node_exists);
  auto r = check_linearizable(b.h);
  EXPECT_TRUE(r.ok) << r.explanation;

  Builder bad;
  bad.create("/a", "x", 0, 10);
  bad.set("/a", "y", 20, 30, 0, /*version=*/0, zerr::bad_version);  // version 0 was right
  EXPECT_FALSE(check_linearizable(bad.h).ok);
}

TEST(Linearizability, WritesOnlyIgnoresStaleReads) {
  Builder b;
  b.create("/a", "x", 0, 10);
  b.set("/a", "y", 20, 30, 1);
  b.get("/a", 40, 50, "x", 0);
  LinearizabilityOptions writes_only;
  writes_only.include_reads = false;
  EXPECT_TRUE(check_linearizable(b.h, writes_only).ok);
  EXPECT_FALSE(check_linearizable(b.h).ok);
}

TEST(Linearizability, KeysAreCheckedIndependently) {
  Builder b;
  b.create("/a", "x", 0, 10);
  b.create("/b", "y", 0, 10);
  b.get("/a", 20, 30, "x", 0);
  b.get_none("/c", 20, 30);
  b.get("/b", 40, 50, "y", 0);
  auto r = check_linearizable(b.h);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.keys_checked, 3u);
  b.get_none("/b", 60, 70);
  r = check_linearizable(b.h);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failed_key, "/b");
}

TEST(Linearizability, ManyConcurrentClientsStayTractable) {
  // 6 clients, each alternating set and get on one key with overlapping intervals: the
  // memoized search must finish quickly.
  Builder b;
  b.create("/a", "init", 0, 1);
  std::int32_t version = 0;
  for (int round = 0; round < 60; ++round) {
    const std::int64_t t = 10 + round * 100;
    for (int c = 0; c < 6; ++c) {
      ++version;
      b.set("/a", "v" + std::to_string(version), t + c, t + 60 + c, version);
    }
    b.get("/a", t + 70, t + 80, "v" + std::to_string(version), version);
  }
  auto r = check_linearizable(b.h);
  EXPECT_TRUE(r.ok) << r.explanation;
  EXPECT_EQ(r.keys_unknown, 0u);
}

TEST(Linearizability, SearchBudgetGivesUnknownNotFailure) {
  Builder b;
  b.create("/a", "init", 0, 1);
  for (int c = 0; c < 12; ++c)
    b.set("/a", "v" + std::to_string(c), 10, kNone, 1);
  b.get("/a", 100, 110, "nothing", 7);
  LinearizabilityOptions tiny;
  tiny.max_steps_per_key = 10;
  auto r = check_linearizable(b.h, tiny);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.keys_unknown, 1u);
}

TEST(Linearizability, ManyFullyOverlappingWritesAreTriedInZxidOrder) {
  // 30 writes queued together (e.g. during an election) all overlap; a failed conditional
  // write among them can go almost anywhere. Trying calls in zxid order finds the system's
  // own order first.
  Builder b;
  b.create("/a", "init", 0, 1);
  b.h.ops.back().zxid = 1;
  std::int32_t version = 0;
  for (int i = 0; i < 30; ++i) {
    if (i % 3 == 2) {
      b.set("/a", "late" + std::to_string(i), 10 + i, 1000, 0, /*version=*/0, zerr::bad_version);
    } else {
      ++version;
      b.set("/a", "v" + std::to_string(i), 10 + i, 1000, version);
    }
    b.h.ops.back().zxid = static_cast<Zxid>(i + 2);
  }
  b.get("/a", 2000, 2010, "v28", version);
  LinearizabilityOptions small;
  small.max_steps_per_key = 100000;
  auto r = check_linearizable(b.h, small);
  EXPECT_TRUE(r.ok) << r.explanation;
  EXPECT_EQ(r.keys_unknown, 0u);
  b.get("/a", 3000, 3010, "v27", version - 1);  // an older value after the final one
  r = check_linearizable(b.h);  // refuting it means exploring every order: the default budget
  EXPECT_FALSE(r.ok) << "undecided: " << r.keys_unknown;
}
