// Snapshots: round trips (small and 1M nodes), streaming, corruption detection.
#include <gtest/gtest.h>
#include <xxhash.h>

#include <chrono>
#include <cstring>
#include <sstream>

#include "quorumlab/sm/data_tree.hpp"
#include "test_util.hpp"

namespace quorumlab::sm {

using testing::Harness;
using testing::super_auth;

namespace {

// Builds a tree that exercises every kind of state a snapshot must carry.
void build_rich_tree(Harness& h) {
  h.header.auth = testing::digest_auth("bob", "pw");
  h.header.session_id = 11;
  ASSERT_EQ(h.open_session(11, 5000).err, Err::OK);
  ASSERT_EQ(h.open_session(12, 7000).err, Err::OK);
  ASSERT_EQ(h.create("/app", "root-data").err, Err::OK);
  ASSERT_EQ(h.create("/app/cfg", "x", CreateMode::kPersistent, creator_all_acl()).err, Err::OK);
  ASSERT_EQ(h.create("/app/ro", "y", CreateMode::kPersistent, read_acl_unsafe()).err, Err::OK);
  ASSERT_EQ(h.create("/app/e", "", CreateMode::kEphemeral).err, Err::OK);
  ASSERT_EQ(h.create("/app/s-", "", CreateMode::kPersistentSequential).err, Err::OK);
  ASSERT_EQ(h.create("/app/s-", "", CreateMode::kEphemeralSequential).err, Err::OK);
  ASSERT_EQ(h.create("/c", "", CreateMode::kContainer).err, Err::OK);
  ASSERT_EQ(h.create("/c/k").err, Err::OK);
  ASSERT_EQ(h.remove("/c/k").err, Err::OK);
  ASSERT_EQ(h.create("/t", "ttl", CreateMode::kPersistentWithTtl, open_acl_unsafe(), 1234).err,
            Err::OK);
  ASSERT_EQ(h.set("/app", "changed").err, Err::OK);
  h.header.auth = super_auth();
  ASSERT_EQ(h.set_acl("/app/ro", {{perms::kRead, {"ip", "10.0.0.0/8"}}}).err, Err::OK);
  ASSERT_EQ(h.create("/bin", std::string("\0\1\2\xFF", 4)).err, Err::OK);
}

void expect_same_answers(const DataTree& a, const DataTree& b, const std::string& path) {
  Stat sa, sb;
  Bytes da, db;
  AclList aa, ab;
  std::vector<std::string> ca, cb;
  ASSERT_EQ(a.get_data(path, super_auth(), &da, &sa), b.get_data(path, super_auth(), &db, &sb));
  EXPECT_EQ(sa, sb) << path;
  EXPECT_EQ(da, db) << path;
  ASSERT_EQ(a.get_acl(path, super_auth(), &aa, nullptr), Err::OK);
  ASSERT_EQ(b.get_acl(path, super_auth(), &ab, nullptr), Err::OK);
  EXPECT_EQ(aa, ab) << path;
  ASSERT_EQ(a.get_children(path, super_auth(), &ca), Err::OK);
  ASSERT_EQ(b.get_children(path, super_auth(), &cb), Err::OK);
  EXPECT_EQ(ca, cb) << path;
  for (const std::string& c : ca)
    expect_same_answers(a, b, (path == "/" ? "/" : path + "/") + c);
}

void expect_equivalent(const DataTree& a, const DataTree& b) {
  EXPECT_EQ(a.digest(), b.digest());
  EXPECT_EQ(a.node_count(), b.node_count());
  EXPECT_EQ(a.last_applied_zxid(), b.last_applied_zxid());
  EXPECT_EQ(a.approximate_data_size(), b.approximate_data_size());
  EXPECT_EQ(a.ephemeral_count(), b.ephemeral_count());
  const auto sa = a.sessions(), sb = b.sessions();
  ASSERT_EQ(sa.size(), sb.size());
  for (std::size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].session_id, sb[i].session_id);
    EXPECT_EQ(sa[i].timeout_ms, sb[i].timeout_ms);
    EXPECT_EQ(sa[i].ephemeral_count, sb[i].ephemeral_count);
    EXPECT_EQ(a.get_ephemerals(sa[i].session_id, ""), b.get_ephemerals(sb[i].session_id, ""));
  }
  expect_same_answers(a, b, "/");
}

void fix_checksum(Bytes* b) {
  const std::uint64_t sum = XXH3_64bits(b->data(), b->size() - 8);
  std::memcpy(b->data() + b->size() - 8, &sum, 8);
}

}  // namespace

TEST(SnapshotTest, RoundTripPreservesEverything) {
  Harness h;
  build_rich_tree(h);
  const Bytes snap = h.tree.serialize();
  std::string error;
  auto restored = DataTree::restore(snap.data(), snap.size(), &error);
  ASSERT_TRUE(restored) << error;
  restored->check_invariants();
  expect_equivalent(h.tree, *restored);
  // Serializing the restored tree gives the same bytes.
  EXPECT_EQ(restored->serialize(), snap);
  // Both continue identically.
  const Txn more{h.header, MultiOp{{CreateOp{"/app/s-", {}, open_acl_unsafe(), 2, -1},
                                    DeleteOp{"/app/e", -1}}}};
  std::vector<WatchTrigger> ta, tb;
  const TxnResult ra = h.tree.apply(more, h.zxid + 1, &ta);
  const TxnResult rb = restored->apply(more, h.zxid + 1, &tb);
  EXPECT_EQ(ra.err, Err::OK);
  EXPECT_EQ(ra.multi[0].path, rb.multi[0].path);
  EXPECT_EQ(ta.size(), tb.size());
  const Txn close{h.header, CloseSessionOp{11}};
  h.tree.apply(close, h.zxid + 2, nullptr);
  restored->apply(close, h.zxid + 2, nullptr);
  expect_equivalent(h.tree, *restored);
}

TEST(SnapshotTest, StreamMatchesSerialize) {
  Harness h;
  build_rich_tree(h);
  std::stringstream ss;
  h.tree.write_snapshot(ss);
  ASSERT_TRUE(ss.good());
  const std::string s = ss.str();
  EXPECT_EQ(Bytes(s.begin(), s.end()), h.tree.serialize());
  std::string error;
  auto restored = DataTree::read_snapshot(ss, &error);
  ASSERT_TRUE(restored) << error;
  EXPECT_EQ(restored->digest(), h.tree.digest());
}

TEST(SnapshotTest, EmptyTreeRoundTrip) {
  DataTree t;
  const Bytes snap = t.serialize();
  auto r = DataTree::restore(snap.data(), snap.size(), nullptr);
  ASSERT_TRUE(r);
  expect_equivalent(t, *r);
}

TEST(SnapshotTest, EveryTruncationAndByteFlipIsRejected) {
  Harness h;
  build_rich_tree(h);
  const Bytes snap = h.tree.serialize();
  for (std::size_t len = 0; len < snap.size(); ++len) {
    std::string error;
    EXPECT_FALSE(DataTree::restore(snap.data(), len, &error)) << len;
    EXPECT_FALSE(error.empty());
  }
  for (std::size_t i = 0; i < snap.size(); ++i) {
    Bytes m = snap;
    m[i] ^= 0x10;
    EXPECT_FALSE(DataTree::restore(m.data(), m.size(), nullptr)) << "flip at " << i;
  }
}

TEST(SnapshotTest, StructuralCorruptionWithValidChecksumIsRejected) {
  Harness h;
  build_rich_tree(h);
  const Bytes snap = h.tree.serialize();
  constexpr std::size_t kZxidAt = 12;  // magic(8) + version(4); not covered by the digest
  int rejected = 0, total = 0;
  for (std::size_t i = 0; i + 8 < snap.size(); ++i) {
    if (i >= kZxidAt && i < kZxidAt + 8) continue;
    for (std::uint8_t mask : {0x01, 0x80}) {
      Bytes m = snap;
      m[i] ^= mask;
      fix_checksum(&m);
      ++total;
      std::string error;
      auto r = DataTree::restore(m.data(), m.size(), &error);
      if (!r) {
        ++rejected;
      } else {
        ADD_FAILURE() << "accepted corruption at byte " << i;
      }
    }
  }
  EXPECT_EQ(rejected, total);
}

TEST(SnapshotTest, GarbageIsRejected) {
  std::string error;
  EXPECT_FALSE(DataTree::restore(nullptr, 0, &error));
  Bytes junk(1000, 0xAB);
  EXPECT_FALSE(DataTree::restore(junk.data(), junk.size(), &error));
  fix_checksum(&junk);
  EXPECT_FALSE(DataTree::restore(junk.data(), junk.size(), &error));
  EXPECT_NE(error.find("magic"), std::string::npos);
}

TEST(SnapshotTest, MillionNodeRoundTrip) {
  const int parents = testing::small_tests() ? 20 : 1000;
  const int per_parent = 1000;
  using Clock = std::chrono::steady_clock;
  const auto ms = [](Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  Harness h;
  const auto t0 = Clock::now();
  Txn txn{h.header, CreateOp{"", Bytes(100, 'd'), open_acl_unsafe(), 0, -1}};
  auto& op = std::get<CreateOp>(txn.op);
  for (int p = 0; p < parents; ++p) {
    const std::string parent = "/n" + std::to_string(p);
    ASSERT_EQ(h.create(parent).err, Err::OK);
    for (int c = 0; c < per_parent; ++c) {
      op.path = parent + "/c" + std::to_string(c);
      ASSERT_EQ(h.tree.apply(txn, ++h.zxid, nullptr).err, Err::OK);
    }
  }
  const auto t1 = Clock::now();
  const Bytes snap = h.tree.serialize();
  const auto t2 = Clock::now();
  std::string error;
  auto restored = DataTree::restore(snap.data(), snap.size(), &error);
  const auto t3 = Clock::now();
  ASSERT_TRUE(restored) << error;
  EXPECT_EQ(restored->digest(), h.tree.digest());
  EXPECT_EQ(restored->node_count(), h.tree.node_count());
  EXPECT_EQ(restored->node_count(), static_cast<std::size_t>(parents * (per_parent + 1) + 4));
  for (int i = 0; i < 1000; ++i) {
    const std::string path = "/n" + std::to_string((i * 7919) % parents) + "/c" +
                             std::to_string((i * 104729) % per_parent);
    Stat a, b;
    Bytes da, db;
    ASSERT_EQ(h.tree.get_data(path, super_auth(), &da, &a), Err::OK);
    ASSERT_EQ(restored->get_data(path, super_auth(), &db, &b), Err::OK);
    ASSERT_EQ(a, b);
    ASSERT_EQ(da, db);
  }
  std::vector<std::string> ka, kb;
  ASSERT_EQ(h.tree.get_children("/n0", super_auth(), &ka), Err::OK);
  ASSERT_EQ(restored->get_children("/n0", super_auth(), &kb), Err::OK);
  EXPECT_EQ(ka, kb);
  std::printf(
      "[ snapshot ] %zu nodes: build %lld ms, serialize %lld ms (%zu MB), restore %lld ms\n",
      h.tree.node_count(), static_cast<long long>(ms(t1 - t0)), static_cast<long long>(ms(t2 - t1)),
      snap.size() >> 20, static_cast<long long>(ms(t3 - t2)));
}

}  // namespace quorumlab::sm

namespace quorumlab::sm {

// Null data (ZooKeeper's null byte[]) is its own state: it survives a snapshot, it is told
// apart from empty data in reads and in the digest, and a failed multi restores it.
TEST(SnapshotTest, NullDataIsKeptApartFromEmptyData) {
  testing::Harness h;
  CreateOp null_create{"/null", {}, open_acl_unsafe(), 0, -1, true};
  ASSERT_EQ(h.run(null_create).err, Err::OK);
  ASSERT_EQ(h.create("/empty", "").err, Err::OK);
  Bytes data;
  bool null = false;
  ASSERT_EQ(h.tree.get_data("/null", super_auth(), &data, nullptr, &null), Err::OK);
  EXPECT_TRUE(null);
  EXPECT_TRUE(data.empty());
  ASSERT_EQ(h.tree.get_data("/empty", super_auth(), &data, nullptr, &null), Err::OK);
  EXPECT_FALSE(null);
  h.tree.check_invariants();

  // Same nodes with empty data instead: a different digest.
  testing::Harness e;
  ASSERT_EQ(e.create("/null", "").err, Err::OK);
  ASSERT_EQ(e.create("/empty", "").err, Err::OK);
  EXPECT_NE(h.tree.digest(), e.tree.digest());

  const Bytes snap = h.tree.serialize();
  std::string error;
  auto restored = DataTree::restore(snap.data(), snap.size(), &error);
  ASSERT_TRUE(restored) << error;
  restored->check_invariants();
  EXPECT_EQ(restored->digest(), h.tree.digest());
  ASSERT_EQ(restored->get_data("/null", super_auth(), &data, nullptr, &null), Err::OK);
  EXPECT_TRUE(null);
  EXPECT_EQ(restored->serialize(), snap);

  // setData null and back; a failed multi undoes a null set.
  ASSERT_EQ(h.run(SetDataOp{"/empty", {}, -1, true}).err, Err::OK);
  ASSERT_EQ(h.tree.get_data("/empty", super_auth(), &data, nullptr, &null), Err::OK);
  EXPECT_TRUE(null);
  ASSERT_EQ(h.set("/null", "").err, Err::OK);
  ASSERT_EQ(h.tree.get_data("/null", super_auth(), &data, nullptr, &null), Err::OK);
  EXPECT_FALSE(null);
  const std::uint64_t before = h.tree.digest();
  ASSERT_NE(h.run(MultiOp{{SetDataOp{"/null", {}, -1, true}, CheckOp{"/empty", 99}}}).err, Err::OK);
  ASSERT_EQ(h.tree.get_data("/null", super_auth(), &data, nullptr, &null), Err::OK);
  EXPECT_FALSE(null);
  EXPECT_EQ(h.tree.digest(), before);
  h.tree.check_invariants();
}

}  // namespace quorumlab::sm
