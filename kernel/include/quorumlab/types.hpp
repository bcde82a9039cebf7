// Vocabulary types shared by the kernel, the plugins and the state machine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace quorumlab {

/// Identifier of a replica ("server id" in ZooKeeper, "node id" in Raft). 0 is never valid.
using NodeId = std::uint32_t;

/// ZooKeeper transaction id. Strictly increasing over committed txns and identical on every
/// replica. Its encoding belongs to the broadcast plugin (ZAB: `epoch << 32 | counter`, see
/// quorumlab/consensus/epoch_zxid.hpp); the kernel only compares zxids.
using Zxid = std::uint64_t;

/// Position in a broadcast plugin's log, starting at 1. 0 means "before the first entry".
using LogIndex = std::uint64_t;

/// ZooKeeper session id (top byte: creating server id).
using SessionId = std::int64_t;

/// Owned byte string used for opaque payloads (txns, messages, snapshots).
using Bytes = std::vector<std::uint8_t>;

}  // namespace quorumlab
