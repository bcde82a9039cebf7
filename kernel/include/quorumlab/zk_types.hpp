// ZooKeeper's small enumerations with their wire values, shared by the znode tree, the node,
// the clients and the ZooKeeper front-end: create modes, watch event types, watcher types and
// addWatch modes (reference/zookeeper.md §1.2, §1.11). Header-only.
#pragma once

#include <cstdint>

namespace quorumlab {

/// CreateRequest.flags (§1.2). Values outside 0..6 are rejected with BADARGUMENTS, except
/// kContainerSequential, which is no ZooKeeper CreateMode: the tree's mode for what ZooKeeper
/// makes of a createContainer request with a sequential flag (a container with a sequence
/// suffix). Only the tree accepts it (is_valid_tree_create_mode).
enum class CreateMode : std::int32_t {
  kPersistent = 0,
  kEphemeral = 1,
  kPersistentSequential = 2,
  kEphemeralSequential = 3,
  kContainer = 4,
  kPersistentWithTtl = 5,
  kPersistentSequentialWithTtl = 6,
  kContainerSequential = 7,
};

/// A CreateMode a client may send (ZooKeeper's CreateMode.fromFlag).
constexpr bool is_valid_create_mode(std::int32_t flags) {
  return flags >= 0 && flags <= 6;
}
/// A mode the tree applies: the client modes and kContainerSequential.
constexpr bool is_valid_tree_create_mode(std::int32_t mode) {
  return mode >= 0 && mode <= 7;
}
constexpr bool is_ephemeral(CreateMode m) {
  return m == CreateMode::kEphemeral || m == CreateMode::kEphemeralSequential;
}
constexpr bool is_sequential(CreateMode m) {
  return m == CreateMode::kPersistentSequential || m == CreateMode::kEphemeralSequential ||
         m == CreateMode::kPersistentSequentialWithTtl || m == CreateMode::kContainerSequential;
}
constexpr bool is_container(CreateMode m) {
  return m == CreateMode::kContainer || m == CreateMode::kContainerSequential;
}
constexpr bool is_ttl(CreateMode m) {
  return m == CreateMode::kPersistentWithTtl || m == CreateMode::kPersistentSequentialWithTtl;
}

/// Watcher.Event.EventType (§1.11). The three *Removed types are client-side only.
enum class EventType : std::int32_t {
  kNone = -1,
  kNodeCreated = 1,
  kNodeDeleted = 2,
  kNodeDataChanged = 3,
  kNodeChildrenChanged = 4,
  kDataWatchRemoved = 5,
  kChildWatchRemoved = 6,
  kPersistentWatchRemoved = 7,
};

/// ZooKeeper's Java name of an event type ("NodeDataChanged"), "Unknown" otherwise.
constexpr const char* event_type_name(EventType type) {
  switch (type) {
    case EventType::kNone:
      return "None";
    case EventType::kNodeCreated:
      return "NodeCreated";
    case EventType::kNodeDeleted:
      return "NodeDeleted";
    case EventType::kNodeDataChanged:
      return "NodeDataChanged";
    case EventType::kNodeChildrenChanged:
      return "NodeChildrenChanged";
    case EventType::kDataWatchRemoved:
      return "DataWatchRemoved";
    case EventType::kChildWatchRemoved:
      return "ChildWatchRemoved";
    case EventType::kPersistentWatchRemoved:
      return "PersistentWatchRemoved";
  }
  return "Unknown";
}

/// WatcherType of checkWatches/removeWatches (§1.11; 4 and 5 are 3.9+).
enum class WatcherType : std::int32_t {
  kChildren = 1,
  kData = 2,
  kAny = 3,
  kPersistent = 4,
  kPersistentRecursive = 5,
};

/// addWatch modes (§1.1, opcode 106).
enum class AddWatchMode : std::int32_t {
  kPersistent = 0,
  kPersistentRecursive = 1,
};

}  // namespace quorumlab
