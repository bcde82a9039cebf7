// `raft`: the Raft consensus algorithm as a deterministic broadcast plugin (no I/O).
//
// Specification: Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm"
// (ATC'14, Figure 2) and Ongaro's thesis (Stanford 2014). Where each part lives:
//   election      3.4 leader election, randomized timeouts; 9.6 PreVote; 4.2.3/6.2 CheckQuorum
//                 (a follower that heard from a leader within the minimum election timeout
//                 ignores RequestVote; a leader without a quorum for an election timeout
//                 steps down)                                              src/election.cpp
//   replication   3.5 AppendEntries with the log-matching check, 3.6.2 commit only of entries
//                 of the leader's term, the leader's no-op entry (6.4), fast backtracking by
//                 conflicting term, Probe/Replicate progress with a bounded in-flight window
//                 per follower (as etcd-raft)                              src/replication.cpp
//   snapshots     5.3 InstallSnapshot from the kernel's SnapshotSource, in chunks
//                                                                          src/snapshot.cpp
//   read_only     6.4 barriers: sync_op, read_index (a heartbeat round after the leader
//                 committed an entry of its term), leader_commit; 6.4.1 lease (with
//                 check_quorum only, see lease_period_ticks)                src/read_only.cpp
//   transfer      3.10 leadership transfer: the leader stops taking proposals, brings the
//                 target up to date, sends TimeoutNow; the target campaigns at once (no
//                 PreVote, its RequestVote carries the transfer flag that check_quorum's
//                 refusal lets through); given up after an election timeout. The leader
//                 gives up its lease first: the flag bypasses the guard the lease rests on
//                                                                          src/transfer.cpp
//   invariants    election safety, log matching, leader append-only, commit monotonic
//                                                                          src/invariants.cpp
// See consensus/raft/design.md for the state diagram.
//
// Zxids: zxid = term << 40 | index (kZxidIndexBits). Along a Raft log the term never decreases
// and the index increases, so zxids increase strictly along the committed log, across leader
// changes and truncations; an entry is identified by (index, term), so every replica gives it
// the same zxid. Limits: index < 2^40, term < 2^24; a leader refuses proposals beyond them.
//
// Persistence (Figure 2 "persistent state"): currentTerm and votedFor are the neutral
// HardState's `term` and `vote` (plugin_data unused). Every message whose correctness depends on
// them or on appended entries (RequestVote of a candidate, a vote, an AppendEntries or
// InstallSnapshot response) goes in Ready::messages_after_persist. The leader counts its own
// log towards the commit point only as far as persisted() says it is durable.
//
// Learners are the membership's observers: they receive the log and serve clients, never vote,
// never campaign, and do not count in quorums.
//
// Roles in status(): follower (leader 0 while it knows no leader or has not yet accepted an
// AppendEntries of the current leader), candidate (sub_state "candidate" or "pre-candidate"),
// leader (can_propose once an entry of its term committed), learner.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quorumlab/consensus/lease.hpp"
#include "quorumlab/consensus/memory_log.hpp"
#include "quorumlab/consensus/persist_tracker.hpp"
#include "quorumlab/params.hpp"
#include "quorumlab/plugin/broadcast.hpp"
#include "quorumlab/plugin/context.hpp"
#include "quorumlab/raft/wire.hpp"

namespace quorumlab::raft {

constexpr unsigned kZxidIndexBits = 40;
constexpr LogIndex kMaxIndex = (LogIndex{1} << kZxidIndexBits) - 1;
constexpr std::uint64_t kMaxTerm = (std::uint64_t{1} << (64 - kZxidIndexBits)) - 1;
constexpr Zxid make_zxid(std::uint64_t term, LogIndex index) {
  return (term << kZxidIndexBits) | index;
}
constexpr std::uint64_t zxid_term(Zxid z) {
  return z >> kZxidIndexBits;
}

/// The barrier kinds raft implements (its descriptor's capabilities). `lease` only with
/// check_quorum (barrier_unavailable says so; asked without it, the barrier fails unsupported).
constexpr std::uint32_t kBarrierKinds =
    barrier_bit(BarrierKind::sync_op) | barrier_bit(BarrierKind::read_index) |
    barrier_bit(BarrierKind::leader_commit) | barrier_bit(BarrierKind::lease);

/// Resolved parameters. Times are in kernel ticks (PluginContext::tick_ms, 10 ms by default).
struct RaftConfig {
  std::int64_t election_timeout_min_ticks = 15;
  std::int64_t election_timeout_max_ticks = 30;
  std::int64_t heartbeat_interval_ticks = 3;
  bool prevote = false;
  bool check_quorum = false;
  /// "Raft Refloated" (Howard et al. 2015): a (pre-)candidate's timeout range, 0 = the
  /// election timeout's; and exponential back-off of a candidate that keeps failing.
  std::int64_t candidate_timeout_min_ticks = 0;
  std::int64_t candidate_timeout_max_ticks = 0;
  bool candidate_backoff = false;
  /// A follower or candidate that learns a higher term from a RequestVote or a vote response
  /// restarts its election timer (as etcd-raft does). false: it keeps the timer running, as in
  /// the paper's Figure 2 (reset only by the current leader or a vote it grants).
  bool higher_term_resets_timer = true;
  std::int64_t max_inflight_msgs = 64;
  std::int64_t max_entries_per_msg = 256;
  std::int64_t max_bytes_per_msg = 512 * 1024;
  std::int64_t max_snapshot_chunk_bytes = 1 << 20;

  /// Every key of param_schema() from `params`; missing keys keep the values of `defaults`.
  static RaftConfig from(const Params& params, const RaftConfig& defaults);
  static RaftConfig from(const Params& params) { return from(params, RaftConfig{}); }
};

/// The descriptor's barrier_unavailable: lease needs check_quorum.
std::string barrier_unavailable(const Params& params, BarrierKind kind);

/// The leader's lease (thesis 6.4.1) is consensus::lease_period_ticks (consensus/lease.hpp)
/// with election_timeout_min_ticks as the guard: with check_quorum a voter that heard from a
/// leader refuses votes, for others and itself, for that long (vote_guarded), also after a
/// restart and after the transport reported the leader disconnected. With check_quorum every
/// heartbeat is a round; a quorum's acknowledgement of round r extends the lease to the tick r
/// was sent plus the period. Leadership transfer (TimeoutNow) bypasses the vote refusal, so a
/// leader gives up its lease before it starts one.

/// Parameter schema with `defaults` as the defaults (the presets differ only there).
std::vector<ParamSpec> param_schema(const RaftConfig& defaults = {});

/// Builds the plugin. Throws ConfigError if `ctx.self` is not in the membership.
std::unique_ptr<Broadcast> make_raft(PluginContext& ctx, const RaftConfig& defaults = {});

/// The leader's view of one follower or learner (etcd-raft's Progress).
struct Progress {
  enum class Mode : std::uint8_t { probe, replicate, snapshot };
  Mode mode = Mode::probe;
  LogIndex match = 0;                  ///< highest index known durable and matching on the peer
  LogIndex next = 1;                   ///< next index to send
  bool probe_sent = false;             ///< probe: an AppendEntries is outstanding, wait
  std::deque<LogIndex> inflight;       ///< replicate: last index of each unacknowledged message
  bool recent_active = false;          ///< heard from it in this check-quorum window
  std::int64_t ticks_since_heard = 0;  ///< ticks since its last response (compaction)
  bool maintenance_due = false;        ///< a periodic heartbeat's answer is still to come
  LogIndex match_at_heartbeat = 0;     ///< match at the previous heartbeat response
  // snapshot mode: the snapshot being sent and the offset the peer expects next
  std::shared_ptr<const Snapshot> snapshot;
  std::uint64_t snapshot_offset = 0;
};

const char* to_string(Progress::Mode m);

class RaftBroadcast final : public Broadcast {
 public:
  enum class State : std::uint8_t { follower, pre_candidate, candidate, leader };

  RaftBroadcast(PluginContext& ctx, const RaftConfig& defaults);
  ~RaftBroadcast() override;

  // ---- Broadcast ---------------------------------------------------------------------------
  void restore(const RecoveredLog& log) override;
  void set_snapshot_source(SnapshotSource* source) override { snapshot_source_ = source; }
  void step(const PeerMessage& message) override;
  void tick() override;
  ProposeResult propose(const std::vector<Bytes>& txns) override;
  void persisted(LogIndex index) override;
  void compacted(const Snapshot& meta) override;
  void request_barrier(std::uint64_t id, BarrierKind kind) override;
  /// The transport lost the leader: forget it and campaign after a random part of the
  /// election timeout's spread (0 .. max - min ticks) instead of a whole timeout.
  void peer_disconnected(NodeId peer) override;
  /// 3.10: see src/transfer.cpp. `started` only on a leader, for another voter.
  TransferResult transfer_leadership(NodeId target) override;
  bool has_ready() const override;
  Ready ready() override;
  BroadcastStatus status() const override;
  std::string check_invariants() override;

  // ---- introspection for tests and tools ---------------------------------------------------
  State state() const { return state_; }
  std::uint64_t term() const { return term_; }
  NodeId voted_for() const { return vote_; }
  NodeId leader_id() const { return leader_id_; }
  LogIndex commit_index() const { return commit_index_; }
  const consensus::MemoryLog& log() const { return log_; }
  const RaftConfig& config() const { return cfg_; }
  /// Leader: the voter it is handing its leadership to (3.10), 0 when none.
  NodeId transfer_target() const { return transfer_target_; }
  /// The leader's progress for `peer` (nullptr when not leader or not a peer).
  const Progress* progress(NodeId peer) const;
  static const char* to_string(State s);

 private:
  // ---- core (raft.cpp) ---------------------------------------------------------------------
  void send(NodeId to, wire::Message m, bool after_persist = false);
  void append_entry(LogEntry entry);
  void truncate_log(LogIndex index);
  void install_snapshot(const Snapshot& snapshot);
  void save_hard_state();
  void commit_to(LogIndex index);
  bool is_voter(NodeId id) const { return ctx_.membership.is_voter(id); }
  LogIndex stable_index() const;
  /// Compacts the in-memory log towards compact_pending_, keeping what a live peer still needs.
  void maybe_compact();
  bool committed_in_term() const;  ///< an entry of the current term is committed
  void trace(TraceKind kind, NodeId peer, Zxid zxid, std::string detail = {}) const;
  bool status_changed() const;
  void dispatch(NodeId from, const wire::Message& m);

  // ---- election (election.cpp) -------------------------------------------------------------
  bool in_lease() const;
  /// check_quorum: we may belong to a leader's lease quorum (heard from a leader, or restarted,
  /// within election_timeout_min_ticks): no vote for anyone, ourselves included.
  bool vote_guarded() const;
  bool ignore_for_term(NodeId from, const wire::Message& m);
  void become_follower(std::uint64_t term, NodeId leader);
  void become_pre_candidate();
  /// `transfer`: started by the leader's TimeoutNow (3.10): the RequestVotes carry the flag.
  void become_candidate(bool transfer = false);
  void become_leader();
  void campaign();
  void reset_election_timer();
  bool log_up_to_date(LogIndex last_index, std::uint64_t last_term) const;
  void on_request_vote(NodeId from, const wire::Message& m);
  void on_vote_response(NodeId from, const wire::Message& m);
  void election_tick();

  // ---- leadership transfer (transfer.cpp) ---------------------------------------------------
  /// Leader: sends TimeoutNow once the target's match index reached our last index.
  void maybe_send_timeout_now();
  void abort_transfer(const std::string& why);
  void transfer_tick();
  void on_timeout_now(NodeId from, const wire::Message& m);

  // ---- replication (replication.cpp) -------------------------------------------------------
  bool send_append(NodeId to, bool send_if_empty);
  void broadcast_append(bool send_if_empty);
  /// Heartbeats to every peer; `periodic` (the heartbeat interval's, not a read round's) also
  /// makes the answers do the progress upkeep (Progress::maintenance_due).
  void broadcast_heartbeat(bool periodic);
  void maybe_commit();
  void on_append_entries(NodeId from, const wire::Message& m);
  void on_append_response(NodeId from, const wire::Message& m);
  void on_heartbeat(NodeId from, const wire::Message& m);
  void on_heartbeat_response(NodeId from, const wire::Message& m);
  void heard_from_leader(NodeId from);
  void leader_tick();
  bool quorum_active() const;

  // ---- snapshots (snapshot.cpp) ------------------------------------------------------------
  void send_snapshot(NodeId to, Progress& p);
  void send_snapshot_chunk(NodeId to, Progress& p);
  void on_install_snapshot(NodeId from, const wire::Message& m);
  void on_install_snapshot_response(NodeId from, const wire::Message& m);

  // ---- read-only queries (read_only.cpp) ---------------------------------------------------
  struct PendingBarrier {
    std::uint64_t id = 0;
    NodeId origin = 0;  ///< self, or the follower that forwarded it
    BarrierKind kind = BarrierKind::sync_op;
    bool started = false;  ///< target/round set (after an entry of the term committed)
    LogIndex target = 0;
    Zxid target_zxid = 0;     ///< taken with the target: the entry may be compacted later
    std::uint64_t round = 0;  ///< read_index: heartbeat round that must confirm leadership
  };
  struct ForwardedBarrier {
    BarrierKind kind = BarrierKind::sync_op;
    NodeId leader = 0;
    std::uint64_t ticks = 0;
  };
  void leader_barrier(PendingBarrier b);
  void resolve_barriers();
  void finish_barrier(std::uint64_t id, NodeId origin, bool ok, LogIndex index, Zxid zxid,
                      BarrierFailure failure);
  void fail_leader_barriers(BarrierFailure failure);
  void fail_forwarded_barriers(BarrierFailure failure);
  void on_barrier_request(NodeId from, const wire::Message& m);
  void on_barrier_response(NodeId from, const wire::Message& m);
  void barrier_tick();
  std::uint64_t confirmed_round() const;
  /// A quorum acknowledged more rounds: extend the lease from the round's send tick.
  void round_confirmed();
  bool lease_valid() const {
    return state_ == State::leader && !lease_given_up_ && ticks_ < lease_until_tick_;
  }

  // ---- invariants (invariants.cpp) ---------------------------------------------------------
  std::string check_basic() const;
  std::string check_delta() const;
  void remember_for_delta();

  // ---- context -----------------------------------------------------------------------------
  PluginContext& ctx_;
  RaftConfig cfg_;
  NodeId self_;
  bool learner_;
  SnapshotSource* snapshot_source_ = nullptr;
  std::shared_ptr<spdlog::logger> logger_;
  bool restored_ = false;

  // ---- persistent state (Figure 2) ---------------------------------------------------------
  std::uint64_t term_ = 0;  ///< currentTerm
  NodeId vote_ = 0;         ///< votedFor
  consensus::MemoryLog log_;
  consensus::PersistTracker persist_;
  LogIndex storage_last_index_ = 0;
  LogIndex compact_pending_ = 0;  ///< the kernel's last snapshot point (compacted())

  // ---- volatile state ----------------------------------------------------------------------
  LogIndex commit_index_ = 0;  ///< committed and handed to the kernel (or in a snapshot)
  State state_ = State::follower;
  NodeId leader_id_ = 0;
  bool leader_matched_ = false;  ///< follower: accepted an AppendEntries of leader_id_
  std::int64_t election_elapsed_ = 0;
  std::int64_t randomized_timeout_ = 0;
  std::uint32_t failed_elections_ = 0;  ///< elections started since we last saw a leader
  std::int64_t heartbeat_elapsed_ = 0;
  std::int64_t ticks_since_leader_ = 1 << 30;  ///< since a message of a current leader
  std::map<NodeId, bool> votes_;               ///< (pre-)candidate: responses by voter

  // ---- leader ------------------------------------------------------------------------------
  std::map<NodeId, Progress> progress_;
  NodeId transfer_target_ = 0;         ///< 3.10: handing leadership to it, 0 when not
  std::int64_t transfer_elapsed_ = 0;  ///< ticks since the transfer started
  bool timeout_now_sent_ = false;      ///< TimeoutNow went to transfer_target_

  // ---- follower: a snapshot being received in chunks ---------------------------------------
  struct IncomingSnapshot {
    NodeId leader = 0;
    std::uint64_t term = 0;
    Snapshot meta;  ///< data accumulates here
  };
  std::optional<IncomingSnapshot> incoming_;

  // ---- barriers ----------------------------------------------------------------------------
  std::vector<PendingBarrier> barriers_;
  std::map<NodeId, std::uint64_t> round_acks_;  ///< highest read round each voter echoed
  std::uint64_t read_round_ = 0;
  bool read_round_wanted_ = false;  ///< a barrier waits for a round not yet started
  std::map<std::uint64_t, ForwardedBarrier> forwarded_;
  std::uint64_t ticks_ = 0;       ///< ticks since start (the leader's lease clock)
  std::int64_t lease_ticks_ = 0;  ///< lease_period_ticks for our config and drift bound
  std::map<std::uint64_t, std::uint64_t> round_sent_tick_;  ///< unconfirmed round -> ticks_
  std::uint64_t lease_until_tick_ = 0;                      ///< the lease holds while ticks_ < this
  bool lease_given_up_ = false;  ///< a transfer started in this term: no lease
  std::uint64_t read_rounds_ = 0, lease_hits_ = 0, lease_misses_ = 0;  ///< status() counters

  // ---- output ------------------------------------------------------------------------------
  Ready pending_;
  BroadcastStatus reported_status_;
  bool status_reported_ = false;

  // ---- invariant baseline ------------------------------------------------------------------
  struct Baseline {
    bool valid = false;
    std::uint64_t term = 0;
    NodeId vote = 0;
    State state = State::follower;
    LogIndex commit_index = 0;
    Zxid commit_zxid = 0;
    LogIndex last_index = 0;
    std::uint64_t last_term = 0;
  };
  Baseline prev_;
  mutable LogIndex verified_index_ = 0;
  std::uint64_t internal_errors_ = 0;
  std::string last_internal_error_;
};

}  // namespace quorumlab::raft
