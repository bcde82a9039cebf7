// §1.13 multi: all-or-nothing, one zxid, later ops see earlier ones, 0/err/-2 on failure.
#include <gtest/gtest.h>

#include "quorumlab/sm/data_tree.hpp"
#include "test_util.hpp"

namespace quorumlab::sm {

using testing::bytes;
using testing::Harness;
using testing::super_auth;

namespace {

CreateOp create(std::string path, CreateMode mode = CreateMode::kPersistent) {
  return CreateOp{std::move(path), {}, open_acl_unsafe(), static_cast<std::int32_t>(mode), -1};
}

}  // namespace

TEST(MultiTest, Ref1_13_AllOpsShareOneZxid) {
  Harness h;
  ASSERT_EQ(h.create("/a", "0").err, Err::OK);
  const TxnResult r = h.run(
      MultiOp{{create("/b"), SetDataOp{"/a", bytes("1"), 0}, CheckOp{"/a", 1}, DeleteOp{"/b", 0}}});
  ASSERT_EQ(r.err, Err::OK);
  EXPECT_EQ(r.type, OpType::kMulti);
  ASSERT_EQ(r.multi.size(), 4u);
  EXPECT_EQ(r.multi[0].type, OpType::kCreate);
  EXPECT_EQ(r.multi[0].path, "/b");
  EXPECT_EQ(r.multi[0].stat.czxid, 2);
  EXPECT_EQ(r.multi[1].type, OpType::kSetData);
  EXPECT_EQ(r.multi[1].stat.mzxid, 2);
  EXPECT_EQ(r.multi[1].stat.version, 1);
  EXPECT_EQ(r.multi[2].type, OpType::kCheck);  // sees the setData before it
  EXPECT_EQ(r.multi[2].err, Err::OK);
  EXPECT_EQ(r.multi[3].type, OpType::kDelete);
  EXPECT_EQ(h.tree.exists("/b", super_auth(), nullptr), Err::NONODE);
  EXPECT_EQ(h.stat("/").pzxid, 2);
  EXPECT_EQ(h.tree.last_applied_zxid(), 2u);
  h.tree.check_invariants();
}

TEST(MultiTest, Ref1_13_FailureReportsOkErrThenRuntimeInconsistency) {
  Harness h;
  ASSERT_EQ(h.create("/a", "0").err, Err::OK);
  const std::uint64_t digest = h.tree.digest();
  const Stat root = h.stat("/");
  const TxnResult r = h.run(
      MultiOp{{create("/b"), SetDataOp{"/a", bytes("1"), 0}, CheckOp{"/a", 0}, DeleteOp{"/b", 0}}});
  EXPECT_EQ(r.err, Err::BADVERSION);  // the check sees version 1
  ASSERT_EQ(r.multi.size(), 4u);
  EXPECT_EQ(r.multi[0].err, Err::OK);
  EXPECT_EQ(r.multi[0].path, "");  // no bodies in a failed multi
  EXPECT_EQ(r.multi[1].err, Err::OK);
  EXPECT_EQ(r.multi[2].err, Err::BADVERSION);
  EXPECT_EQ(r.multi[3].err, Err::RUNTIMEINCONSISTENCY);
  EXPECT_EQ(r.multi[3].type, OpType::kDelete);
  // Nothing changed, nothing fired, but the zxid was consumed.
  EXPECT_EQ(h.tree.digest(), digest);
  EXPECT_EQ(h.stat("/"), root);
  EXPECT_EQ(h.data("/a"), "0");
  EXPECT_EQ(h.tree.exists("/b", super_auth(), nullptr), Err::NONODE);
  EXPECT_TRUE(h.triggers.empty());
  EXPECT_EQ(h.tree.last_applied_zxid(), 2u);
  h.tree.check_invariants();
}

TEST(MultiTest, Ref1_5_ConsecutiveSequenceNumbersWithinMulti) {
  Harness h;
  ASSERT_EQ(h.create("/q").err, Err::OK);
  const TxnResult r = h.run(MultiOp{{create("/q/n-", CreateMode::kPersistentSequential),
                                     create("/q/n-", CreateMode::kPersistentSequential),
                                     create("/q/n-", CreateMode::kPersistentSequential)}});
  ASSERT_EQ(r.err, Err::OK);
  EXPECT_EQ(r.multi[0].path, "/q/n-0000000000");
  EXPECT_EQ(r.multi[1].path, "/q/n-0000000001");
  EXPECT_EQ(r.multi[2].path, "/q/n-0000000002");
}

TEST(MultiTest, Ref1_13_RollbackRestoresSequenceCounterAndDeletedNodes) {
  Harness h;
  h.header.session_id = 5;
  ASSERT_EQ(h.open_session(5).err, Err::OK);
  ASSERT_EQ(h.create("/q").err, Err::OK);
  ASSERT_EQ(h.create("/q/e", "data", CreateMode::kEphemeral).err, Err::OK);
  ASSERT_EQ(h.create("/q/keep", "k").err, Err::OK);
  const std::uint64_t digest = h.tree.digest();
  const Stat q = h.stat("/q");
  const TxnResult r =
      h.run(MultiOp{{DeleteOp{"/q/e", -1}, DeleteOp{"/q/keep", -1}, SetDataOp{"/q", bytes("z"), -1},
                     create("/q/s", CreateMode::kPersistentSequential), create("/q/x/y")}});
  EXPECT_EQ(r.err, Err::NONODE);
  EXPECT_EQ(h.tree.digest(), digest);
  EXPECT_EQ(h.stat("/q"), q);
  EXPECT_EQ(h.data("/q/e"), "data");
  EXPECT_EQ(h.tree.get_ephemerals(5, ""), (std::vector<std::string>{"/q/e"}));
  EXPECT_EQ(h.tree.ephemeral_count(), 1u);
  h.tree.check_invariants();
  // The counter was rolled back too.
  EXPECT_EQ(h.create("/q/s", "", CreateMode::kPersistentSequential).path, "/q/s0000000002");
}

TEST(MultiTest, Ref1_13_LaterOpsSeeEarlierCreatesAndDeletes) {
  Harness h;
  TxnResult r = h.run(MultiOp{
      {create("/a"), create("/a/b"), DeleteOp{"/a/b", 0}, DeleteOp{"/a", -1}, create("/a")}});
  ASSERT_EQ(r.err, Err::OK);
  EXPECT_EQ(h.stat("/a").czxid, 1);
  EXPECT_EQ(h.stat("/a").cversion, 0);
  // Delete of a node created earlier in the same failed multi: NOTEMPTY at op 2.
  r = h.run(MultiOp{{create("/c"), create("/c/d"), DeleteOp{"/c", -1}}});
  EXPECT_EQ(r.err, Err::NOTEMPTY);
  EXPECT_EQ(r.multi[2].err, Err::NOTEMPTY);
  EXPECT_EQ(h.tree.exists("/c", super_auth(), nullptr), Err::NONODE);
  // Ephemeral parent created in the same multi.
  h.header.session_id = 9;
  ASSERT_EQ(h.open_session(9).err, Err::OK);
  r = h.run(MultiOp{{create("/e", CreateMode::kEphemeral), create("/e/x")}});
  EXPECT_EQ(r.err, Err::NOCHILDRENFOREPHEMERALS);
  h.tree.check_invariants();
}

TEST(MultiTest, Ref1_11_TriggersOfAnAppliedMultiInOrder) {
  Harness h;
  ASSERT_EQ(h.create("/a").err, Err::OK);
  ASSERT_EQ(h.run(MultiOp{{create("/a/b"), SetDataOp{"/a", bytes("x"), -1}}}).err, Err::OK);
  ASSERT_EQ(h.triggers.size(), 3u);
  EXPECT_EQ(h.triggers[0].type, EventType::kNodeCreated);
  EXPECT_EQ(h.triggers[0].path, "/a/b");
  EXPECT_EQ(h.triggers[1].type, EventType::kNodeChildrenChanged);
  EXPECT_EQ(h.triggers[1].path, "/a");
  EXPECT_EQ(h.triggers[2].type, EventType::kNodeDataChanged);
  for (const auto& t : h.triggers)
    EXPECT_EQ(t.zxid, 2u);
}

TEST(MultiTest, Ref1_13_EmptyMultiIsOk) {
  Harness h;
  const TxnResult r = h.run(MultiOp{});
  EXPECT_EQ(r.err, Err::OK);
  EXPECT_TRUE(r.multi.empty());
}

TEST(MultiTest, Ref1_13_FirstOpFailing) {
  Harness h;
  const TxnResult r = h.run(MultiOp{{DeleteOp{"/nope", -1}, create("/x"), create("/y")}});
  EXPECT_EQ(r.err, Err::NONODE);
  EXPECT_EQ(r.multi[0].err, Err::NONODE);
  EXPECT_EQ(r.multi[1].err, Err::RUNTIMEINCONSISTENCY);
  EXPECT_EQ(r.multi[2].err, Err::RUNTIMEINCONSISTENCY);
  EXPECT_EQ(h.tree.exists("/x", super_auth(), nullptr), Err::NONODE);
}

TEST(MultiTest, Ref1_13_AclReleasedOnRollbackAndSharedAclsSurvive) {
  Harness h;
  const AclList custom = {{perms::kAll, {"ip", "10.0.0.0/8"}}};
  ASSERT_EQ(h.create("/keep", "", CreateMode::kPersistent, custom).err, Err::OK);
  const AclList other = {{perms::kRead, {"ip", "11.0.0.0/8"}}};
  const TxnResult r = h.run(MultiOp{
      {DeleteOp{"/keep", -1}, CreateOp{"/n", {}, other, 0, -1}, CreateOp{"/n", {}, other, 0, -1}}});
  EXPECT_EQ(r.err, Err::NODEEXISTS);
  h.tree.check_invariants();
  AclList acl;
  ASSERT_EQ(h.tree.get_acl("/keep", super_auth(), &acl, nullptr), Err::OK);
  EXPECT_EQ(acl, custom);
}

}  // namespace quorumlab::sm
