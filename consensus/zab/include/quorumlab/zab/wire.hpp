// ZAB quorum packets as plain C++ values, and their Cap'n Proto encoding (zab.capnp).
//
// The protocol code only sees these structs; Cap'n Proto stays inside wire.cpp. `decode` never
// throws: malformed, truncated or misaligned input gives std::nullopt and an error text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "quorumlab/plugin/broadcast.hpp"

namespace quorumlab::zab {

/// ZooKeeper's QuorumPeer.ServerState.
enum class PeerState : std::uint8_t { looking, following, leading, observing };
const char* to_string(PeerState s);

namespace wire {

/// Protocol version carried in LearnerInfo/LeaderInfo (ZooKeeper uses 0x10000).
constexpr std::uint32_t kProtocolVersion = 0x10000;

enum class SyncMode : std::uint8_t { diff, trunc, trunc_diff, snap };
const char* to_string(SyncMode m);

struct Notification {
  PeerState state = PeerState::looking;
  NodeId leader = 0;
  Zxid zxid = 0;
  std::uint64_t election_epoch = 0;
  std::uint64_t peer_epoch = 0;
};

struct LearnerInfo {
  std::uint64_t accepted_epoch = 0;
  bool observer = false;
  std::uint32_t protocol_version = kProtocolVersion;
};

struct LeaderInfo {
  std::uint64_t new_epoch = 0;
  std::uint32_t protocol_version = kProtocolVersion;
};

struct EpochSegment {
  std::uint64_t epoch = 0;
  LogIndex first_index = 0;
  LogIndex last_index = 0;
};

struct AckEpoch {
  std::uint64_t current_epoch = 0;
  bool counts = true;
  LogIndex last_index = 0;
  Zxid last_zxid = 0;
  LogIndex base_index = 0;
  Zxid base_zxid = 0;
  std::vector<EpochSegment> segments;  ///< newest first
  bool segments_complete = true;
};

struct Sync {
  SyncMode mode = SyncMode::diff;
  LogIndex common_index = 0;
  Zxid common_zxid = 0;
  std::optional<Snapshot> snapshot;
  std::vector<LogEntry> entries;
  LogIndex newleader_index = 0;
  Zxid newleader_zxid = 0;
  bool final = true;  ///< false: more SYNC packets (continuing the DIFF) follow
  /// A snapshot in parts: `snapshot->data` holds bytes [snapshot_offset, +size) of
  /// snapshot_total (0: the whole snapshot is in this packet).
  std::uint64_t snapshot_offset = 0;
  std::uint64_t snapshot_total = 0;
};

struct Proposal {
  std::vector<LogEntry> entries;
};

struct Ack {
  LogIndex index = 0;
  Zxid zxid = 0;
};

struct Commit {
  LogIndex index = 0;
  Zxid zxid = 0;
};

struct Inform {
  std::vector<LogEntry> entries;
};

struct UpToDate {
  LogIndex commit_index = 0;
  Zxid commit_zxid = 0;
};

struct Ping {
  std::uint64_t round = 0;
};

struct PingReply {
  LogIndex ack_index = 0;
  Zxid ack_zxid = 0;
  std::uint64_t round = 0;
};

struct Request {
  std::uint64_t barrier_id = 0;
  BarrierKind kind = BarrierKind::sync_op;
};

struct SyncReply {
  std::uint64_t barrier_id = 0;
  bool ok = false;
  Zxid zxid = 0;
  LogIndex index = 0;
  BarrierFailure failure = BarrierFailure::none;
};

struct Close {};

using Body = std::variant<Notification, LearnerInfo, LeaderInfo, AckEpoch, Sync, Proposal, Ack,
                          Commit, Inform, UpToDate, Ping, PingReply, Request, SyncReply, Close>;

/// Packet kinds, in the order of `Body`'s alternatives.
enum class Kind : std::uint8_t {
  notification,
  learner_info,
  leader_info,
  ack_epoch,
  sync,
  proposal,
  ack,
  commit,
  inform,
  up_to_date,
  ping,
  ping_reply,
  request,
  sync_reply,
  close,
};
const char* to_string(Kind k);

struct Packet {
  std::uint64_t epoch = 0;  ///< the leader's epoch on quorum packets, 0 on notifications
  std::uint64_t nonce = 0;  ///< the learner's connection nonce, 0 on notifications
  std::uint64_t seq = 0;    ///< leader -> learner stream position from 1, 0 otherwise
  Body body;

  Kind kind() const { return static_cast<Kind>(body.index()); }
};

/// Serializes a packet (Cap'n Proto flat array).
Bytes encode(const Packet& packet);

/// Parses a packet. Never throws; on failure returns nullopt and sets `error` if given.
/// Copies misaligned input into an aligned buffer first (Cap'n Proto 0.9 needs 8-byte words).
std::optional<Packet> decode(const Bytes& payload, std::string* error = nullptr);

/// The same for any buffer, e.g. a ZeroMQ frame that need not be 8-byte aligned.
std::optional<Packet> decode(const std::uint8_t* data, std::size_t size,
                             std::string* error = nullptr);

/// The kind of an encoded packet, or nullopt if it does not decode. For tests and tools.
std::optional<Kind> peek_kind(const Bytes& payload);

}  // namespace wire
}  // namespace quorumlab::zab
