// Vocabulary of the znode data model: Stat, CreateMode, watch event types
// (reference/zookeeper.md §1.2, §1.3, §1.11).
#pragma once

#include "quorumlab/zk_types.hpp"

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

/// The create modes, event, watcher and addWatch types are quorumlab/zk_types.hpp's.
using quorumlab::AddWatchMode;
using quorumlab::CreateMode;
using quorumlab::event_type_name;
using quorumlab::EventType;
using quorumlab::is_container;
using quorumlab::is_ephemeral;
using quorumlab::is_sequential;
using quorumlab::is_ttl;
using quorumlab::is_valid_create_mode;
using quorumlab::is_valid_tree_create_mode;
using quorumlab::WatcherType;

/// Largest TTL accepted for TTL nodes: 2^40 - 1 ms (§1.2, `EphemeralType.TTL`).
constexpr std::int64_t kTtlMaxMs = (std::int64_t{1} << 40) - 1;
/// Persisted ephemeralOwner of container nodes (`EphemeralType.CONTAINER_EPHEMERAL_OWNER`).
constexpr std::int64_t kContainerEphemeralOwner = INT64_MIN;
/// Persisted ephemeralOwner of a TTL node: top byte 0xFF, 16 zero bits, 40 bits of TTL.
constexpr std::int64_t ttl_ephemeral_owner(std::int64_t ttl_ms) {
  return static_cast<std::int64_t>(0xFF00000000000000ull | static_cast<std::uint64_t>(ttl_ms));
}

}  // namespace quorumlab::sm
