// Atomic broadcast plugins (ZAB, Raft, solo...): deterministic state machines without I/O.
// Plugin ABI 4. This header is the contract between the kernel and every broadcast plugin.
//
// Modelled on etcd-io/raft's Step/Ready design. The kernel feeds inputs (`restore` once, then
// `step`, `tick`, `propose`, `persisted`, `compacted`, `peer_disconnected`,
// `request_barrier`, `transfer_leadership`), then takes the pending batch with `ready()` and
// executes it. `ready()` hands the batch over: the plugin records it as emitted (e.g. the writes it
// must see `persisted` for) and starts a new one. There is no separate acknowledgement call.
//
// Executing a Ready, in this order (the ordering contract; quorumlab/ready_executor.hpp is the
// one implementation, used by the node, the simulator and the scripted test network):
//   1. If `snapshot` is set: install it (restore the state machine) and hand it to storage.
//   2. If `truncate_after` is set: drop the log entries with index > it (durable or not).
//   3. Append `entries` and save `hard_state` (if set) to storage.
//   4. Send `messages` now. They never depend on anything in (1)-(3) being durable.
//   5. If (1)-(3) wrote anything or `messages_after_persist` is not empty: once storage reports
//      everything submitted up to the end of (3) durable, send `messages_after_persist`, then
//      call `persisted(i)` where i is storage's last log index after (1)-(3) of that Ready.
//      `persisted` is called exactly once per such Ready, in Ready order, never combined and
//      never for a Ready that wrote nothing. (i is not "the log is durable up to i" in general:
//      after a truncation the entries up to i may be new ones; it names the Ready's end state.)
//      A vote, an epoch acknowledgement or the ACK of a proposal goes in
//      `messages_after_persist`; the plugin never sends a message whose correctness depends on
//      state not yet durable anywhere else.
//   6. Apply `committed` in order: each index exactly once, dense (the next index after the
//      last applied one or the installed snapshot), zxids strictly increasing.
//   7. Resolve `barriers`, then report `status` (if set).
// No input reaches the plugin while a Ready executes: inputs that arise during execution (the
// kernel's own snapshot -> `compacted`, storage completions -> `persisted`) are delivered after
// step 7, in the order they arose.
//
// Zxids. Every committed txn has a 64-bit zxid. The service needs exactly this of them:
// strictly increasing along the committed history, across leader changes and restarts, and the
// same on every replica; so a session's last-seen zxid can be compared with a replica's applied
// zxid ("has this replica applied what the client saw?"). The encoding belongs to the plugin
// (ZAB's is epoch << 32 | counter): the kernel never decodes a zxid. The term/epoch of an entry
// travels beside it (`LogEntry::epoch`, `CommittedTxn::epoch`, `Snapshot::last_epoch`).
//
// Time. `tick()` is one unit of logical time (`PluginContext::tick_ms` of real time). The
// runtime counts ticks from a monotonic clock and delivers every tick that fell due, also the
// ones that fell due while the process was stopped (SIGSTOP, a long GC-like stall, a paused
// simulated node): after a stall the plugin gets the missed ticks in a burst before any
// message received after the stall. So elapsed ticks never under-count real time, and a plugin
// may bound real time from them (a lease). The simulator drives ticks the same way, with
// each node's clock drifting by at most `PluginContext::clock_drift_ppm`.
//
// Determinism: same inputs in the same order give the same outputs. No sockets, threads,
// clocks, files or std::random_device; randomness only from PluginContext::rng (a stream of
// its own per plugin).
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

/// One log entry. `index` is dense from 1; `epoch` is the term of the plugin that created it
/// (ZAB epoch, Raft term); `zxid` is what the entry commits as; `data` is an opaque txn (empty
/// for no-op entries, which are committed but have nothing to apply).
struct LogEntry {
  LogIndex index = 0;
  std::uint64_t epoch = 0;
  Zxid zxid = 0;
  Bytes data;
};

/// State that must survive a crash besides the log, in a protocol-neutral shape: the current
/// term (ZAB currentEpoch, Raft currentTerm), the vote cast in it (Raft votedFor; 0 = none) and
/// bytes only the plugin reads (ZAB keeps acceptedEpoch there). Storage saves it whole.
struct HardState {
  std::uint64_t term = 0;
  NodeId vote = 0;
  Bytes plugin_data;  ///< opaque to the kernel and to storage
  bool operator==(const HardState& o) const {
    return term == o.term && vote == o.vote && plugin_data == o.plugin_data;
  }
  bool operator!=(const HardState& o) const { return !(*this == o); }
};

/// A txn the replica must apply now. Every replica sees the same sequence.
struct CommittedTxn {
  LogIndex index = 0;
  std::uint64_t epoch = 0;  ///< term/epoch of the entry, as in its LogEntry
  Zxid zxid = 0;
  Bytes data;  ///< empty for a no-op entry
};

/// A state-machine snapshot: the serialized tree with sessions, as of `last_index`/`last_zxid`;
/// `last_epoch` is the term/epoch of the entry at `last_index` (what the plugin gave it).
struct Snapshot {
  LogIndex last_index = 0;
  std::uint64_t last_epoch = 0;
  Zxid last_zxid = 0;
  Bytes data;
};

/// The read mechanisms' barriers. A plugin declares the kinds it supports in its descriptor
/// (`PluginDescriptor::barrier_kinds`); asked for another kind it fails the barrier with
/// `BarrierFailure::unsupported`, never serves it as some other kind.
enum class BarrierKind : std::uint8_t {
  sync_op = 0,        ///< ZooKeeper's sync: resolves once the leader committed everything
                      ///< proposed before the barrier reached it
  read_index = 1,     ///< the leader confirms its leadership with a quorum round started after
                      ///< the request, then resolves at its commit point of the request's time
  leader_commit = 2,  ///< the leader's current commit point, no quorum round (what "leader-only
                      ///< reads" see; stale if a partition deposed the leader unnoticed)
  lease = 3,          ///< the leader's commit point while its lease holds, without a message
                      ///< on the leader; when the lease does not hold, a read_index round.
                      ///< The lease rests on bounded clock drift (PluginContext::
                      ///< clock_drift_ppm) and on elapsed ticks never under-counting (Time)
};
constexpr std::size_t kBarrierKindCount = 4;
const char* to_string(BarrierKind k);
/// Bit of `k` in a capability mask (PluginDescriptor::barrier_kinds).
constexpr std::uint32_t barrier_bit(BarrierKind k) {
  return 1u << static_cast<unsigned>(k);
}

/// Why a barrier failed.
enum class BarrierFailure : std::uint8_t {
  none = 0,           ///< it did not fail
  not_leader = 1,     ///< the node that had to answer it is no longer leader
  no_leader = 2,      ///< no leader in the broadcast phase, or the connection to it was lost
  lease_expired = 3,  ///< `lease`: the leader's lease does not hold (not now, or not yet)
  unsupported = 4,    ///< the plugin does not implement this kind
};
const char* to_string(BarrierFailure f);

/// A barrier result: the read may be served once the local replica applied `zxid`.
struct BarrierResult {
  std::uint64_t id = 0;
  bool ok = false;  ///< false: see `failure`; the kernel fails or retries the read
  Zxid zxid = 0;    ///< commit point to wait for
  LogIndex index = 0;
  BarrierFailure failure = BarrierFailure::none;  ///< set when !ok
};

/// Protocol-neutral roles. The plugin's own state for display goes in
/// BroadcastStatus::sub_state ("leading/discovery", "pre-candidate", ...).
enum class Role : std::uint8_t {
  looking,    ///< no leader known and not a candidate (ZAB LOOKING; a Raft follower without
              ///< a leader reports follower with leader 0)
  follower,   ///< a voter following a known leader
  leader,     ///< a leader whose leadership a quorum accepted (may still be catching up)
  learner,    ///< receives the committed log, never votes (ZAB observer, Raft learner)
  candidate,  ///< trying to become leader (Raft candidate and pre-candidate, ZAB LEADING
              ///< before a quorum acknowledged the new epoch)
};
const char* to_string(Role r);

/// Shown by tools (`qlab cluster status`) and compared by the simulator.
struct BroadcastStatus {
  Role role = Role::looking;
  /// The leader this replica recognises: itself when leader, or for a follower/learner the
  /// leader it is in sync with (it has everything that leader committed before it started
  /// following). 0 when unknown or while still catching up. The kernel serves clients only on a
  /// leader that can propose and on a follower/learner with a leader (ZooKeeper's servers run
  /// only within a quorum).
  NodeId leader = 0;
  std::uint64_t epoch = 0;  ///< current epoch / term
  Zxid last_committed_zxid = 0;
  LogIndex commit_index = 0;
  LogIndex last_index = 0;
  bool can_propose = false;  ///< leader that finished recovery and may accept proposals
  std::string sub_state;     ///< the plugin's own state, for display ("leading/discovery")
  /// Read-path counters since start (for `mntr`; not part of equality): quorum rounds this
  /// leader ran to confirm its leadership for read_index barriers (and lease misses), and
  /// lease barriers it answered from its lease (hit) or had to confirm with a round (miss).
  std::uint64_t read_rounds = 0;
  std::uint64_t lease_hits = 0;
  std::uint64_t lease_misses = 0;
  bool operator==(const BroadcastStatus& o) const {
    return role == o.role && leader == o.leader && epoch == o.epoch &&
           last_committed_zxid == o.last_committed_zxid && commit_index == o.commit_index &&
           last_index == o.last_index && can_propose == o.can_propose && sub_state == o.sub_state;
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
  std::optional<BroadcastStatus> status;  ///< set when role, leader, epoch or sub-state changed

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

/// Answer to `transfer_leadership`.
enum class TransferStatus : std::uint8_t {
  started = 0,         ///< this leader transfers its leadership to the target
  unsupported = 1,     ///< the protocol has no leadership transfer (the default)
  not_leader = 2,      ///< this server does not lead (see `leader_hint`)
  not_voter = 3,       ///< the target is not a voting member (an observer/learner, or unknown)
  already_leader = 4,  ///< the target is this leader: nothing to do
};
const char* to_string(TransferStatus s);

struct TransferResult {
  TransferStatus status = TransferStatus::unsupported;
  NodeId leader_hint = 0;  ///< not_leader: who is leader, 0 if unknown
  std::string detail;      ///< one line for the operator, in the plugin's words
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

  /// The writes of one earlier Ready are durable: called once per Ready that wrote anything or
  /// had messages_after_persist, in Ready order, with storage's last log index after that
  /// Ready's writes (see step 5 of the contract above).
  virtual void persisted(LogIndex index) = 0;

  /// The kernel handed storage a snapshot as of `meta.last_index` (data left empty), which is at
  /// or below the last committed index the plugin handed out. Never called while a Ready
  /// executes (the kernel defers it to the end of the Ready that applied the entry). Storage
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

  /// Asks for a barrier. The result appears in a later Ready's `barriers` with the same id,
  /// exactly once (ok, or failed with the reason).
  virtual void request_barrier(std::uint64_t id, BarrierKind kind) = 0;

  /// Operator input (ABI 4): hand the leadership to the voter `target` (Raft thesis 3.10).
  /// Only a leader starts a transfer; it answers at once (`started` or the reason it did not)
  /// and the outcome shows in later status: the target leads (done), or this server still
  /// leads with its own sub-state again (the transfer was given up, e.g. after an election
  /// timeout). While a transfer is under way the plugin may refuse `propose` (accepted =
  /// false, leader_hint 0: the kernel keeps the txns until a leader takes them) but keeps
  /// `can_propose` so the kernel keeps serving its clients; a plugin shows the transfer in
  /// `sub_state`. A second call while one is under way restarts it towards the new target.
  /// Deterministic like every input. The default refuses: the protocol has no transfer.
  virtual TransferResult transfer_leadership(NodeId target) {
    (void)target;
    return TransferResult{TransferStatus::unsupported, 0,
                          "this broadcast protocol does not support leadership transfer"};
  }

  /// True if a call to ready() would return a non-empty batch.
  virtual bool has_ready() const = 0;

  /// Hands over the pending batch (see the file comment); the next one starts empty.
  virtual Ready ready() = 0;

  virtual BroadcastStatus status() const = 0;

  /// Checks internal invariants on the current state and on the step from the state at the
  /// previous call (LogCabin's checkBasic/checkDelta). Returns an empty string when all hold,
  /// otherwise a description of the first violation.
  virtual std::string check_invariants() = 0;
};

}  // namespace quorumlab
