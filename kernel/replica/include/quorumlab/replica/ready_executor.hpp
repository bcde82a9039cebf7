// The one Ready executor: carries out a broadcast plugin's Ready batches exactly as the
// ordering contract in quorumlab/plugin/broadcast.hpp says. The node runtime, the simulator
// (through the node) and the scripted test network (consensus/common) all execute Readies
// here, so a plugin that passes its scripted tests behaves the same in a node.
//
// What it does itself: storage writes (install, truncate, append, hard state), flush tickets,
// messages_after_persist held until their ticket is durable, persisted() once per writing
// Ready in Ready order, the applied position, and the contract checks on `committed`
// (dense indexes, increasing zxids). What it leaves to its host (ReplicaHost): sending,
// restoring the state machine from a snapshot, applying a txn, barriers, status.
//
// No re-entry: while a Ready executes the plugin gets no input. A snapshot the host takes while
// applying (compact()) reaches storage at once but the plugin's compacted() only after the
// Ready; persisted() calls happen between Readies.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "quorumlab/plugin/broadcast.hpp"
#include "quorumlab/plugin/storage.hpp"

namespace quorumlab::replica {

/// The effects of a Ready the executor cannot carry out itself.
class ReplicaHost {
 public:
  virtual ~ReplicaHost() = default;
  /// Sends a peer message (best effort).
  virtual void send(const PeerMessage& message) = 0;
  /// Replaces the state machine by `snapshot` (its data). applied() is already the snapshot's
  /// position; storage is handled by the executor.
  virtual void restore_snapshot(const Snapshot& snapshot) = 0;
  /// Applies one committed entry (empty data: a no-op entry). Called in order, each index
  /// once, after the executor checked the contract. May call ReadyExecutor::compact.
  virtual void apply(const CommittedTxn& txn) = 0;
  virtual void barrier_resolved(const BarrierResult& result) = 0;
  virtual void status_changed(const BroadcastStatus& status) = 0;
  /// The plugin broke the contract (a committed index out of order, a zxid that does not
  /// increase). The executor skips the offending item after calling this. A node logs it; the
  /// scripted network throws.
  virtual void contract_violation(const std::string& what) = 0;
};

/// The applied position of the state machine.
struct AppliedPosition {
  LogIndex index = 0;
  std::uint64_t epoch = 0;  ///< term/epoch of the last applied entry, as the plugin gave it
  Zxid zxid = 0;
};

class ReadyExecutor {
 public:
  ReadyExecutor(Broadcast& plugin, Storage& storage, ReplicaHost& host);

  /// After recovery: the state machine is at `applied` (the recovered snapshot or nothing) and
  /// storage's last index is `storage_last_index`.
  void reset(AppliedPosition applied, LogIndex storage_last_index);

  /// Completes durable persist waits and executes Readies until the plugin has none (or
  /// `max_readies` were executed; returns false then).
  bool drain(std::size_t max_readies = 1000);

  /// Storage made more tickets durable: sends the held messages and calls persisted() for
  /// every Ready whose writes are now durable, in order. Does nothing while a Ready executes
  /// (drain picks them up).
  void complete_persisted();

  /// The host's own snapshot of the state machine (as of the applied position, with data):
  /// handed to storage now, and the plugin's compacted() is called now or, during a Ready,
  /// right after it.
  void compact(Snapshot snapshot);

  const AppliedPosition& applied() const { return applied_; }
  LogIndex storage_last_index() const { return storage_last_index_; }
  /// Readies whose writes wait for durability.
  std::size_t persist_waiting() const { return waits_.size(); }
  bool executing() const { return executing_; }

 private:
  struct PersistWait {
    std::uint64_t ticket = 0;
    LogIndex index = 0;
    std::vector<PeerMessage> messages;
  };

  void execute(Ready& ready);
  void apply(const CommittedTxn& txn);
  void after_ready();

  Broadcast& plugin_;
  Storage& storage_;
  ReplicaHost& host_;
  AppliedPosition applied_;
  LogIndex storage_last_index_ = 0;
  std::deque<PersistWait> waits_;
  std::vector<Snapshot> deferred_compactions_;  ///< metadata only
  bool executing_ = false;
};

}  // namespace quorumlab::replica
