// The client watch table against ZooKeeper's ZKWatchManager rules (reference §1.11).
#include <gtest/gtest.h>

#include "watch_table.hpp"

namespace quorumlab::client::detail {
namespace {

struct Recorder {
  std::vector<std::string> calls;
  Watcher make(const std::string& name) {
    return [this, name](const WatchedEvent& e) { calls.push_back(name + ":" + to_string(e.type)); };
  }
};

std::vector<std::string> fire(std::vector<Watcher> ws, EventType type, const std::string& path,
                              Recorder& rec) {
  rec.calls.clear();
  for (auto& w : ws)
    w(WatchedEvent{type, KeeperState::kSyncConnected, path, 1});
  return rec.calls;
}

TEST(WatchTable, OneShotWatchesFireOnce) {
  WatchTable t;
  Recorder rec;
  t.add(WatchKind::kData, "/a", rec.make("data"));
  t.add(WatchKind::kChild, "/a", rec.make("child"));
  EXPECT_EQ(fire(t.materialize(EventType::kNodeDataChanged, "/a"), EventType::kNodeDataChanged,
                 "/a", rec),
            std::vector<std::string>{"data:NodeDataChanged"});
  EXPECT_TRUE(t.materialize(EventType::kNodeDataChanged, "/a").empty());
  EXPECT_EQ(t.size(), 1u);  // the child watch stays
}

TEST(WatchTable, DeleteFiresDataExistAndChildWatches) {
  WatchTable t;
  Recorder rec;
  t.add(WatchKind::kData, "/a", rec.make("data"));
  t.add(WatchKind::kChild, "/a", rec.make("child"));
  EXPECT_EQ(t.materialize(EventType::kNodeDeleted, "/a").size(), 2u);
  EXPECT_TRUE(t.empty());
}

TEST(WatchTable, ExistWatchFiresOnCreate) {
  WatchTable t;
  Recorder rec;
  t.add(WatchKind::kExist, "/a", rec.make("exist"));
  EXPECT_TRUE(t.materialize(EventType::kNodeChildrenChanged, "/a").empty());
  EXPECT_EQ(t.materialize(EventType::kNodeCreated, "/a").size(), 1u);
  EXPECT_TRUE(t.empty());
}

TEST(WatchTable, PersistentStaysAndSeesChildren) {
  WatchTable t;
  Recorder rec;
  t.add(WatchKind::kPersistent, "/a", rec.make("p"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t.materialize(EventType::kNodeDataChanged, "/a").size(), 1u);
    EXPECT_EQ(t.materialize(EventType::kNodeChildrenChanged, "/a").size(), 1u);
  }
  EXPECT_TRUE(t.materialize(EventType::kNodeDataChanged, "/a/b").empty());  // not recursive
  EXPECT_EQ(t.size(), 1u);
}

TEST(WatchTable, RecursiveCoversSubtreeExceptChildEvents) {
  WatchTable t;
  Recorder rec;
  t.add(WatchKind::kPersistentRecursive, "/a", rec.make("r"));
  t.add(WatchKind::kPersistentRecursive, "/", rec.make("root"));
  EXPECT_EQ(fire(t.materialize(EventType::kNodeCreated, "/a/b/c"), EventType::kNodeCreated,
                 "/a/b/c", rec),
            (std::vector<std::string>{"r:NodeCreated", "root:NodeCreated"}));
  EXPECT_EQ(t.materialize(EventType::kNodeDeleted, "/a").size(), 2u);
  EXPECT_EQ(t.materialize(EventType::kNodeCreated, "/ab").size(), 1u);  // only the root's
  EXPECT_TRUE(t.materialize(EventType::kNodeChildrenChanged, "/a").empty());
  EXPECT_EQ(t.size(), 2u);
}

TEST(WatchTable, RemoveByTypeReportsRemovalEvents) {
  WatchTable t;
  Recorder rec;
  t.add(WatchKind::kData, "/a", rec.make("d"));
  t.add(WatchKind::kExist, "/a", rec.make("e"));
  t.add(WatchKind::kChild, "/a", rec.make("c"));
  t.add(WatchKind::kPersistent, "/a", rec.make("p"));
  EXPECT_TRUE(t.contains("/a", WatcherType::kData));
  EXPECT_FALSE(t.contains("/a", WatcherType::kPersistentRecursive));
  auto removed = t.remove("/a", WatcherType::kData);
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(removed[0].event.type, EventType::kDataWatchRemoved);
  EXPECT_FALSE(t.contains("/a", WatcherType::kData));
  removed = t.remove("/a", WatcherType::kAny);
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(removed[0].event.type, EventType::kChildWatchRemoved);
  EXPECT_EQ(removed[1].event.type, EventType::kPersistentWatchRemoved);
  EXPECT_TRUE(t.empty());
}

TEST(WatchTable, ListsForSetWatches) {
  WatchTable t;
  Recorder rec;
  t.add(WatchKind::kData, "/b", rec.make("x"));
  t.add(WatchKind::kData, "/a", rec.make("x"));
  t.add(WatchKind::kData, "/a", rec.make("y"));  // two watchers, one path
  t.add(WatchKind::kExist, "/e", rec.make("x"));
  t.add(WatchKind::kPersistentRecursive, "/r", rec.make("x"));
  auto l = t.lists();
  EXPECT_EQ(l.data, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(l.exist, std::vector<std::string>{"/e"});
  EXPECT_TRUE(l.child.empty());
  EXPECT_EQ(l.persistent_recursive, std::vector<std::string>{"/r"});
}

}  // namespace
}  // namespace quorumlab::client::detail
