// Vocabulary types shared by the kernel, the plugins and the state machine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace quorumlab {

/// Identifier of a replica ("server id" in ZooKeeper, "node id" in Raft). 0 is never valid.
using NodeId = std::uint32_t;

/// ZooKeeper transaction id. Strictly increasing over committed txns and identical on every
/// replica. ZAB encodes it as `epoch << 32 | counter`.
using Zxid = std::uint64_t;

/// Position in a broadcast plugin's log, starting at 1. 0 means "before the first entry".
using LogIndex = std::uint64_t;

/// ZooKeeper session id (top byte: creating server id).
using SessionId = std::int64_t;

/// Owned byte string used for opaque payloads (txns, messages, snapshots).
using Bytes = std::vector<std::uint8_t>;

constexpr Zxid make_zxid(std::uint32_t epoch, std::uint32_t counter) {
  return (static_cast<Zxid>(epoch) << 32) | counter;
}
constexpr std::uint32_t zxid_epoch(Zxid z) {
  return static_cast<std::uint32_t>(z >> 32);
}
constexpr std::uint32_t zxid_counter(Zxid z) {
  return static_cast<std::uint32_t>(z & 0xffffffffu);
}

}  // namespace quorumlab
