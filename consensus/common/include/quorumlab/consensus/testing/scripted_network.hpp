// ScriptedNetwork: N broadcast plugins in one thread, driven step by step by a test.
//
// It plays the kernel for every node with the kernel's own Ready executor
// (quorumlab/replica/ready_executor.hpp, the one the node runtime uses) on the project's one
// in-memory disk model (quorumlab/replica/memory_disk.hpp), and plays the network between them:
//
//   * Each node has a durable disk (hard state, snapshot, log after the snapshot) and a
//     storage view (everything written, durable or not). A Ready's writes are volatile until an
//     fsync completes (at once with auto-persist, or when the test calls complete_persist; one
//     fsync covers every write submitted before it started); then the Ready's
//     messages_after_persist are sent and the plugin gets persisted(). Readies complete in order.
//   * Messages go into one in-flight list. The test delivers, drops, duplicates or reorders
//     specific messages, or blocks links (partitions). Nothing moves unless the test says so.
//   * crash() loses the plugin, the pending batches and the state machine; restart() builds a
//     new plugin from the factory and restores it from the disk (snapshot + durable entries).
//   * The state machine of each node is the list of applied txns. A SnapshotSource per node
//     serializes that list; a received snapshot replaces it.
//   * compact() plays the kernel's own snapshot: it hands the applied state to the executor
//     (storage, then the plugin's compacted()) and completes the fsyncs that make it durable.
//
// After every step (each public call that feeds a plugin) it checks, and throws
// InvariantViolation on the first failure:
//   * every live node's check_invariants() is empty;
//   * at most one leader per epoch over the whole run;
//   * each node applies txns with dense indexes and strictly increasing zxids (the executor's
//     contract checks), and only txns that are in its own log (storage view), with its epoch;
//   * everything applied anywhere agrees with one global history: same index, same zxid and
//     data on every node, zxids strictly increasing with the index;
//   * a received snapshot agrees with the history and never rolls back applied txns;
//   * each barrier id resolves at most once, only if it was asked in this incarnation, and an
//     ok barrier names a point of the history;
//   * storage contract: appends are dense, truncations never cut below the snapshot.
//
// Protocol-agnostic: it only uses the Broadcast interface. Used by the ZAB and Raft tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "quorumlab/consensus/memory_log.hpp"
#include "quorumlab/consensus/testing/recording_tracer.hpp"
#include "quorumlab/plugin/broadcast.hpp"
#include "quorumlab/plugin/context.hpp"
#include "quorumlab/replica/memory_disk.hpp"

namespace quorumlab::consensus::testing {

/// Thrown when a check fails. The message names the check, the node and the step.
class InvariantViolation : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What survives a crash: the project's one disk model (quorumlab/replica/memory_disk.hpp).
using DurableDisk = replica::DiskImage;

/// One txn of a node's state machine.
struct AppliedTxn {
  LogIndex index = 0;
  std::uint64_t epoch = 0;
  Zxid zxid = 0;
  Bytes data;
  bool operator==(const AppliedTxn& o) const {
    return index == o.index && epoch == o.epoch && zxid == o.zxid && data == o.data;
  }
};

/// The harness's snapshot format: the applied list, serialized.
Bytes encode_applied(const std::vector<AppliedTxn>& txns);
/// Throws InvariantViolation on malformed input.
std::vector<AppliedTxn> decode_applied(const Bytes& data);

/// One message in flight.
struct Envelope {
  std::uint64_t id = 0;
  NodeId from = 0;
  NodeId to = 0;
  Bytes payload;
};

using BroadcastFactory = std::function<std::unique_ptr<Broadcast>(PluginContext&)>;

class ScriptedNetwork {
 public:
  struct Options {
    Membership membership;   ///< voters and observers, sorted
    Params params;           ///< resolved plugin parameters
    std::uint64_t seed = 1;  ///< per-node RNG streams are forked from it
    std::string logger_name = "consensus";
    bool trace = true;  ///< record trace events per node
    /// Bound on Readies drained after one input (a plugin that never quiesces is a bug).
    std::size_t max_readies_per_step = 10000;
  };

  ScriptedNetwork(BroadcastFactory factory, Options options);
  ~ScriptedNetwork();
  ScriptedNetwork(const ScriptedNetwork&) = delete;
  ScriptedNetwork& operator=(const ScriptedNetwork&) = delete;

  // ---- setup -------------------------------------------------------------------------------
  /// Before start(): the node starts from this disk instead of an empty one.
  void preload(NodeId id, DurableDisk disk);
  /// Builds and restores every node. Call once.
  void start();

  // ---- nodes -------------------------------------------------------------------------------
  const std::vector<NodeId>& ids() const { return ids_; }
  const Membership& membership() const { return options_.membership; }
  bool is_up(NodeId id) const;
  /// The live plugin (for test hooks). Throws if the node is down.
  Broadcast& plugin(NodeId id);
  BroadcastStatus status(NodeId id) const;  ///< last status of a down node
  const std::vector<AppliedTxn>& applied(NodeId id) const;
  const DurableDisk& disk(NodeId id) const;
  /// The storage view: everything written, durable or not.
  const MemoryLog& storage_log(NodeId id) const;
  const std::vector<BarrierResult>& barriers(NodeId id) const;  ///< all results, in order
  std::optional<BarrierResult> barrier(NodeId id, std::uint64_t barrier_id) const;
  RecordingTracer& tracer(NodeId id);                ///< kept across restarts
  std::size_t snapshots_installed(NodeId id) const;  ///< Ready.snapshot received
  /// The up node whose status says leader and can_propose, with the highest epoch.
  std::optional<NodeId> leader() const;
  /// One line per node: role, leader, epoch, commit, last, applied.
  std::string describe() const;

  // ---- time --------------------------------------------------------------------------------
  void tick(NodeId id);
  void tick_all();

  // ---- messages ----------------------------------------------------------------------------
  const std::deque<Envelope>& in_flight() const { return flight_; }
  /// Ids of in-flight messages, oldest first; 0 for from/to means any.
  std::vector<std::uint64_t> messages(NodeId from = 0, NodeId to = 0) const;
  /// Ids of in-flight messages whose payload satisfies `pred`.
  std::vector<std::uint64_t> messages_where(const std::function<bool(const Envelope&)>& pred) const;
  const Envelope* find(std::uint64_t id) const;
  /// Delivers one message (removing it). Dropped if the target is down or the link blocked.
  /// Returns true if the target's plugin got it.
  bool deliver(std::uint64_t id);
  void drop(std::uint64_t id);
  /// Puts a copy at the end of the in-flight list; returns its id.
  std::uint64_t duplicate(std::uint64_t id);
  /// Puts a message no plugin sent at the end of the in-flight list (a forged or corrupted
  /// payload, for fuzzing a plugin's step); returns its id.
  std::uint64_t inject(NodeId from, NodeId to, Bytes payload);
  /// Delivers the oldest message on from->to. False if there is none.
  bool deliver_next(NodeId from, NodeId to);
  /// Delivers in FIFO order until nothing is in flight (or `max` deliveries). Returns count.
  std::size_t deliver_all(std::size_t max = 100000);
  /// Drops every message matching from/to (0 = any). Returns count.
  std::size_t drop_all(NodeId from = 0, NodeId to = 0);

  // ---- links -------------------------------------------------------------------------------
  void block(NodeId from, NodeId to);
  void unblock(NodeId from, NodeId to);
  /// Blocks both directions between `id` and everyone else.
  void isolate(NodeId id);
  /// Blocks every link between different groups; nodes in no group are isolated.
  void partition(const std::vector<std::vector<NodeId>>& groups);
  void heal();
  bool link_up(NodeId from, NodeId to) const;

  // ---- persistence -------------------------------------------------------------------------
  void set_auto_persist(NodeId id, bool on);
  void set_auto_persist_all(bool on);
  /// Readies of `id` whose writes are not yet durable.
  std::size_t pending_persist(NodeId id) const;
  /// Completes up to `fsyncs` fsyncs of `id`, in order. Group commit: one fsync makes every
  /// write submitted before it started durable, which may finish several Readies.
  void complete_persist(NodeId id, std::size_t fsyncs = static_cast<std::size_t>(-1));

  // ---- faults ------------------------------------------------------------------------------
  /// Loses the plugin, its pending batches and its state machine. Messages it sent stay in
  /// flight; messages to it are dropped while it is down.
  void crash(NodeId id);
  /// A new plugin restored from the disk.
  void restart(NodeId id);
  /// Tells `id` that its transport lost the connection to `peer` (Broadcast::peer_disconnected),
  /// as the runtime does when a peer's process dies.
  void peer_disconnected(NodeId id, NodeId peer);

  // ---- client operations -------------------------------------------------------------------
  ProposeResult propose(NodeId id, const std::vector<Bytes>& txns);
  void request_barrier(NodeId id, std::uint64_t barrier_id, BarrierKind kind);
  /// The operator's leadership transfer (Broadcast::transfer_leadership) on node `id`.
  TransferResult transfer_leadership(NodeId id, NodeId target);
  /// The kernel's own snapshot of the applied state (see the file comment).
  void compact(NodeId id);

  // ---- driving -----------------------------------------------------------------------------
  /// deliver_all() then tick_all().
  void round();
  /// Runs rounds until `pred` holds (checked before each round). False after `max_rounds`.
  bool run_until(const std::function<bool()>& pred, std::size_t max_rounds);

  // ---- checks ------------------------------------------------------------------------------
  /// Runs every check now (they also run after every step).
  void check();
  std::uint64_t steps() const { return steps_; }
  /// Index -> txn of everything applied anywhere so far.
  const std::map<LogIndex, AppliedTxn>& history() const { return history_; }

 private:
  struct Node;
  class Source;
  class ViewStorage;
  class Host;

  Node& node(NodeId id);
  const Node& node(NodeId id) const;
  void boot(Node& n);
  void pump(Node& n);
  void drain_ready(Node& n);
  void complete_one(Node& n);
  void send(NodeId from, const PeerMessage& m, const char* where);
  void apply_committed(Node& n, const CommittedTxn& c);
  void install_snapshot(Node& n, const Snapshot& s);
  void record_history(const AppliedTxn& t, NodeId by);
  void after_step(const char* what, NodeId id);
  [[noreturn]] void violation(const std::string& what) const;

  BroadcastFactory factory_;
  Options options_;
  std::vector<NodeId> ids_;
  std::map<NodeId, std::unique_ptr<Node>> nodes_;
  std::deque<Envelope> flight_;
  std::set<std::pair<NodeId, NodeId>> blocked_;
  std::map<std::uint64_t, NodeId> leader_of_epoch_;
  std::map<LogIndex, AppliedTxn> history_;
  std::uint64_t next_message_id_ = 1;
  std::uint64_t steps_ = 0;
  bool started_ = false;
  std::string current_step_;
};

}  // namespace quorumlab::consensus::testing
