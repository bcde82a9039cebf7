// The replica checker and the history checks on synthetic inputs: each test names the
// property it expects to see broken.
#include <gtest/gtest.h>

#include "quorumlab/sim/checkers.hpp"

using namespace quorumlab;
using namespace quorumlab::sim;

namespace {

node::AppliedInfo applied(LogIndex index, Zxid zxid, const Bytes& data, std::uint64_t digest) {
  return node::AppliedInfo{index, zxid, &data, digest};
}

BroadcastStatus leader(std::uint64_t epoch) {
  BroadcastStatus s;
  s.role = Role::leader;
  s.epoch = epoch;
  return s;
}

}  // namespace

TEST(ReplicaChecker, ReplicasApplyingTheSameSequenceAreFine) {
  ReplicaChecker c;
  const Bytes a{1}, b{2};
  for (NodeId n : {1u, 2u, 3u}) {
    EXPECT_FALSE(c.on_applied(n, 1, applied(1, 0x100000001, a, 11)));
    EXPECT_FALSE(c.on_applied(n, 1, applied(2, 0x100000002, b, 22)));
  }
  EXPECT_EQ(c.committed().size(), 2u);
  EXPECT_EQ(c.max_applied_zxid(), 0x100000002u);
}

TEST(ReplicaChecker, SameTxnsSameOrder) {
  ReplicaChecker c;
  const Bytes a{1}, b{2};
  EXPECT_FALSE(c.on_applied(1, 1, applied(1, 0x100000001, a, 11)));
  auto v = c.on_applied(2, 1, applied(1, 0x100000001, b, 11));  // other data at index 1
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "same_txns_same_order");
  ReplicaChecker d;
  EXPECT_FALSE(d.on_applied(1, 1, applied(1, 0x100000001, a, 11)));
  v = d.on_applied(2, 1, applied(2, 0x100000001, a, 11));  // the same zxid at another index
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "same_txns_same_order");
}

TEST(ReplicaChecker, CommittedTxnsNeverChange) {
  ReplicaChecker c;
  const Bytes a{1}, b{2};
  EXPECT_FALSE(c.on_applied(1, 1, applied(1, 0x100000001, a, 11)));
  // After a restart the same replica applies something else at that index.
  auto v = c.on_applied(1, 2, applied(1, 0x200000001, b, 12));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "committed_txns_never_change");
}

TEST(ReplicaChecker, AppliedInOrder) {
  ReplicaChecker c;
  const Bytes a{1}, b{2};
  EXPECT_FALSE(c.on_applied(1, 1, applied(2, 0x100000002, b, 22)));
  auto v = c.on_applied(1, 1, applied(1, 0x100000001, a, 11));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "applied_in_order");
  // A restart (new incarnation) starts over from its recovered state.
  ReplicaChecker d;
  EXPECT_FALSE(d.on_applied(1, 1, applied(2, 0x100000002, b, 22)));
  EXPECT_FALSE(d.on_applied(1, 1, applied(3, 0x100000003, a, 33)));
  EXPECT_FALSE(d.on_applied(1, 2, applied(3, 0x100000003, a, 33)));
}

TEST(ReplicaChecker, DigestAtZxid) {
  ReplicaChecker c;
  const Bytes a{1};
  EXPECT_FALSE(c.on_applied(1, 1, applied(1, 0x100000001, a, 11)));
  auto v = c.on_applied(2, 1, applied(1, 0x100000001, a, 99));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "digest_at_zxid");
}

TEST(ReplicaChecker, SnapshotMustAgreeWithTheCommittedSequence) {
  ReplicaChecker c;
  const Bytes a{1};
  EXPECT_FALSE(c.on_applied(1, 1, applied(1, 0x100000001, a, 11)));
  EXPECT_FALSE(c.on_applied(2, 1, node::AppliedInfo{1, 0x100000001, nullptr, 11}));
  auto v = c.on_applied(3, 1, node::AppliedInfo{1, 0x100000005, nullptr, 11});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "same_txns_same_order");
}

TEST(ReplicaChecker, OneLeaderPerEpoch) {
  ReplicaChecker c;
  EXPECT_FALSE(c.on_status(1, leader(1)));
  EXPECT_FALSE(c.on_status(1, leader(1)));
  EXPECT_FALSE(c.on_status(2, leader(2)));
  BroadcastStatus follower;
  follower.role = Role::follower;
  follower.epoch = 2;
  EXPECT_FALSE(c.on_status(3, follower));
  auto v = c.on_status(3, leader(2));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "one_leader_per_epoch");
}

namespace {

/// A history whose committed sequence is built through real txns.
struct HistoryFixture {
  ReplicaChecker replicas;
  History history;
  std::vector<Bytes> txns;
  LogIndex index = 0;

  Zxid commit(sm::TxnOp op) {
    sm::Txn t;
    t.header.session_id = 1;
    t.op = std::move(op);
    txns.push_back(sm::encode(t));
    ++index;
    const Zxid z = (Zxid{1} << 32) | index;  // any increasing zxids do
    replicas.on_applied(1, 1, node::AppliedInfo{index, z, &txns.back(), index});
    return z;
  }
  Zxid create(const std::string& path, const std::string& data) {
    sm::CreateOp c;
    c.path = path;
    c.data.assign(data.begin(), data.end());
    c.acl = {{31, {"world", "anyone"}}};
    return commit(c);
  }
  Zxid set(const std::string& path, const std::string& data) {
    sm::SetDataOp s;
    s.path = path;
    s.data.assign(data.begin(), data.end());
    return commit(s);
  }
  HistoryOp& op(OpKind kind, std::int64_t invoke, std::int64_t complete, Zxid zxid,
                SessionId session = 7) {
    HistoryOp o;
    o.id = history.ops.size();
    o.session = session;
    o.kind = kind;
    o.key = "/k";
    o.invoke_us = invoke;
    o.complete_us = complete;
    o.zxid = zxid;
    history.ops.push_back(o);
    return history.ops.back();
  }
};

}  // namespace

TEST(HistoryChecks, ReadMatchesZxid) {
  HistoryFixture f;
  const Zxid z1 = f.create("/k", "a");
  auto& w = f.op(OpKind::create, 0, 10, z1);
  w.data = "a";
  w.observed = ZnodeState{true, "a", 0, z1, z1};
  auto& r = f.op(OpKind::get, 20, 30, z1, 8);
  r.observed = ZnodeState{true, "a", 0, z1, z1};
  EXPECT_FALSE(check_history(f.history, f.replicas, {}).violation);
  f.history.ops.back().observed.data = "b";  // not what the key held at that zxid
  auto v = check_history(f.history, f.replicas, {}).violation;
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "read_matches_zxid");
}

TEST(HistoryChecks, ReadYourWrites) {
  HistoryFixture f;
  const Zxid z1 = f.create("/k", "a");
  const Zxid z2 = f.set("/k", "b");
  auto& w = f.op(OpKind::set, 0, 10, z2);
  w.data = "b";
  w.observed = ZnodeState{true, "b", 1, z2, z1};
  // The same session then reads the key as it was before its own write (at zxid z1: the
  // reply is consistent with that zxid, but older than the session's write).
  auto& r = f.op(OpKind::get, 20, 30, z1);
  r.observed = ZnodeState{true, "a", 0, z1, z1};
  auto v = check_history(f.history, f.replicas, {}).violation;
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "read_your_writes");
}

TEST(HistoryChecks, LinearizableAndStaleReadAccounting) {
  HistoryFixture f;
  const Zxid z1 = f.create("/k", "a");
  const Zxid z2 = f.set("/k", "b");
  auto& w1 = f.op(OpKind::create, 0, 10, z1, 1);
  w1.data = "a";
  w1.observed = ZnodeState{true, "a", 0, z1, z1};
  auto& w2 = f.op(OpKind::set, 20, 30, z2, 1);
  w2.data = "b";
  w2.observed = ZnodeState{true, "b", 1, z2, z1};
  // Another session reads at 2030 us what the key held at z1: 2 ms stale, one version.
  auto& r = f.op(OpKind::get, 2030, 2040, z1, 2);
  r.observed = ZnodeState{true, "a", 0, z1, z1};
  HistoryCheckOptions writes_only;
  auto res = check_history(f.history, f.replicas, writes_only);
  EXPECT_FALSE(res.violation);
  EXPECT_EQ(res.stale.reads, 1u);
  EXPECT_EQ(res.stale.stale, 1u);
  EXPECT_EQ(res.stale.versions_max, 1u);
  EXPECT_EQ(res.stale.ms_max, 2);
  HistoryCheckOptions all;
  all.linearizable_reads = true;
  auto v = check_history(f.history, f.replicas, all).violation;
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "linearizable");
}
