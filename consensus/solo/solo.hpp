// `solo`: a one-member "protocol" that commits a txn as soon as storage says it is durable.
// The unreplicated baseline of every experiment; it exercises the whole plugin contract
// (restore, propose, persisted, barriers, Ready) with none of the replication.
//
// Zxids: ZAB's encoding (consensus/epoch_zxid.hpp). epoch = (recovered term + 1), so every
// restart begins a new epoch and new zxids are larger than every recovered one; counter from 1.
// When the counter would overflow the plugin starts the next epoch. The hard state's term is
// that epoch.
//
// Barriers: every kind. The only member is always the leader and cannot be deposed, so
// read_index needs no quorum round and the lease always holds: each resolves once everything
// proposed before it is committed.
#pragma once

#include <deque>

#include "quorumlab/consensus/epoch_zxid.hpp"
#include "quorumlab/plugin/descriptor.hpp"

namespace quorumlab::solo {

using consensus::make_zxid;
using consensus::zxid_epoch;

/// Barrier kinds solo implements: all of them.
constexpr std::uint32_t kBarrierKinds =
    barrier_bit(BarrierKind::sync_op) | barrier_bit(BarrierKind::read_index) |
    barrier_bit(BarrierKind::leader_commit) | barrier_bit(BarrierKind::lease);

class Solo final : public Broadcast {
 public:
  explicit Solo(PluginContext& ctx);

  void restore(const RecoveredLog& log) override;
  void set_snapshot_source(SnapshotSource*) override {}
  void step(const PeerMessage& message) override;
  void tick() override {}
  ProposeResult propose(const std::vector<Bytes>& txns) override;
  void persisted(LogIndex index) override;
  void compacted(const Snapshot&) override {}
  void request_barrier(std::uint64_t id, BarrierKind kind) override;
  bool has_ready() const override { return !pending_.empty(); }
  Ready ready() override;
  BroadcastStatus status() const override;
  std::string check_invariants() override;

 private:
  void commit_upto(LogIndex index);

  PluginContext& ctx_;
  std::uint32_t epoch_ = 0;
  std::uint32_t counter_ = 0;
  LogIndex last_index_ = 0;
  LogIndex durable_index_ = 0;
  LogIndex commit_index_ = 0;
  Zxid last_committed_zxid_ = 0;
  std::deque<LogEntry> uncommitted_;  ///< appended, not yet durable
  struct Barrier {
    std::uint64_t id;
    LogIndex index;
    Zxid zxid;
  };
  std::deque<Barrier> barriers_;
  Ready pending_;
  // For check_invariants' delta checks.
  LogIndex prev_commit_index_ = 0;
  Zxid prev_committed_zxid_ = 0;
};

}  // namespace quorumlab::solo
