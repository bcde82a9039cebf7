// Vocabulary of the znode data model: Stat, CreateMode, watch event types
// (reference/zookeeper.md §1.2, §1.3, §1.11).
#pragma once

#include <cstdint>

namespace quorumlab::sm {

/// The client-visible Stat of a znode (jute `org.apache.zookeeper.data.Stat`, §1.3), with the
/// values ZooKeeper's `DataNode.copyStat` produces:
/// - `cversion` is `persisted_cversion * 2 - numChildren` (int32 arithmetic, wrapping), where
///   the persisted cversion counts child creates only; so it equals creates + deletes for
///   nodes whose children were all created by txns (the initial `/` shows -1 and
///   `/zookeeper` shows -2, exactly as in ZooKeeper).
/// - `ephemeralOwner` is the owning session for ephemeral nodes and 0 for persistent,
///   container and TTL nodes (`DataNode.getClientEphemeralOwner`).
/// - zxid fields are jute longs, hence signed.
struct Stat {
  std::int64_t czxid = 0;
  std::int64_t mzxid = 0;
  std::int64_t ctime = 0;
  std::int64_t mtime = 0;
  std::int32_t version = 0;
  std::int32_t cversion = 0;
  std::int32_t aversion = 0;
  std::int64_t ephemeralOwner = 0;
  std::int32_t dataLength = 0;
  std::int32_t numChildren = 0;
  std::int64_t pzxid = 0;

  friend bool operator==(const Stat& a, const Stat& b) {
    return a.czxid == b.czxid && a.mzxid == b.mzxid && a.ctime == b.ctime && a.mtime == b.mtime &&
           a.version == b.version && a.cversion == b.cversion && a.aversion == b.aversion &&
           a.ephemeralOwner == b.ephemeralOwner && a.dataLength == b.dataLength &&
           a.numChildren == b.numChildren && a.pzxid == b.pzxid;
  }
  friend bool operator!=(const Stat& a, const Stat& b) { return !(a == b); }
};

/// CreateRequest.flags (§1.2). Values outside 0..6 are rejected with BADARGUMENTS at apply.
enum class CreateMode : std::int32_t {
  kPersistent = 0,
  kEphemeral = 1,
  kPersistentSequential = 2,
  kEphemeralSequential = 3,
  kContainer = 4,
  kPersistentWithTtl = 5,
  kPersistentSequentialWithTtl = 6,
};

constexpr bool is_valid_create_mode(std::int32_t flags) {
  return flags >= 0 && flags <= 6;
}
constexpr bool is_ephemeral(CreateMode m) {
  return m == CreateMode::kEphemeral || m == CreateMode::kEphemeralSequential;
}
constexpr bool is_sequential(CreateMode m) {
  return m == CreateMode::kPersistentSequential || m == CreateMode::kEphemeralSequential ||
         m == CreateMode::kPersistentSequentialWithTtl;
}
constexpr bool is_container(CreateMode m) {
  return m == CreateMode::kContainer;
}
constexpr bool is_ttl(CreateMode m) {
  return m == CreateMode::kPersistentWithTtl || m == CreateMode::kPersistentSequentialWithTtl;
}

/// Largest TTL accepted for TTL nodes: 2^40 - 1 ms (§1.2, `EphemeralType.TTL`).
constexpr std::int64_t kTtlMaxMs = (std::int64_t{1} << 40) - 1;
/// Persisted ephemeralOwner of container nodes (`EphemeralType.CONTAINER_EPHEMERAL_OWNER`).
constexpr std::int64_t kContainerEphemeralOwner = INT64_MIN;
/// Persisted ephemeralOwner of a TTL node: top byte 0xFF, 16 zero bits, 40 bits of TTL.
constexpr std::int64_t ttl_ephemeral_owner(std::int64_t ttl_ms) {
  return static_cast<std::int64_t>(0xFF00000000000000ull | static_cast<std::uint64_t>(ttl_ms));
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

const char* event_type_name(EventType type);

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

}  // namespace quorumlab::sm
