// §1.11 watches: arming, firing, event types, persistent and recursive watches,
// check/removeWatches, setWatches, ACL filtering (§1.7).
#include <gtest/gtest.h>

#include "quorumlab/sm/watch_registry.hpp"
#include "test_util.hpp"

namespace quorumlab::sm {

using testing::Harness;
using testing::ip_auth;

namespace {

struct WatchFixture : ::testing::Test {
  Harness h;
  WatchRegistry w;

  std::vector<Notification> apply(TxnResult r) {
    EXPECT_EQ(r.err, Err::OK) << err_name(r.err);
    return w.fire(h.triggers);
  }
  static Notification n(ConnId c, EventType t, std::string p, std::int64_t z) {
    return Notification{c, t, std::move(p), z};
  }
};

}  // namespace

TEST_F(WatchFixture, Ref1_11_CreateFiresExistWatchAndParentChildWatch) {
  ASSERT_EQ(h.create("/p").err, Err::OK);
  w.add_data_watch(1, "/p/a");  // exists on a missing node
  w.add_child_watch(2, "/p");
  w.add_data_watch(3, "/p");  // data watch on the parent: not fired by a child create
  const auto got = apply(h.create("/p/a"));
  EXPECT_EQ(got, (std::vector<Notification>{n(1, EventType::kNodeCreated, "/p/a", 2),
                                            n(2, EventType::kNodeChildrenChanged, "/p", 2)}));
  // One-shot: a second change fires nothing.
  EXPECT_TRUE(apply(h.create("/p/b")).empty());
  EXPECT_EQ(w.check_watches(3, "/p", WatcherType::kData), Err::OK);
}

TEST_F(WatchFixture, Ref1_11_SetDataFiresDataWatch) {
  ASSERT_EQ(h.create("/a").err, Err::OK);
  w.add_data_watch(1, "/a");
  w.add_child_watch(2, "/a");
  const auto got = apply(h.set("/a", "x"));
  EXPECT_EQ(got, (std::vector<Notification>{n(1, EventType::kNodeDataChanged, "/a", 2)}));
  EXPECT_EQ(w.check_watches(2, "/a", WatcherType::kChildren), Err::OK);
  EXPECT_TRUE(apply(h.set_acl("/a", open_acl_unsafe())).empty());  // setACL fires nothing
}

TEST_F(WatchFixture, Ref1_11_DeleteFiresDataAndChildWatchersOncePerConnection) {
  ASSERT_EQ(h.create("/p").err, Err::OK);
  ASSERT_EQ(h.create("/p/a").err, Err::OK);
  w.add_data_watch(1, "/p/a");
  w.add_child_watch(1, "/p/a");  // same connection in both tables: one event
  w.add_child_watch(2, "/p/a");
  w.add_child_watch(3, "/p");
  const auto got = apply(h.remove("/p/a"));
  EXPECT_EQ(got, (std::vector<Notification>{n(1, EventType::kNodeDeleted, "/p/a", 3),
                                            n(2, EventType::kNodeDeleted, "/p/a", 3),
                                            n(3, EventType::kNodeChildrenChanged, "/p", 3)}));
  EXPECT_EQ(w.summary().watches, 0u);
}

TEST_F(WatchFixture, Ref1_11_NotificationsOrderedByTriggerThenConnection) {
  ASSERT_EQ(h.create("/a").err, Err::OK);
  for (ConnId c : {9, 3, 5})
    w.add_data_watch(c, "/a");
  w.add_child_watch(4, "/a");
  const auto got = apply(
      h.run(MultiOp{{SetDataOp{"/a", {}, -1}, CreateOp{"/a/b", {}, open_acl_unsafe(), 0, -1}}}));
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].conn, 3u);
  EXPECT_EQ(got[1].conn, 5u);
  EXPECT_EQ(got[2].conn, 9u);
  EXPECT_EQ(got[3], n(4, EventType::kNodeChildrenChanged, "/a", 2));
}

TEST_F(WatchFixture, Ref1_11_PersistentWatchSurvivesAndSeesChildren) {
  w.add_watch(1, "/a", AddWatchMode::kPersistent);
  EXPECT_EQ(apply(h.create("/a")),
            (std::vector<Notification>{n(1, EventType::kNodeCreated, "/a", 1)}));
  EXPECT_EQ(apply(h.create("/a/b")),
            (std::vector<Notification>{n(1, EventType::kNodeChildrenChanged, "/a", 2)}));
  EXPECT_TRUE(apply(h.create("/a/b/c")).empty());  // not recursive
  EXPECT_EQ(apply(h.set("/a", "x")),
            (std::vector<Notification>{n(1, EventType::kNodeDataChanged, "/a", 4)}));
  ASSERT_EQ(h.remove("/a/b/c").err, Err::OK);
  ASSERT_EQ(h.remove("/a/b").err, Err::OK);
  EXPECT_EQ(apply(h.remove("/a")),
            (std::vector<Notification>{n(1, EventType::kNodeDeleted, "/a", 7)}));
  EXPECT_EQ(w.check_watches(1, "/a", WatcherType::kPersistent), Err::OK);  // still there
}

TEST_F(WatchFixture, Ref1_11_PersistentRecursiveSeesSubtreeButNoChildEvents) {
  w.add_watch(1, "/a", AddWatchMode::kPersistentRecursive);
  EXPECT_EQ(apply(h.create("/a")),
            (std::vector<Notification>{n(1, EventType::kNodeCreated, "/a", 1)}));
  EXPECT_EQ(apply(h.create("/a/b")),
            (std::vector<Notification>{n(1, EventType::kNodeCreated, "/a/b", 2)}));
  EXPECT_EQ(apply(h.create("/a/b/c")),
            (std::vector<Notification>{n(1, EventType::kNodeCreated, "/a/b/c", 3)}));
  EXPECT_EQ(apply(h.set("/a/b/c", "x")),
            (std::vector<Notification>{n(1, EventType::kNodeDataChanged, "/a/b/c", 4)}));
  EXPECT_EQ(apply(h.remove("/a/b/c")),
            (std::vector<Notification>{n(1, EventType::kNodeDeleted, "/a/b/c", 5)}));
  EXPECT_TRUE(apply(h.create("/ab")).empty());  // a sibling with a common prefix
  // A standard watch on a descendant is consumed; the recursive watcher still gets one event.
  w.add_data_watch(1, "/a/b");
  EXPECT_EQ(apply(h.set("/a/b", "y")),
            (std::vector<Notification>{n(1, EventType::kNodeDataChanged, "/a/b", 7)}));
  EXPECT_EQ(w.check_watches(1, "/a/b", WatcherType::kData), Err::NOWATCHER);
}

TEST_F(WatchFixture, Ref1_11_RecursiveOnRootSeesEverything) {
  w.add_watch(8, "/", AddWatchMode::kPersistentRecursive);
  EXPECT_EQ(apply(h.create("/x")).size(), 1u);
  EXPECT_EQ(apply(h.create("/x/y")).size(), 1u);
}

TEST_F(WatchFixture, Ref1_11_CheckAndRemoveWatchesByType) {
  w.add_data_watch(1, "/a");
  w.add_child_watch(1, "/b");
  w.add_watch(1, "/c", AddWatchMode::kPersistent);
  w.add_watch(1, "/d", AddWatchMode::kPersistentRecursive);
  EXPECT_EQ(w.check_watches(1, "/a", WatcherType::kData), Err::OK);
  EXPECT_EQ(w.check_watches(1, "/a", WatcherType::kChildren), Err::NOWATCHER);
  EXPECT_EQ(w.check_watches(1, "/b", WatcherType::kChildren), Err::OK);
  EXPECT_EQ(w.check_watches(1, "/c", WatcherType::kPersistent), Err::OK);
  // ZooKeeper 3.8: Data and Children look at a table, and a persistent watch is in both.
  EXPECT_EQ(w.check_watches(1, "/c", WatcherType::kData), Err::OK);
  EXPECT_EQ(w.check_watches(1, "/c", WatcherType::kChildren), Err::OK);
  EXPECT_EQ(w.check_watches(1, "/d", WatcherType::kData), Err::OK);
  EXPECT_EQ(w.check_watches(1, "/d", WatcherType::kPersistentRecursive), Err::OK);
  EXPECT_EQ(w.check_watches(1, "/d", WatcherType::kPersistent), Err::NOWATCHER);
  EXPECT_EQ(w.check_watches(1, "/d", WatcherType::kAny), Err::OK);
  EXPECT_EQ(w.check_watches(2, "/a", WatcherType::kAny), Err::NOWATCHER);
  EXPECT_EQ(w.check_watches(1, "/a", static_cast<WatcherType>(9)), Err::BADARGUMENTS);

  EXPECT_EQ(w.remove_watches(1, "/a", WatcherType::kChildren), Err::NOWATCHER);
  EXPECT_EQ(w.remove_watches(1, "/a", WatcherType::kData), Err::OK);
  EXPECT_EQ(w.remove_watches(1, "/a", WatcherType::kData), Err::NOWATCHER);
  EXPECT_EQ(w.remove_watches(1, "/c", WatcherType::kPersistent), Err::OK);
  EXPECT_EQ(w.check_watches(1, "/c", WatcherType::kAny), Err::NOWATCHER);  // both tables
  EXPECT_EQ(w.remove_watches(1, "/d", WatcherType::kAny), Err::OK);
  EXPECT_EQ(w.remove_watches(1, "/b", WatcherType::kAny), Err::OK);
  EXPECT_EQ(w.summary().watches, 0u);
  // Removed recursive watches no longer fire.
  EXPECT_TRUE(apply(h.create("/d")).empty());
}

TEST_F(WatchFixture, Ref1_11_StandardAndPersistentOnSamePath) {
  w.add_watch(1, "/a", AddWatchMode::kPersistent);
  w.add_data_watch(1, "/a");
  EXPECT_EQ(apply(h.create("/a")).size(), 1u);                       // one notification
  EXPECT_EQ(w.check_watches(1, "/a", WatcherType::kData), Err::OK);  // the persistent one
  EXPECT_EQ(w.check_watches(1, "/a", WatcherType::kPersistent), Err::OK);
}

// ZooKeeper 3.8: removeWatches of type data on a persistent watch removes its data half; the
// child half still fires (NodeChildrenChanged, NodeDeleted), and the other way round.
TEST_F(WatchFixture, RemovingOneHalfOfAPersistentWatch) {
  ASSERT_EQ(h.create("/p").err, Err::OK);
  ASSERT_EQ(h.create("/q").err, Err::OK);
  w.add_watch(1, "/p", AddWatchMode::kPersistent);
  w.add_watch(1, "/q", AddWatchMode::kPersistent);
  EXPECT_EQ(w.remove_watches(1, "/p", WatcherType::kData), Err::OK);
  EXPECT_EQ(w.check_watches(1, "/p", WatcherType::kData), Err::NOWATCHER);
  EXPECT_EQ(w.check_watches(1, "/p", WatcherType::kChildren), Err::OK);
  EXPECT_EQ(w.remove_watches(1, "/p", WatcherType::kData), Err::NOWATCHER);
  EXPECT_EQ(w.remove_watches(1, "/q", WatcherType::kChildren), Err::OK);
  EXPECT_TRUE(apply(h.set("/p", "x")).empty());
  EXPECT_EQ(apply(h.set("/q", "x")).size(), 1u);
  EXPECT_EQ(apply(h.create("/p/k")),
            (std::vector<Notification>{n(1, EventType::kNodeChildrenChanged, "/p", 5)}));
  EXPECT_TRUE(apply(h.create("/q/k")).empty());
  EXPECT_EQ(apply(h.remove("/p/k")).size(), 1u);
  EXPECT_TRUE(apply(h.remove("/q/k")).empty());
  EXPECT_EQ(apply(h.remove("/p")).size(), 1u);
  EXPECT_EQ(apply(h.remove("/q")).size(), 1u);
}

TEST_F(WatchFixture, RemoveConnectionDropsEverything) {
  w.add_data_watch(1, "/a");
  w.add_child_watch(1, "/a");
  w.add_watch(1, "/r", AddWatchMode::kPersistentRecursive);
  w.add_data_watch(2, "/a");
  EXPECT_EQ(w.summary().connections, 2u);
  EXPECT_EQ(w.summary().paths, 2u);
  EXPECT_EQ(w.summary().watches, 4u);
  EXPECT_EQ(w.paths_of(1), (std::vector<std::string>{"/a", "/r"}));
  EXPECT_EQ(w.connections_of("/a"), (std::vector<ConnId>{1, 2}));
  w.remove_connection(1);
  EXPECT_EQ(w.summary().connections, 1u);
  EXPECT_EQ(w.summary().watches, 1u);
  EXPECT_EQ(apply(h.create("/a")),
            (std::vector<Notification>{n(2, EventType::kNodeCreated, "/a", 1)}));
  EXPECT_TRUE(apply(h.create("/r")).empty());
  w.remove_connection(77);  // unknown: no-op
}

TEST_F(WatchFixture, Ref1_7_NotificationsFilteredByReadAcl) {
  const AclList bob_only = {{perms::kAll, {"digest", digest_id("bob", "pw")}}};
  ASSERT_EQ(h.create("/open").err, Err::OK);
  w.set_auth(1, ip_auth());
  w.set_auth(2, testing::digest_auth("bob", "pw"));
  w.add_watch(1, "/open", AddWatchMode::kPersistentRecursive);
  w.add_watch(2, "/open", AddWatchMode::kPersistentRecursive);
  w.add_data_watch(1, "/open/secret");
  h.header.auth = testing::digest_auth("bob", "pw");
  const auto got = apply(h.create("/open/secret", "", CreateMode::kPersistent, bob_only));
  EXPECT_EQ(got, (std::vector<Notification>{n(2, EventType::kNodeCreated, "/open/secret", 2)}));
  // The withheld one-shot watch was still consumed.
  EXPECT_EQ(w.check_watches(1, "/open/secret", WatcherType::kData), Err::NOWATCHER);
  // Connection 3 never called set_auth: world:anyone only.
  w.add_data_watch(3, "/open");
  EXPECT_EQ(apply(h.set("/open", "x")).size(), 3u);
}

TEST_F(WatchFixture, Ref1_11_SetWatchesRules) {
  ASSERT_EQ(h.create("/same", "v").err, Err::OK);     // zxid 1
  ASSERT_EQ(h.create("/changed", "v").err, Err::OK);  // zxid 2
  ASSERT_EQ(h.create("/parent").err, Err::OK);        // zxid 3
  const Zxid last_seen = h.zxid;
  ASSERT_EQ(h.set("/changed", "w").err, Err::OK);   // mzxid 4
  ASSERT_EQ(h.create("/parent/kid").err, Err::OK);  // pzxid 5
  ASSERT_EQ(h.create("/appeared").err, Err::OK);
  std::vector<Notification> out;
  w.set_watches(1, last_seen, {"/same", "/changed", "/gone"}, {"/appeared", "/absent"},
                {"/parent", "/same", "/gone2"}, {"/p"}, {"/r"}, h.tree, &out);
  EXPECT_EQ(out,
            (std::vector<Notification>{n(1, EventType::kNodeDataChanged, "/changed", kNoZxid),
                                       n(1, EventType::kNodeDeleted, "/gone", kNoZxid),
                                       n(1, EventType::kNodeCreated, "/appeared", kNoZxid),
                                       n(1, EventType::kNodeChildrenChanged, "/parent", kNoZxid),
                                       n(1, EventType::kNodeDeleted, "/gone2", kNoZxid)}));
  EXPECT_EQ(w.check_watches(1, "/same", WatcherType::kData), Err::OK);
  EXPECT_EQ(w.check_watches(1, "/same", WatcherType::kChildren), Err::OK);
  EXPECT_EQ(w.check_watches(1, "/absent", WatcherType::kData), Err::OK);
  EXPECT_EQ(w.check_watches(1, "/changed", WatcherType::kAny), Err::NOWATCHER);
  EXPECT_EQ(w.check_watches(1, "/p", WatcherType::kPersistent), Err::OK);
  EXPECT_EQ(w.check_watches(1, "/r", WatcherType::kPersistentRecursive), Err::OK);
  EXPECT_EQ(apply(h.create("/absent")),
            (std::vector<Notification>{n(1, EventType::kNodeCreated, "/absent", 7)}));
}

TEST_F(WatchFixture, Ref1_11_SetWatchesWithholdsUnreadableNodes) {
  ASSERT_EQ(h.create("/s", "", CreateMode::kPersistent, {{perms::kWrite, {"world", "anyone"}}}).err,
            Err::OK);
  std::vector<Notification> out;
  w.set_auth(1, ip_auth());
  w.set_watches(1, 0, {"/s"}, {"/s"}, {}, {}, {}, h.tree, &out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(w.check_watches(1, "/s", WatcherType::kAny), Err::NOWATCHER);
}

}  // namespace quorumlab::sm
