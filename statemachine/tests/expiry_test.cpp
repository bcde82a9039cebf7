// §1.2 container and TTL cleanup: expired_nodes() for the leader and deleteExpired at apply.
#include <gtest/gtest.h>

#include "quorumlab/sm/data_tree.hpp"
#include "test_util.hpp"

namespace quorumlab::sm {

using testing::Harness;
using testing::super_auth;

namespace {
TxnResult delete_expired(Harness& h, std::string path, std::int64_t now) {
  h.header.time_ms = now;
  return h.run(DeleteExpiredOp{std::move(path)});
}
}  // namespace

TEST(ExpiryTest, Ref1_2_ContainerExpiresOnlyAfterHavingChildren) {
  Harness h;
  ASSERT_EQ(h.create("/c", "", CreateMode::kContainer).err, Err::OK);
  EXPECT_TRUE(h.tree.expired_nodes(1'000'000).empty());  // never had a child
  EXPECT_EQ(delete_expired(h, "/c", 1'000'000).err, Err::BADVERSION);
  ASSERT_EQ(h.create("/c/x").err, Err::OK);
  EXPECT_TRUE(h.tree.expired_nodes(1'000'000).empty());  // has a child
  EXPECT_EQ(delete_expired(h, "/c", 1'000'000).err, Err::NOTEMPTY);
  ASSERT_EQ(h.remove("/c/x").err, Err::OK);
  EXPECT_EQ(h.tree.expired_nodes(0), (std::vector<std::string>{"/c"}));
  const TxnResult r = delete_expired(h, "/c", 0);
  EXPECT_EQ(r.err, Err::OK);
  EXPECT_EQ(r.type, OpType::kDeleteExpired);
  ASSERT_EQ(h.triggers.size(), 2u);
  EXPECT_EQ(h.triggers[0].type, EventType::kNodeDeleted);
  EXPECT_EQ(h.tree.exists("/c", super_auth(), nullptr), Err::NONODE);
  // A stale second request is harmless.
  EXPECT_EQ(delete_expired(h, "/c", 0).err, Err::NONODE);
  h.tree.check_invariants();
}

TEST(ExpiryTest, Ref1_2_NeverUsedContainerWithMaxInterval) {
  Harness h(TreeConfig{1048576, true, 500, ""});
  h.header.time_ms = 1000;
  ASSERT_EQ(h.create("/c", "", CreateMode::kContainer).err, Err::OK);
  EXPECT_TRUE(h.tree.expired_nodes(1500).empty());  // elapsed 500 is not > 500
  EXPECT_EQ(h.tree.expired_nodes(1501), (std::vector<std::string>{"/c"}));
  EXPECT_EQ(delete_expired(h, "/c", 1500).err, Err::BADVERSION);
  EXPECT_EQ(delete_expired(h, "/c", 1501).err, Err::OK);
}

TEST(ExpiryTest, Ref1_2_TtlNodeExpiresAfterMtimePlusTtl) {
  Harness h;
  h.header.time_ms = 10'000;
  ASSERT_EQ(h.create("/t", "", CreateMode::kPersistentWithTtl, open_acl_unsafe(), 100).err,
            Err::OK);
  EXPECT_TRUE(h.tree.expired_nodes(10'100).empty());  // mtime + ttl == now: not yet
  EXPECT_EQ(h.tree.expired_nodes(10'101), (std::vector<std::string>{"/t"}));
  // setData refreshes mtime; a deleteExpired proposed before it becomes stale.
  h.header.time_ms = 10'050;
  ASSERT_EQ(h.set("/t", "x").err, Err::OK);
  EXPECT_EQ(delete_expired(h, "/t", 10'101).err, Err::BADVERSION);
  EXPECT_EQ(h.tree.expired_nodes(10'151), (std::vector<std::string>{"/t"}));
  // Children keep it alive.
  ASSERT_EQ(h.create("/t/kid").err, Err::OK);
  EXPECT_TRUE(h.tree.expired_nodes(1'000'000).empty());
  ASSERT_EQ(h.remove("/t/kid").err, Err::OK);
  EXPECT_EQ(delete_expired(h, "/t", 10'151).err, Err::OK);
  h.tree.check_invariants();
}

TEST(ExpiryTest, Ref1_2_DeleteExpiredRefusesOtherNodes) {
  Harness h;
  h.header.session_id = 3;
  ASSERT_EQ(h.open_session(3).err, Err::OK);
  ASSERT_EQ(h.create("/p").err, Err::OK);
  ASSERT_EQ(h.create("/e", "", CreateMode::kEphemeral).err, Err::OK);
  EXPECT_EQ(delete_expired(h, "/p", INT64_MAX).err, Err::BADVERSION);
  EXPECT_EQ(delete_expired(h, "/e", INT64_MAX).err, Err::BADVERSION);
  EXPECT_EQ(delete_expired(h, "/zookeeper", INT64_MAX).err, Err::BADARGUMENTS);
  EXPECT_EQ(delete_expired(h, "nope", 0).err, Err::BADARGUMENTS);
  EXPECT_EQ(delete_expired(h, "/missing", 0).err, Err::NONODE);
}

TEST(ExpiryTest, ExpiredNodesSortedAndLimited) {
  Harness h;
  h.header.time_ms = 0;
  for (const char* p : {"/t3", "/t1", "/t2"}) {
    ASSERT_EQ(h.create(p, "", CreateMode::kPersistentWithTtl, open_acl_unsafe(), 1).err, Err::OK);
  }
  EXPECT_EQ(h.tree.expired_nodes(10), (std::vector<std::string>{"/t1", "/t2", "/t3"}));
  EXPECT_EQ(h.tree.expired_nodes(10, 2), (std::vector<std::string>{"/t1", "/t2"}));
  // Extreme clocks do not overflow.
  EXPECT_EQ(h.tree.expired_nodes(INT64_MIN).size(), 0u);
  EXPECT_EQ(h.tree.expired_nodes(INT64_MAX).size(), 3u);
}

}  // namespace quorumlab::sm
