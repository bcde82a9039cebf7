// §1.12 sessions as state: createSession / closeSession txns, ephemerals.
#include <gtest/gtest.h>

#include "quorumlab/sm/data_tree.hpp"
#include "test_util.hpp"

namespace quorumlab::sm {

using testing::Harness;
using testing::super_auth;

TEST(SessionTest, Ref1_12_CreateSessionEntersTable) {
  Harness h;
  EXPECT_FALSE(h.tree.has_session(42));
  EXPECT_EQ(h.open_session(42, 6000).err, Err::OK);
  EXPECT_TRUE(h.tree.has_session(42));
  EXPECT_EQ(h.open_session(7, 4000).err, Err::OK);
  const auto s = h.tree.sessions();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].session_id, 7);  // ascending
  EXPECT_EQ(s[0].timeout_ms, 4000);
  EXPECT_EQ(s[1].session_id, 42);
  EXPECT_TRUE(h.triggers.empty());
}

TEST(SessionTest, Ref1_12_DuplicateCreateSessionKeepsEphemeralsTakesTimeout) {
  Harness h;
  h.header.session_id = 42;
  ASSERT_EQ(h.open_session(42, 6000).err, Err::OK);
  ASSERT_EQ(h.create("/e", "", CreateMode::kEphemeral).err, Err::OK);
  EXPECT_EQ(h.open_session(42, 9000).err, Err::OK);
  const auto s = h.tree.sessions();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].timeout_ms, 9000);
  EXPECT_EQ(s[0].ephemeral_count, 1u);
  h.tree.check_invariants();
}

TEST(SessionTest, SessionIdZeroIsRejected) {
  Harness h;
  EXPECT_EQ(h.open_session(0).err, Err::BADARGUMENTS);
  EXPECT_TRUE(h.tree.sessions().empty());
}

TEST(SessionTest, Ref1_12_CloseSessionDeletesEphemeralsInPathOrder) {
  Harness h;
  h.header.session_id = 42;
  ASSERT_EQ(h.open_session(42).err, Err::OK);
  ASSERT_EQ(h.open_session(43).err, Err::OK);
  ASSERT_EQ(h.create("/app").err, Err::OK);
  ASSERT_EQ(h.create("/app/z", "", CreateMode::kEphemeral).err, Err::OK);
  ASSERT_EQ(h.create("/app/a", "", CreateMode::kEphemeralSequential).err, Err::OK);
  ASSERT_EQ(h.create("/top", "", CreateMode::kEphemeral).err, Err::OK);
  h.header.session_id = 43;
  ASSERT_EQ(h.create("/other", "", CreateMode::kEphemeral).err, Err::OK);
  const TxnResult r = h.close_session(42);
  EXPECT_EQ(r.err, Err::OK);
  EXPECT_EQ(r.type, OpType::kCloseSession);
  EXPECT_FALSE(h.tree.has_session(42));
  EXPECT_EQ(h.children("/app"), std::vector<std::string>{});
  EXPECT_EQ(h.tree.exists("/top", super_auth(), nullptr), Err::NONODE);
  EXPECT_EQ(h.tree.exists("/other", super_auth(), nullptr), Err::OK);
  EXPECT_EQ(h.tree.ephemeral_count(), 1u);
  // Triggers: per ephemeral, NodeDeleted then NodeChildrenChanged, in path order.
  std::vector<std::string> got;
  for (const auto& t : h.triggers) {
    got.push_back(std::string(event_type_name(t.type)) + " " + t.path);
    EXPECT_EQ(t.zxid, h.zxid);
  }
  EXPECT_EQ(got,
            (std::vector<std::string>{"NodeDeleted /app/a0000000001", "NodeChildrenChanged /app",
                                      "NodeDeleted /app/z", "NodeChildrenChanged /app",
                                      "NodeDeleted /top", "NodeChildrenChanged /"}));
  const Stat app = h.stat("/app");
  EXPECT_EQ(app.pzxid, static_cast<std::int64_t>(h.zxid));
  EXPECT_EQ(app.cversion, 4);
  h.tree.check_invariants();
}

TEST(SessionTest, Ref1_12_CloseUnknownSessionIsHarmless) {
  Harness h;
  const std::uint64_t d = h.tree.digest();
  EXPECT_EQ(h.close_session(99).err, Err::OK);
  EXPECT_EQ(h.tree.digest(), d);
  ASSERT_EQ(h.open_session(5).err, Err::OK);
  ASSERT_EQ(h.close_session(5).err, Err::OK);
  EXPECT_EQ(h.close_session(5).err, Err::OK);  // twice
  EXPECT_EQ(h.tree.digest(), d);
}

TEST(SessionTest, Ref1_12_EphemeralAfterCloseIsSessionExpired) {
  Harness h;
  h.header.session_id = 5;
  ASSERT_EQ(h.open_session(5).err, Err::OK);
  ASSERT_EQ(h.close_session(5).err, Err::OK);
  EXPECT_EQ(h.create("/e", "", CreateMode::kEphemeral).err, Err::SESSIONEXPIRED);
  EXPECT_EQ(h.create("/e", "", CreateMode::kEphemeralSequential).err, Err::SESSIONEXPIRED);
}

TEST(SessionTest, Ref1_12_DeletingAnEphemeralUpdatesTheSession) {
  Harness h;
  h.header.session_id = 5;
  ASSERT_EQ(h.open_session(5).err, Err::OK);
  ASSERT_EQ(h.create("/e", "", CreateMode::kEphemeral).err, Err::OK);
  ASSERT_EQ(h.remove("/e").err, Err::OK);
  EXPECT_EQ(h.tree.sessions()[0].ephemeral_count, 0u);
  EXPECT_TRUE(h.tree.get_ephemerals(5, "").empty());
  // Another session may delete it too (ACLs permitting); ownership is only for cleanup.
  ASSERT_EQ(h.create("/e", "", CreateMode::kEphemeral).err, Err::OK);
  h.header.session_id = 6;
  EXPECT_EQ(h.remove("/e").err, Err::OK);
  h.tree.check_invariants();
}

}  // namespace quorumlab::sm
