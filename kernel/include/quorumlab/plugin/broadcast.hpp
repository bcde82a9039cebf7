// Atomic broadcast plugins (ZAB, Raft, solo...): deterministic state machines without I/O.
//
// Modelled on etcd-io/raft's Step/Ready design. The kernel drives a plugin with
// `step`, `tick`, `propose`, `persisted`, `compacted`, `peer_disconnected` and
// `request_barrier`, then drains
// `ready()`, executes the batch and calls `advance()`.
//
// Executing a Ready, in this order (the ordering contract):
//   1. If `snapshot` is set: install it (restore the state machine) and tell storage.
//   2. If `truncate_after` is set: drop persisted log entries with index > it.
//   3. Append `entries` and save `hard_state` (if set) to storage.
//   4. Send `messages` now. They never depend on anything in (1)-(3) being durable.
//   5. Send `messages_after_persist` only once storage reports everything submitted in (2)-(3)
//      durable; then call `persisted(last index written)`. A vote, an epoch acknowledgement or
//      an ACK of a proposal goes here. `persisted` is called once per Ready that wrote
//      anything or had `messages_after_persist`, in Ready order, never combined.
//   6. Apply `committed` in order (each txn exactly once, zxids strictly increasing).
//   7. Resolve `barriers`, report `status` changes.
// The plugin never sends a message whose correctness depends on state not yet durable unless
// it places it in `messages_after_persist`.
//
// Determinism: same inputs in the same order give the same outputs. No sockets, threads,
// clocks, files or std::random_device; randomness only from PluginContext::rng.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/config.hpp>

#include "quorumlab/plugin/context.hpp"
#include "quorumlab/types.hpp"

namespace quorumlab {

/// One message between replicas. `payload` is in the plugin's own schema (Cap'n Proto); the
/// kernel carries it in an envelope and never looks inside.
struct PeerMessage {
  NodeId from = 0;
  NodeId to = 0;
  Bytes payload;
};

/// One log entry. `index` is dense from 1; `epoch` is the ZAB epoch or Raft term that created
/// it; `zxid` is what the entry commits as; `data` is an opaque txn (empty for no-op entries,
/// which are committed but have nothing to apply).
struct LogEntry {
  LogIndex index = 0;
  std::uint64_t epoch = 0;
  Zxid zxid = 0;
  Bytes data;
};

/// State that must survive a crash besides the log. ZAB uses `current_epoch` and
/// `accepted_epoch`; Raft uses `current_epoch` as currentTerm and `voted_for`.
struct HardState {
  std::uint64_t current_epoch = 0;
  std::uint64_t accepted_epoch = 0;
  NodeId voted_for = 0;
  Bytes extra;  ///< plugin-specific, opaque to the kernel
  bool operator==(const HardState& o) const {
    return current_epoch == o.current_epoch && accepted_epoch == o.accepted_epoch &&
           voted_for == o.voted_for && extra == o.extra;
  }
};

/// A txn the replica must apply now. Every replica sees the same sequence.
struct CommittedTxn {
  LogIndex index = 0;
  Zxid zxid = 0;
  Bytes data;  ///< empty for a no-op entry
};

/// A state-machine snapshot: the serialized tree with sessions, as of `last_index`/`last_zxid`.
struct Snapshot {
  LogIndex last_index = 0;
  std::uint64_t last_epoch = 0;
  Zxid last_zxid = 0;
  Bytes data;
};

enum class BarrierKind : std::uint8_t {
  sync_op,     ///< ZooKeeper sync: resolved when the leader has committed everything before it
  read_index,  ///< leader confirms leadership with a quorum round, resolves at its commit point
};

/// A barrier result: the read may be served once the local replica applied `zxid`.
struct BarrierResult {
  std::uint64_t id = 0;
  bool ok = false;  ///< false: lost leadership or no leader; the kernel retries or fails
  Zxid zxid = 0;    ///< commit point to wait for
  LogIndex index = 0;
};

enum class Role : std::uint8_t { looking, follower, leader, observer, candidate };
const char* to_string(Role r);

/// Shown by tools (`qlab cluster status`) and compared by the simulator.
struct BroadcastStatus {
  Role role = Role::looking;
  NodeId leader = 0;        ///< 0 when unknown
  std::uint64_t epoch = 0;  ///< current epoch / term
  Zxid last_committed_zxid = 0;
  LogIndex commit_index = 0;
  LogIndex last_index = 0;
  bool can_propose = false;  ///< leader that finished recovery and may accept proposals
  bool operator==(const BroadcastStatus& o) const {
    return role == o.role && leader == o.leader && epoch == o.epoch &&
           last_committed_zxid == o.last_committed_zxid && commit_index == o.commit_index &&
           last_index == o.last_index && can_propose == o.can_propose;
  }
};

/// Everything the kernel must do after feeding inputs. See the ordering contract above.
struct Ready {
  std::optional<Snapshot> snapshot;
  std::optional<LogIndex> truncate_after;
  std::vector<LogEntry> entries;
  std::optional<HardState> hard_state;
  std::vector<PeerMessage> messages;
  std::vector<PeerMessage> messages_after_persist;
  std::vector<CommittedTxn> committed;
  std::vector<BarrierResult> barriers;
  std::optional<BroadcastStatus> status;  ///< set when role, leader or epoch changed

  bool empty() const {
    return !snapshot && !truncate_after && entries.empty() && !hard_state && messages.empty() &&
           messages_after_persist.empty() && committed.empty() && barriers.empty() && !status;
  }
};

/// What the kernel recovered from storage, given to the plugin before any other input.
/// The kernel restores its state machine from the snapshot only; it applies the recovered
/// entries when the plugin delivers them as `committed` (the plugin decides what is committed).
struct RecoveredLog {
  HardState hard_state;
  std::optional<Snapshot> snapshot;  ///< `data` may be left empty: the kernel already restored it
  std::vector<LogEntry> entries;     ///< the durable log after the snapshot, in order
};

/// Answer to `propose`.
struct ProposeResult {
  bool accepted = false;
  NodeId leader_hint = 0;  ///< when not accepted: who is leader, 0 if unknown
  Zxid first_zxid = 0;     ///< when accepted: zxid of the first txn
};

/// Source of state-machine snapshots for a leader that must send SNAP / InstallSnapshot.
/// Implemented by the kernel; it serializes the tree as of the last applied txn.
class BOOST_SYMBOL_VISIBLE SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  virtual Snapshot take_snapshot() = 0;
};

class BOOST_SYMBOL_VISIBLE Broadcast {
 public:
  virtual ~Broadcast() = default;

  /// Called exactly once, before any other input, with what storage recovered.
  virtual void restore(const RecoveredLog& log) = 0;

  /// Sets the source for snapshots the leader must send. May be null (no snapshot sync).
  virtual void set_snapshot_source(SnapshotSource* source) = 0;

  /// A message from a peer. Malformed payloads are dropped (and logged), never thrown.
  virtual void step(const PeerMessage& message) = 0;

  /// One unit of logical time. Timeouts are counted in ticks.
  virtual void tick() = 0;

  /// Leader only: appends `txns` to the log, assigning consecutive zxids. Otherwise answers
  /// with `accepted = false` and a leader hint; nothing changes.
  virtual ProposeResult propose(const std::vector<Bytes>& txns) = 0;

  /// Storage made the log durable up to `index` and the last hard state durable.
  virtual void persisted(LogIndex index) = 0;

  /// The kernel handed storage a snapshot as of `meta.last_index` (data left empty). Storage
  /// keeps the log entries it covers until the snapshot file is durable, so the plugin may
  /// drop its in-memory entries up to it now; peers behind it are brought up to date with a
  /// snapshot from the SnapshotSource (ZAB SNAP, Raft InstallSnapshot).
  virtual void compacted(const Snapshot& meta) = 0;

  /// The transport lost its connection to `peer`: the peer's process died or closed its
  /// sockets (ZooKeeper's learner sees this as an IOException on the leader socket and goes
  /// LOOKING at once instead of waiting for syncLimit). A hint that lets a protocol react
  /// before its timeouts; messages may still be lost without one, and a paused or partitioned
  /// peer gives none. The default ignores it.
  virtual void peer_disconnected(NodeId /*peer*/) {}

  /// Asks for a barrier. The result appears in a later Ready's `barriers` with the same id.
  virtual void request_barrier(std::uint64_t id, BarrierKind kind) = 0;

  /// True if a call to ready() would return a non-empty batch.
  virtual bool has_ready() const = 0;

  /// Takes the pending batch. The kernel must call advance() after executing it.
  virtual Ready ready() = 0;
  virtual void advance() = 0;

  virtual BroadcastStatus status() const = 0;

  /// Checks internal invariants on the current state and on the step from the state at the
  /// previous call (LogCabin's checkBasic/checkDelta). Returns an empty string when all hold,
  /// otherwise a description of the first violation.
  virtual std::string check_invariants() = 0;
};

}  // namespace quorumlab
