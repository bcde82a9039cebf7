// DataTree single ops, one test per rule of reference/zookeeper.md §1.1-§1.9 (named RefX_Y).
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>

#include "quorumlab/sm/data_tree.hpp"
#include "test_util.hpp"

namespace quorumlab::sm {

using testing::bytes;
using testing::digest_auth;
using testing::Harness;
using testing::ip_auth;
using testing::super_auth;

// ------------------------------------------------------------------ §1.6 initial tree

TEST(DataTreeTest, Ref1_6_InitialTree) {
  DataTree t;
  EXPECT_EQ(t.node_count(), 4u);
  EXPECT_EQ(t.last_applied_zxid(), 0u);
  std::vector<std::string> kids;
  ASSERT_EQ(t.get_children("/", ip_auth(), &kids), Err::OK);
  EXPECT_EQ(kids, (std::vector<std::string>{"zookeeper"}));
  ASSERT_EQ(t.get_children("/zookeeper", ip_auth(), &kids), Err::OK);
  EXPECT_EQ(kids, (std::vector<std::string>{"config", "quota"}));
  std::int32_t n = 0;
  ASSERT_EQ(t.get_all_children_number("/", ip_auth(), &n), Err::OK);
  EXPECT_EQ(n, 3);
  t.check_invariants();
}

TEST(DataTreeTest, Ref1_3_InitialStatsShowZooKeepersCversionQuirk) {
  DataTree t;
  Stat root, zk, quota;
  ASSERT_EQ(t.exists("/", ip_auth(), &root), Err::OK);
  ASSERT_EQ(t.exists("/zookeeper", ip_auth(), &zk), Err::OK);
  ASSERT_EQ(t.exists("/zookeeper/quota", ip_auth(), &quota), Err::OK);
  // Children linked without a create: persisted cversion 0, visible 0*2 - numChildren.
  EXPECT_EQ(root.cversion, -1);
  EXPECT_EQ(root.numChildren, 1);
  EXPECT_EQ(zk.cversion, -2);
  EXPECT_EQ(zk.numChildren, 2);
  EXPECT_EQ(quota, Stat{});
  EXPECT_EQ(root.czxid, 0);
}

TEST(DataTreeTest, Ref1_1_ConfigNodeIsReadOnlyWithAversionMinusOne) {
  DataTree t;
  AclList acl;
  Stat st;
  ASSERT_EQ(t.get_acl("/zookeeper/config", ip_auth(), &acl, &st), Err::OK);
  EXPECT_EQ(acl, read_acl_unsafe());
  EXPECT_EQ(st.aversion, -1);
  Harness h;
  EXPECT_EQ(h.set("/zookeeper/config", "x").err, Err::NOAUTH);
  EXPECT_EQ(h.create("/zookeeper/config/x").err, Err::NOAUTH);
}

TEST(DataTreeTest, Ref1_6_EnsembleConfigIsSetLikeInitConfigInZKDatabase) {
  DataTree t;
  const std::uint64_t before = t.digest();
  const std::string text = "server.1=127.0.0.1:7001:7001:participant\nversion=0";
  t.set_ensemble_config(Bytes(text.begin(), text.end()));
  EXPECT_NE(t.digest(), before);
  Bytes data;
  Stat st;
  ASSERT_EQ(t.get_data("/zookeeper/config", ip_auth(), &data, &st), Err::OK);
  EXPECT_EQ(std::string(data.begin(), data.end()), text);
  EXPECT_EQ(st.version, -1);
  EXPECT_EQ(st.mzxid, 0);
  EXPECT_EQ(st.dataLength, static_cast<std::int32_t>(text.size()));
  t.check_invariants();
  // Two replicas with the same configuration agree, also through a snapshot.
  DataTree u;
  u.set_ensemble_config(Bytes(text.begin(), text.end()));
  EXPECT_EQ(u.digest(), t.digest());
  Bytes snap = t.serialize();
  std::string error;
  auto r = DataTree::restore(snap.data(), snap.size(), &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->digest(), t.digest());
}

TEST(DataTreeTest, Ref1_6_SpecialPathsCannotBeDeleted) {
  Harness h;
  for (const char* p : {"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"}) {
    EXPECT_EQ(h.remove(p).err, Err::BADARGUMENTS) << p;
  }
  // Other nodes under /zookeeper are ordinary.
  EXPECT_EQ(h.create("/zookeeper/mine").err, Err::OK);
  EXPECT_EQ(h.remove("/zookeeper/mine").err, Err::OK);
  EXPECT_EQ(h.create("/zookeeper").err, Err::NODEEXISTS);
}

// ------------------------------------------------------------------ apply contract

TEST(DataTreeTest, ApplyRequiresIncreasingZxid) {
  DataTree t;
  const Txn noop{TxnHeader{}, NoOp{}};
  EXPECT_THROW(t.apply(noop, 0, nullptr), std::logic_error);
  EXPECT_EQ(t.apply(noop, 5, nullptr).err, Err::OK);
  EXPECT_EQ(t.last_applied_zxid(), 5u);
  EXPECT_THROW(t.apply(noop, 5, nullptr), std::logic_error);
  EXPECT_THROW(t.apply(noop, 4, nullptr), std::logic_error);
  EXPECT_EQ(t.last_applied_zxid(), 5u);
}

TEST(DataTreeTest, Ref1_13_FailedTxnStillConsumesItsZxid) {
  Harness h;
  const std::uint64_t before = h.tree.digest();
  EXPECT_EQ(h.remove("/missing").err, Err::NONODE);
  EXPECT_EQ(h.tree.last_applied_zxid(), 1u);
  EXPECT_EQ(h.tree.digest(), before);
  EXPECT_TRUE(h.triggers.empty());
}

// ------------------------------------------------------------------ create

TEST(DataTreeTest, Ref1_3_CreateSetsStat) {
  Harness h;
  h.header.time_ms = 777;
  const TxnResult r = h.create("/a", "hello");
  ASSERT_EQ(r.err, Err::OK);
  EXPECT_EQ(r.type, OpType::kCreate);
  EXPECT_EQ(r.path, "/a");
  const Stat s = r.stat;
  EXPECT_EQ(s.czxid, 1);
  EXPECT_EQ(s.mzxid, 1);
  EXPECT_EQ(s.pzxid, 1);
  EXPECT_EQ(s.ctime, 777);
  EXPECT_EQ(s.mtime, 777);
  EXPECT_EQ(s.version, 0);
  EXPECT_EQ(s.cversion, 0);
  EXPECT_EQ(s.aversion, 0);
  EXPECT_EQ(s.ephemeralOwner, 0);
  EXPECT_EQ(s.dataLength, 5);
  EXPECT_EQ(s.numChildren, 0);
  EXPECT_EQ(h.stat("/a"), s);
  EXPECT_EQ(h.data("/a"), "hello");
  const Stat root = h.stat("/");
  EXPECT_EQ(root.pzxid, 1);
  EXPECT_EQ(root.numChildren, 2);
  EXPECT_EQ(root.cversion, 0);  // persisted 1: 1*2 - 2
  h.tree.check_invariants();
}

TEST(DataTreeTest, Ref1_1_CreateErrors) {
  Harness h;
  ASSERT_EQ(h.create("/a").err, Err::OK);
  EXPECT_EQ(h.create("/a").err, Err::NODEEXISTS);
  EXPECT_EQ(h.create("/x/y").err, Err::NONODE);
  EXPECT_EQ(h.create("a").err, Err::BADARGUMENTS);
  EXPECT_EQ(h.create("").err, Err::BADARGUMENTS);
  EXPECT_EQ(h.create(std::string("/a\0b", 4)).err, Err::BADARGUMENTS);
  EXPECT_EQ(h.create("/a/").err, Err::BADARGUMENTS);  // valid parent, invalid final path
  EXPECT_EQ(h.create("/a/.").err, Err::BADARGUMENTS);
  EXPECT_EQ(h.create("/").err, Err::NODEEXISTS);
  // The parent lookup comes before full validation: "/nope//x" has parent "/nope/".
  EXPECT_EQ(h.create("/nope//x").err, Err::NONODE);
  EXPECT_EQ(h.run(CreateOp{"/m", {}, open_acl_unsafe(), 8, -1}).err, Err::BADARGUMENTS);
  EXPECT_EQ(h.run(CreateOp{"/m", {}, open_acl_unsafe(), -1, -1}).err, Err::BADARGUMENTS);
  EXPECT_EQ(h.create("/acl", "", CreateMode::kPersistent, {}).err, Err::INVALIDACL);
  EXPECT_EQ(h.tree.node_count(), 5u);
}

TEST(DataTreeTest, Ref1_9_DataLimit) {
  Harness h(TreeConfig{16, true, 0, ""});
  EXPECT_EQ(h.create("/a", std::string(16, 'x')).err, Err::OK);
  EXPECT_EQ(h.create("/b", std::string(17, 'x')).err, Err::BADARGUMENTS);
  EXPECT_EQ(h.set("/a", std::string(17, 'x')).err, Err::BADARGUMENTS);
  EXPECT_EQ(h.set("/a", std::string(3, 'x')).err, Err::OK);
  Harness d;
  EXPECT_EQ(d.tree.config().max_data_bytes, 1048576u);
  EXPECT_EQ(d.create("/big", std::string(1048576, 'x')).err, Err::OK);
  EXPECT_EQ(d.create("/bigger", std::string(1048577, 'x')).err, Err::BADARGUMENTS);
}

TEST(DataTreeTest, Ref1_2_EphemeralOwnerAndSessionCheck) {
  Harness h;
  h.header.session_id = 0x1234;
  EXPECT_EQ(h.create("/e", "", CreateMode::kEphemeral).err, Err::SESSIONEXPIRED);
  ASSERT_EQ(h.open_session(0x1234).err, Err::OK);
  const TxnResult r = h.create("/e", "", CreateMode::kEphemeral);
  ASSERT_EQ(r.err, Err::OK);
  EXPECT_EQ(r.stat.ephemeralOwner, 0x1234);
  EXPECT_EQ(h.tree.ephemeral_count(), 1u);
  EXPECT_EQ(h.create("/e/child").err, Err::NOCHILDRENFOREPHEMERALS);
  EXPECT_EQ(h.create("/e/", "", CreateMode::kPersistentSequential).err,
            Err::NOCHILDRENFOREPHEMERALS);
  // Persistent creates need no session in the table (the kernel checks sessions).
  h.header.session_id = 0x9999;
  EXPECT_EQ(h.create("/p").err, Err::OK);
}

TEST(DataTreeTest, Ref1_2_ContainerAndTtlShowZeroOwner) {
  Harness h;
  TxnResult c = h.create("/c", "", CreateMode::kContainer);
  ASSERT_EQ(c.err, Err::OK);
  EXPECT_EQ(c.stat.ephemeralOwner, 0);
  TxnResult t = h.create("/t", "", CreateMode::kPersistentWithTtl, open_acl_unsafe(), 5000);
  ASSERT_EQ(t.err, Err::OK);
  EXPECT_EQ(t.stat.ephemeralOwner, 0);
  // Containers and TTL nodes may have children.
  EXPECT_EQ(h.create("/c/x").err, Err::OK);
  EXPECT_EQ(h.create("/t/x").err, Err::OK);
}

// createContainer with a sequential flag (ZooKeeper 3.8 makes a sequential container): the
// tree's mode 7, a container with a sequence suffix; clients cannot send 7 (BADARGUMENTS in
// the front-ends' mode checks), only the tree accepts it.
TEST(DataTreeTest, SequentialContainer) {
  Harness h;
  TxnResult c = h.create("/c-", "", CreateMode::kContainerSequential);
  ASSERT_EQ(c.err, Err::OK);
  EXPECT_EQ(c.path, "/c-0000000000");
  EXPECT_EQ(c.stat.ephemeralOwner, 0);
  EXPECT_EQ(h.create(c.path + "/x").err, Err::OK);
  EXPECT_EQ(h.remove(c.path + "/x").err, Err::OK);
  EXPECT_EQ(h.tree.expired_nodes(h.header.time_ms), std::vector<std::string>{c.path});
}

// ZooKeeper's DataTree keys the root by "" too: reads of "" answer the root, writes of ""
// stay invalid.
TEST(DataTreeTest, EmptyPathReadsTheRoot) {
  Harness h;
  ASSERT_EQ(h.create("/a").err, Err::OK);
  Stat root, empty;
  ASSERT_EQ(h.tree.exists("/", super_auth(), &root), Err::OK);
  ASSERT_EQ(h.tree.exists("", super_auth(), &empty), Err::OK);
  EXPECT_EQ(root, empty);
  std::vector<std::string> kids;
  ASSERT_EQ(h.tree.get_children("", super_auth(), &kids, nullptr), Err::OK);
  EXPECT_EQ(kids, (std::vector<std::string>{"a", "zookeeper"}));
  std::int32_t all = 0, all_root = 0;
  ASSERT_EQ(h.tree.get_all_children_number("/", super_auth(), &all_root), Err::OK);
  ASSERT_EQ(h.tree.get_all_children_number("", super_auth(), &all), Err::OK);
  EXPECT_EQ(all, all_root + 1);  // ZooKeeper's count of keys starting with "/"
  EXPECT_EQ(h.set("", "x").err, Err::BADARGUMENTS);
  EXPECT_EQ(h.remove("").err, Err::BADARGUMENTS);
  EXPECT_EQ(h.create("").err, Err::BADARGUMENTS);
}

TEST(DataTreeTest, Ref1_2_TtlValidation) {
  Harness h;
  const auto ttl = [&](std::string p, CreateMode m, std::int64_t v) {
    return h.create(std::move(p), "", m, open_acl_unsafe(), v).err;
  };
  EXPECT_EQ(ttl("/t0", CreateMode::kPersistentWithTtl, 0), Err::BADARGUMENTS);
  EXPECT_EQ(ttl("/t1", CreateMode::kPersistentWithTtl, -1), Err::BADARGUMENTS);
  EXPECT_EQ(ttl("/t2", CreateMode::kPersistentWithTtl, kTtlMaxMs + 1), Err::BADARGUMENTS);
  EXPECT_EQ(ttl("/t3", CreateMode::kPersistentWithTtl, kTtlMaxMs), Err::OK);
  EXPECT_EQ(ttl("/t4", CreateMode::kPersistentWithTtl, 1), Err::OK);
  EXPECT_EQ(ttl("/t5-", CreateMode::kPersistentSequentialWithTtl, 10), Err::OK);
  EXPECT_EQ(h.tree.exists("/t5-0000000002", super_auth(), nullptr), Err::OK);
  // A ttl with a non-TTL mode is rejected (EphemeralType.validateTTL).
  EXPECT_EQ(ttl("/p", CreateMode::kPersistent, 0), Err::BADARGUMENTS);
  EXPECT_EQ(ttl("/p", CreateMode::kContainer, 100), Err::BADARGUMENTS);
  Harness off(TreeConfig{1048576, false, 0, ""});
  EXPECT_EQ(off.create("/t", "", CreateMode::kPersistentWithTtl, open_acl_unsafe(), 10).err,
            Err::UNIMPLEMENTED);
}

// ------------------------------------------------------------------ §1.5 sequential

TEST(DataTreeTest, Ref1_5_SequentialSuffixFromParentCversion) {
  Harness h;
  ASSERT_EQ(h.create("/q").err, Err::OK);
  EXPECT_EQ(h.create("/q/n-", "", CreateMode::kPersistentSequential).path, "/q/n-0000000000");
  EXPECT_EQ(h.create("/q/n-", "", CreateMode::kPersistentSequential).path, "/q/n-0000000001");
  ASSERT_EQ(h.create("/q/plain").err, Err::OK);  // plain creates count too
  ASSERT_EQ(h.remove("/q/plain").err, Err::OK);  // deletes do not
  EXPECT_EQ(h.create("/q/", "", CreateMode::kPersistentSequential).path, "/q/0000000003");
  EXPECT_EQ(h.create("/", "", CreateMode::kPersistentSequential).path, "/0000000001");
}

TEST(DataTreeTest, Ref1_5_SequenceWrapsToNegative) {
  Harness h;
  ASSERT_EQ(h.create("/q").err, Err::OK);
  ASSERT_TRUE(h.tree.debug_set_persisted_cversion("/q", INT32_MAX));
  EXPECT_EQ(h.create("/q/n", "", CreateMode::kPersistentSequential).path, "/q/n2147483647");
  EXPECT_EQ(h.create("/q/n", "", CreateMode::kPersistentSequential).path, "/q/n-2147483648");
  EXPECT_EQ(h.create("/q/n", "", CreateMode::kPersistentSequential).path, "/q/n-2147483647");
  ASSERT_TRUE(h.tree.debug_set_persisted_cversion("/q", -5));
  EXPECT_EQ(h.create("/q/m", "", CreateMode::kPersistentSequential).path, "/q/m-000000005");
  h.tree.check_invariants();
}

TEST(DataTreeTest, Ref1_5_SequentialNameCollisionIsNodeExists) {
  Harness h;
  ASSERT_EQ(h.create("/q").err, Err::OK);
  ASSERT_EQ(h.create("/q/n0000000001").err, Err::OK);  // cversion 1 afterwards
  EXPECT_EQ(h.create("/q/n", "", CreateMode::kPersistentSequential).err, Err::NODEEXISTS);
  // The failed create did not bump the counter.
  EXPECT_EQ(h.create("/q/m", "", CreateMode::kPersistentSequential).path, "/q/m0000000001");
}

// ------------------------------------------------------------------ §1.3 cversion

TEST(DataTreeTest, Ref1_3_CversionCountsCreatesAndDeletes) {
  Harness h;
  ASSERT_EQ(h.create("/p").err, Err::OK);
  for (const char* c : {"/p/a", "/p/b", "/p/c"})
    ASSERT_EQ(h.create(c).err, Err::OK);
  ASSERT_EQ(h.remove("/p/b").err, Err::OK);
  const Stat s = h.stat("/p");
  EXPECT_EQ(s.numChildren, 2);
  EXPECT_EQ(s.cversion, 4);  // persisted 3: 3*2 - 2
  EXPECT_EQ(s.pzxid, 5);     // the delete's zxid
  EXPECT_EQ(s.mzxid, 1);     // child changes do not touch mzxid
  ASSERT_EQ(h.remove("/p/a").err, Err::OK);
  ASSERT_EQ(h.remove("/p/c").err, Err::OK);
  EXPECT_EQ(h.stat("/p").cversion, 6);
}

// ------------------------------------------------------------------ delete

TEST(DataTreeTest, Ref1_4_DeleteVersionAndErrors) {
  Harness h;
  ASSERT_EQ(h.create("/a", "x").err, Err::OK);
  ASSERT_EQ(h.set("/a", "y").err, Err::OK);
  ASSERT_EQ(h.create("/a/b").err, Err::OK);
  EXPECT_EQ(h.remove("/a", 0).err, Err::BADVERSION);
  EXPECT_EQ(h.remove("/a", 1).err, Err::NOTEMPTY);
  EXPECT_EQ(h.remove("/a").err, Err::NOTEMPTY);
  EXPECT_EQ(h.remove("/a/zz").err, Err::NONODE);
  EXPECT_EQ(h.remove("/x/zz").err, Err::NONODE);
  EXPECT_EQ(h.remove("nope").err, Err::BADARGUMENTS);
  EXPECT_EQ(h.remove("").err, Err::BADARGUMENTS);
  EXPECT_EQ(h.remove(std::string("/a\0", 3)).err, Err::BADARGUMENTS);
  EXPECT_EQ(h.remove("/a/b", 0).err, Err::OK);
  EXPECT_EQ(h.remove("/a", 1).err, Err::OK);
  EXPECT_EQ(h.tree.exists("/a", super_auth(), nullptr), Err::NONODE);
  h.tree.check_invariants();
}

TEST(DataTreeTest, Ref1_1_DeleteNeedsDeleteOnParent) {
  Harness h;
  const AclList no_delete = {{perms::kAll & ~perms::kDelete, {"world", "anyone"}}};
  ASSERT_EQ(h.create("/p", "", CreateMode::kPersistent, no_delete).err, Err::OK);
  ASSERT_EQ(h.create("/p/c").err, Err::OK);
  EXPECT_EQ(h.remove("/p/c").err, Err::NOAUTH);
  // The parent check comes first: NOAUTH even for a missing child.
  EXPECT_EQ(h.remove("/p/missing").err, Err::NOAUTH);
  h.header.auth = super_auth();
  EXPECT_EQ(h.remove("/p/c").err, Err::OK);
}

// ------------------------------------------------------------------ setData / check

TEST(DataTreeTest, Ref1_4_SetDataVersions) {
  Harness h;
  ASSERT_EQ(h.create("/a", "1").err, Err::OK);
  h.header.time_ms = 5000;
  TxnResult r = h.set("/a", "22", 0);
  ASSERT_EQ(r.err, Err::OK);
  EXPECT_EQ(r.stat.version, 1);
  EXPECT_EQ(r.stat.mzxid, 2);
  EXPECT_EQ(r.stat.czxid, 1);
  EXPECT_EQ(r.stat.mtime, 5000);
  EXPECT_EQ(r.stat.ctime, 1000);
  EXPECT_EQ(r.stat.dataLength, 2);
  EXPECT_EQ(r.stat.pzxid, 1);
  EXPECT_EQ(h.set("/a", "x", 0).err, Err::BADVERSION);
  EXPECT_EQ(h.set("/a", "x", 7).err, Err::BADVERSION);
  EXPECT_EQ(h.set("/a", "x", -1).stat.version, 2);
  EXPECT_EQ(h.set("/nope", "x").err, Err::NONODE);
  EXPECT_EQ(h.set("/a/", "x").err, Err::BADARGUMENTS);
  EXPECT_EQ(h.set("relative", "x").err, Err::BADARGUMENTS);
  EXPECT_EQ(h.data("/a"), "x");
}

TEST(DataTreeTest, Ref1_1_SetDataNeedsWrite) {
  Harness h;
  ASSERT_EQ(h.create("/r", "", CreateMode::kPersistent, read_acl_unsafe()).err, Err::OK);
  EXPECT_EQ(h.set("/r", "x").err, Err::NOAUTH);
  // Version is checked after the ACL.
  EXPECT_EQ(h.set("/r", "x", 99).err, Err::NOAUTH);
}

TEST(DataTreeTest, Ref1_4_CheckComparesWithoutChanging) {
  Harness h;
  ASSERT_EQ(h.create("/a").err, Err::OK);
  TxnResult r = h.run(CheckOp{"/a", 0});
  EXPECT_EQ(r.err, Err::OK);
  EXPECT_EQ(r.stat, h.stat("/a"));
  EXPECT_EQ(h.run(CheckOp{"/a", 1}).err, Err::BADVERSION);
  EXPECT_EQ(h.run(CheckOp{"/a", -1}).err, Err::OK);
  EXPECT_EQ(h.run(CheckOp{"/b", -1}).err, Err::NONODE);
  EXPECT_EQ(h.run(CheckOp{"b", -1}).err, Err::BADARGUMENTS);
  ASSERT_EQ(h.create("/w", "", CreateMode::kPersistent, {{perms::kWrite, {"world", "anyone"}}}).err,
            Err::OK);
  EXPECT_EQ(h.run(CheckOp{"/w", -1}).err, Err::NOAUTH);
  EXPECT_TRUE(h.triggers.empty());
  EXPECT_EQ(h.stat("/a").version, 0);
}

// ------------------------------------------------------------------ setACL / §1.7

TEST(DataTreeTest, Ref1_4_SetAclChecksAversion) {
  Harness h;
  ASSERT_EQ(h.create("/a", "d").err, Err::OK);
  const Stat before = h.stat("/a");
  TxnResult r = h.set_acl("/a", read_acl_unsafe(), 0);
  ASSERT_EQ(r.err, Err::OK);
  EXPECT_EQ(r.stat.aversion, 1);
  EXPECT_EQ(r.stat.mzxid, before.mzxid);  // setACL changes no zxid
  EXPECT_EQ(r.stat.pzxid, before.pzxid);
  EXPECT_TRUE(h.triggers.empty());  // and fires nothing
  h.header.auth = super_auth();
  EXPECT_EQ(h.set_acl("/a", open_acl_unsafe(), 0).err, Err::BADVERSION);
  EXPECT_EQ(h.set_acl("/a", open_acl_unsafe(), 1).err, Err::OK);
  EXPECT_EQ(h.set_acl("/a", {}, -1).err, Err::INVALIDACL);
  EXPECT_EQ(h.set_acl("/zz", open_acl_unsafe()).err, Err::NONODE);
  EXPECT_EQ(h.set_acl("zz", open_acl_unsafe()).err, Err::BADARGUMENTS);
}

TEST(DataTreeTest, Ref1_1_SetAclNeedsAdmin) {
  Harness h;
  ASSERT_EQ(h.create("/a", "", CreateMode::kPersistent,
                     {{perms::kAll & ~perms::kAdmin, {"world", "anyone"}}})
                .err,
            Err::OK);
  EXPECT_EQ(h.set_acl("/a", open_acl_unsafe()).err, Err::NOAUTH);
  // INVALIDACL is checked before the node and its ACL.
  EXPECT_EQ(h.set_acl("/a", {{1, {"bogus", "x"}}}).err, Err::INVALIDACL);
}

TEST(DataTreeTest, Ref1_7_DigestAndAuthSchemes) {
  Harness h;
  const AuthInfo bob = digest_auth("bob", "pw");
  h.header.auth = ip_auth();
  // auth: with no digest id on the connection is INVALIDACL.
  EXPECT_EQ(h.create("/c", "", CreateMode::kPersistent, creator_all_acl()).err, Err::INVALIDACL);
  h.header.auth = bob;
  ASSERT_EQ(h.create("/c", "secret", CreateMode::kPersistent, creator_all_acl()).err, Err::OK);
  AclList acl;
  ASSERT_EQ(h.tree.get_acl("/c", bob, &acl, nullptr), Err::OK);
  EXPECT_EQ(acl, (AclList{{perms::kAll, {"digest", digest_id("bob", "pw")}}}));
  Bytes data;
  EXPECT_EQ(h.tree.get_data("/c", ip_auth(), &data, nullptr), Err::NOAUTH);
  EXPECT_EQ(h.tree.get_data("/c", digest_auth("bob", "wrong"), &data, nullptr), Err::NOAUTH);
  EXPECT_EQ(h.tree.get_data("/c", bob, &data, nullptr), Err::OK);
  EXPECT_EQ(h.tree.get_data("/c", super_auth(), &data, nullptr), Err::OK);
  h.header.auth = ip_auth();
  EXPECT_EQ(h.set("/c", "x").err, Err::NOAUTH);
  EXPECT_EQ(h.create("/c/kid").err, Err::NOAUTH);
}

TEST(DataTreeTest, Ref1_7_IpScheme) {
  Harness h;
  ASSERT_EQ(h.create("/net", "", CreateMode::kPersistent,
                     {{perms::kRead, {"ip", "10.0.0.0/8"}}, {perms::kAll, {"ip", "::1"}}})
                .err,
            Err::OK);
  EXPECT_EQ(h.tree.exists("/net", ip_auth("10.9.8.7"), nullptr), Err::OK);
  EXPECT_EQ(h.tree.exists("/net", ip_auth("11.0.0.1"), nullptr), Err::NOAUTH);
  h.header.auth = ip_auth("10.9.8.7");
  EXPECT_EQ(h.set("/net", "x").err, Err::NOAUTH);
  h.header.auth = ip_auth("::1");
  EXPECT_EQ(h.set("/net", "x").err, Err::OK);
}

TEST(DataTreeTest, Ref1_7_SuperDigestViaAddAuth) {
  DataTree t(TreeConfig{1048576, true, 0, "super:D/InIHSb7yEEbrWz8b9l71RjZJU="});
  AuthInfo a = ip_auth();
  EXPECT_EQ(t.add_auth(&a, "digest", "super:wrong"), Err::OK);
  EXPECT_FALSE(a.super);
  EXPECT_EQ(t.add_auth(&a, "digest", "super:test"), Err::OK);
  EXPECT_TRUE(a.super);
  EXPECT_EQ(t.add_auth(&a, "weird", "x"), Err::AUTHFAILED);
}

// ------------------------------------------------------------------ reads

TEST(DataTreeTest, Ref1_1_ExistsRules) {
  Harness h;
  ASSERT_EQ(
      h.create("/secret", "", CreateMode::kPersistent, {{perms::kWrite, {"world", "anyone"}}}).err,
      Err::OK);
  Stat st;
  EXPECT_EQ(h.tree.exists("/secret", ip_auth(), &st), Err::NOAUTH);  // 3.9.2+
  EXPECT_EQ(h.tree.exists("/missing", ip_auth(), &st), Err::NONODE);
  EXPECT_EQ(h.tree.exists(std::string("/a\0", 3), ip_auth(), &st), Err::BADARGUMENTS);
  EXPECT_EQ(h.tree.exists("/secret", ip_auth(), nullptr), Err::NOAUTH);
}

TEST(DataTreeTest, Ref1_1_GetDataAndChildrenNeedRead) {
  Harness h;
  ASSERT_EQ(
      h.create("/p", "data", CreateMode::kPersistent, {{perms::kCreate, {"world", "anyone"}}}).err,
      Err::OK);
  ASSERT_EQ(h.create("/p/b").err, Err::OK);
  ASSERT_EQ(h.create("/p/a").err, Err::OK);
  Bytes data = bytes("stale");
  std::vector<std::string> kids;
  EXPECT_EQ(h.tree.get_data("/p", ip_auth(), &data, nullptr), Err::NOAUTH);
  EXPECT_EQ(testing::str(data), "stale");  // outputs untouched on error
  EXPECT_EQ(h.tree.get_children("/p", ip_auth(), &kids), Err::NOAUTH);
  std::int32_t n = 0;
  EXPECT_EQ(h.tree.get_all_children_number("/p", ip_auth(), &n), Err::NOAUTH);
  EXPECT_EQ(h.tree.get_data("/zz", ip_auth(), &data, nullptr), Err::NONODE);
  EXPECT_EQ(h.tree.get_children("/zz", ip_auth(), &kids), Err::NONODE);
  Stat st;
  ASSERT_EQ(h.tree.get_children("/p", super_auth(), &kids, &st), Err::OK);
  EXPECT_EQ(kids, (std::vector<std::string>{"a", "b"}));  // sorted
  EXPECT_EQ(st.numChildren, 2);
}

TEST(DataTreeTest, Ref1_1_WideNodeChildrenSortedAndCacheFollowsChanges) {
  // 40: sorted in place; 150: prefix radix sort; 1500: radix sort and the answer cache.
  for (const int width : {40, 150, 1500}) {
    SCOPED_TRACE(width);
    Harness h;
    ASSERT_EQ(h.create("/w").err, Err::OK);
    std::vector<std::string> want;
    std::uint64_t x = 12345;
    const auto add = [&](const std::string& name) {
      if (h.create("/w/" + name).err == Err::OK) want.push_back(name);
    };
    for (int i = 0; i < width; ++i) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      const unsigned r = static_cast<unsigned>(x >> 33);
      switch (r % 5) {
        case 0:  // long common prefixes
          add("lock-" + std::to_string(r % 100000));
          break;
        case 1:  // bytes above 0x7F must sort after ASCII (unsigned byte order)
          add(std::string("\xC3\xA9") + std::to_string(r % 1000));
          break;
        case 2:  // short names and prefixes of each other
          add(std::string(1 + r % 9, static_cast<char>('a' + r % 3)));
          break;
        default:
          add(std::to_string(r));
      }
    }
    const auto check = [&] {
      std::vector<std::string> sorted = want;
      std::sort(sorted.begin(), sorted.end());
      ASSERT_EQ(h.children("/w"), sorted);
      ASSERT_EQ(h.children("/w"), sorted);  // from the cache, if any
      h.tree.check_invariants();
    };
    check();
    for (std::size_t i = 0; i < want.size() / 8; ++i) {
      ASSERT_EQ(h.remove("/w/" + want.back()).err, Err::OK);
      want.pop_back();
    }
    check();
    add("0");
    add("zzzz");
    check();
  }
}

TEST(DataTreeTest, Ref1_1_GetAclNeedsReadOrAdminAndMasksWithoutAdmin) {
  Harness h;
  const std::string bob = digest_id("bob", "pw");
  const AclList acl = {{perms::kRead, {"world", "anyone"}}, {perms::kAll, {"digest", bob}}};
  ASSERT_EQ(h.create("/a", "", CreateMode::kPersistent, acl).err, Err::OK);
  AclList got;
  Stat st;
  ASSERT_EQ(h.tree.get_acl("/a", ip_auth(), &got, &st), Err::OK);
  EXPECT_EQ(got[1].id.id, "bob:x");
  EXPECT_EQ(st, h.stat("/a"));
  ASSERT_EQ(h.tree.get_acl("/a", digest_auth("bob", "pw"), &got, nullptr), Err::OK);
  EXPECT_EQ(got, acl);
  ASSERT_EQ(h.create("/b", "", CreateMode::kPersistent, {{perms::kWrite, {"world", "anyone"}}}).err,
            Err::OK);
  EXPECT_EQ(h.tree.get_acl("/b", ip_auth(), &got, nullptr), Err::NOAUTH);
  EXPECT_EQ(h.tree.get_acl("/zz", ip_auth(), &got, nullptr), Err::NONODE);
  ASSERT_EQ(
      h.create("/adm", "", CreateMode::kPersistent, {{perms::kAdmin, {"world", "anyone"}}}).err,
      Err::OK);
  EXPECT_EQ(h.tree.get_acl("/adm", ip_auth(), &got, nullptr), Err::OK);
}

TEST(DataTreeTest, Ref1_1_GetAllChildrenNumberCountsDescendants) {
  Harness h;
  for (const char* p : {"/a", "/a/b", "/a/b/c", "/a/d", "/e"})
    ASSERT_EQ(h.create(p).err, Err::OK);
  std::int32_t n = -1;
  ASSERT_EQ(h.tree.get_all_children_number("/a", ip_auth(), &n), Err::OK);
  EXPECT_EQ(n, 3);
  ASSERT_EQ(h.tree.get_all_children_number("/a/b/c", ip_auth(), &n), Err::OK);
  EXPECT_EQ(n, 0);
  ASSERT_EQ(h.tree.get_all_children_number("/", ip_auth(), &n), Err::OK);
  EXPECT_EQ(n, 8);  // includes /zookeeper and its two children
  EXPECT_EQ(h.tree.get_all_children_number("/q", ip_auth(), &n), Err::NONODE);
}

TEST(DataTreeTest, Ref1_1_GetEphemeralsByPrefix) {
  Harness h;
  h.header.session_id = 7;
  ASSERT_EQ(h.open_session(7).err, Err::OK);
  ASSERT_EQ(h.open_session(8).err, Err::OK);
  ASSERT_EQ(h.create("/app").err, Err::OK);
  ASSERT_EQ(h.create("/app/e2", "", CreateMode::kEphemeral).err, Err::OK);
  ASSERT_EQ(h.create("/app/e1", "", CreateMode::kEphemeral).err, Err::OK);
  ASSERT_EQ(h.create("/other", "", CreateMode::kEphemeral).err, Err::OK);
  h.header.session_id = 8;
  ASSERT_EQ(h.create("/app/e3", "", CreateMode::kEphemeral).err, Err::OK);
  const std::vector<std::string> all = {"/app/e1", "/app/e2", "/other"};
  EXPECT_EQ(h.tree.get_ephemerals(7, ""), all);
  EXPECT_EQ(h.tree.get_ephemerals(7, "/"), all);
  EXPECT_EQ(h.tree.get_ephemerals(7, "  "), all);
  EXPECT_EQ(h.tree.get_ephemerals(7, "/app"), (std::vector<std::string>{"/app/e1", "/app/e2"}));
  EXPECT_EQ(h.tree.get_ephemerals(7, "/app/e1"), (std::vector<std::string>{"/app/e1"}));
  EXPECT_EQ(h.tree.get_ephemerals(7, "/ot"), (std::vector<std::string>{"/other"}));
  EXPECT_TRUE(h.tree.get_ephemerals(99, "").empty());
}

TEST(DataTreeTest, Ref1_13_MultiReadAnswersEachOp) {
  Harness h;
  ASSERT_EQ(h.create("/a", "x").err, Err::OK);
  ASSERT_EQ(h.create("/a/k").err, Err::OK);
  ASSERT_EQ(h.create("/s", "", CreateMode::kPersistent, {{perms::kWrite, {"world", "anyone"}}}).err,
            Err::OK);
  const auto r = h.tree.multi_read({{ReadOp::Kind::kGetData, "/a"},
                                    {ReadOp::Kind::kGetChildren, "/a"},
                                    {ReadOp::Kind::kGetData, "/missing"},
                                    {ReadOp::Kind::kGetChildren, "/s"}},
                                   ip_auth());
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].err, Err::OK);
  EXPECT_EQ(testing::str(r[0].data), "x");
  EXPECT_EQ(r[0].stat, h.stat("/a"));
  EXPECT_EQ(r[1].children, (std::vector<std::string>{"k"}));
  EXPECT_EQ(r[2].err, Err::NONODE);
  EXPECT_EQ(r[3].err, Err::NOAUTH);
}

// ------------------------------------------------------------------ §1.11 triggers

TEST(DataTreeTest, Ref1_11_TriggersForEachChange) {
  Harness h;
  ASSERT_EQ(h.create("/a").err, Err::OK);
  ASSERT_EQ(h.triggers.size(), 2u);
  EXPECT_EQ(h.triggers[0].type, EventType::kNodeCreated);
  EXPECT_EQ(h.triggers[0].path, "/a");
  EXPECT_EQ(h.triggers[0].zxid, 1u);
  EXPECT_EQ(h.triggers[1].type, EventType::kNodeChildrenChanged);
  EXPECT_EQ(h.triggers[1].path, "/");
  ASSERT_TRUE(h.triggers[0].acl);
  EXPECT_EQ(*h.triggers[0].acl, open_acl_unsafe());
  ASSERT_EQ(h.set("/a", "x").err, Err::OK);
  ASSERT_EQ(h.triggers.size(), 1u);
  EXPECT_EQ(h.triggers[0].type, EventType::kNodeDataChanged);
  ASSERT_EQ(h.remove("/a").err, Err::OK);
  ASSERT_EQ(h.triggers.size(), 2u);
  EXPECT_EQ(h.triggers[0].type, EventType::kNodeDeleted);
  EXPECT_EQ(h.triggers[1].type, EventType::kNodeChildrenChanged);
  EXPECT_EQ(h.triggers[1].path, "/");
  EXPECT_EQ(h.triggers[1].zxid, 3u);
}

// ------------------------------------------------------------------ digest

TEST(DataTreeTest, DigestTracksStateNotHistory) {
  Harness a, b;
  const std::uint64_t empty = a.tree.digest();
  ASSERT_EQ(a.create("/x", "1").err, Err::OK);
  EXPECT_NE(a.tree.digest(), empty);
  ASSERT_EQ(b.create("/x", "1").err, Err::OK);
  EXPECT_EQ(a.tree.digest(), b.tree.digest());
  ASSERT_EQ(a.set("/x", "2").err, Err::OK);
  EXPECT_NE(a.tree.digest(), b.tree.digest());
  ASSERT_EQ(b.set("/x", "2").err, Err::OK);
  EXPECT_EQ(a.tree.digest(), b.tree.digest());
  ASSERT_EQ(a.remove("/x").err, Err::OK);
  ASSERT_EQ(b.run(NoOp{}).err, Err::OK);
  ASSERT_EQ(b.remove("/x").err, Err::OK);
  // pzxid of "/" differs (3 vs 4): the digest sees it.
  EXPECT_NE(a.tree.digest(), b.tree.digest());
  a.tree.check_invariants();
  b.tree.check_invariants();
}

TEST(DataTreeTest, DigestCoversAclAndSessions) {
  Harness a, b;
  ASSERT_EQ(a.create("/x", "", CreateMode::kPersistent, read_acl_unsafe()).err, Err::OK);
  ASSERT_EQ(b.create("/x", "", CreateMode::kPersistent, open_acl_unsafe()).err, Err::OK);
  EXPECT_NE(a.tree.digest(), b.tree.digest());
  Harness c, d;
  ASSERT_EQ(c.open_session(1, 1000).err, Err::OK);
  ASSERT_EQ(d.open_session(1, 2000).err, Err::OK);
  EXPECT_NE(c.tree.digest(), d.tree.digest());
}

TEST(DataTreeTest, StatCopiesAreConsistentAcrossReads) {
  Harness h;
  ASSERT_EQ(h.create("/a", "abc").err, Err::OK);
  Stat s1, s2, s3;
  Bytes d;
  ASSERT_EQ(h.tree.exists("/a", ip_auth(), &s1), Err::OK);
  ASSERT_EQ(h.tree.get_data("/a", ip_auth(), &d, &s2), Err::OK);
  ASSERT_EQ(h.tree.get_acl("/a", ip_auth(), nullptr, &s3), Err::OK);
  EXPECT_EQ(s1, s2);
  EXPECT_EQ(s1, s3);
  EXPECT_EQ(h.tree.approximate_data_size(), std::string("/").size() +
                                                std::string("/zookeeper").size() +
                                                std::string("/zookeeper/quota").size() +
                                                std::string("/zookeeper/config").size() + 2 + 3);
}

}  // namespace quorumlab::sm
