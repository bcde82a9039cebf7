// `zab`: ZooKeeper's atomic broadcast protocol as a deterministic state machine (no I/O).
//
// Phases (QuorumPeer.ZabState) and where they live:
//   election         Fast Leader Election, votes ordered by (peer epoch, zxid, server id)
//                                                                          src/election.cpp
//   discovery        FOLLOWERINFO/OBSERVERINFO, LEADERINFO(new epoch = max accepted + 1),
//                    ACKEPOCH                                              src/discovery.cpp
//   synchronization  DIFF / TRUNC / TRUNC+DIFF / SNAP, NEWLEADER, quorum ACK, UPTODATE
//                                                                          src/synchronization.cpp
//   broadcast        PROPOSAL, ACK, COMMIT in zxid order, INFORM to observers, PING
//                                                                          src/broadcast.cpp
//   barriers         sync_op (ZooKeeper's sync), read_index, leader_commit, and lease
//                    (with lease=true)                                    src/barriers.cpp
//
// Lease (lease=true, for the read policy `lease`; not in ZooKeeper). The guard: a voter that
// received a packet of its leader neither starts nor joins an election (it sends and answers
// no LOOKING notification) until sync_limit_ticks passed since that packet, also after the
// transport reported the leader disconnected and after a restart (it waits sync_limit_ticks
// first). The leader's lease: every PING starts a round; once a quorum of voters echoed round
// r, sent at tick T_r, the leader serves lease barriers at its commit point without a message
// while its tick count is below T_r + lease, where
//   lease = floor((sync_limit_ticks - 1) * (1e6 - clock_drift_ppm) / (1e6 + clock_drift_ppm))
// (consensus/lease.hpp states the formula and why it is safe; 28 ticks with the defaults).
// The price: a follower that loses its leader through a disconnect notice waits out
// sync_limit_ticks since its last packet before it elects another (failover takes about
// sync_limit_ticks x tick_ms instead of a few ticks), and a restarted server joins elections
// sync_limit_ticks late.
// See consensus/zab/design.md for the state diagram and the deviations from ZooKeeper.
//
// Roles reported in status(): LOOKING -> looking; LEADING before a quorum acknowledged the new
// epoch -> candidate (a prospective leader); LEADING after -> leader; FOLLOWING -> follower;
// OBSERVING -> learner. `sub_state` is ZooKeeper's state and zab's phase
// ("LEADING/discovery", "FOLLOWING/broadcast"). `can_propose` is true in the broadcast phase of
// a leader only. A learner reports its `leader` once it is in sync with it (UPTODATE, when
// ZooKeeper's learner starts serving clients), 0 before: the kernel serves clients only within
// a quorum.
//
// Persistence: the neutral HardState holds currentEpoch as `term` and acceptedEpoch in
// `plugin_data` (8 bytes, little-endian); `vote` is unused (0). acceptedEpoch is saved before
// ACKEPOCH and LEADERINFO leave (messages_after_persist); currentEpoch with the log on
// NEWLEADER, before the learner's ACK. A follower ACKs proposals from messages_after_persist;
// the leader counts its own ACK when persisted() says the entry is durable.
//
// zab relies on broadcast.hpp's persisted contract as stated there (once per Ready that wrote,
// in Ready order; consensus/common/persist_tracker.hpp follows it).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "quorumlab/consensus/epoch_zxid.hpp"
#include "quorumlab/consensus/lease.hpp"
#include "quorumlab/consensus/memory_log.hpp"
#include "quorumlab/consensus/persist_tracker.hpp"
#include "quorumlab/params.hpp"
#include "quorumlab/plugin/broadcast.hpp"
#include "quorumlab/plugin/context.hpp"
#include "quorumlab/zab/wire.hpp"

namespace quorumlab::zab {

using consensus::make_zxid;
using consensus::zxid_counter;
using consensus::zxid_epoch;

/// The barrier kinds zab implements (its descriptor's capabilities); lease only with lease=true
/// (barrier_unavailable).
constexpr std::uint32_t kBarrierKinds =
    barrier_bit(BarrierKind::sync_op) | barrier_bit(BarrierKind::read_index) |
    barrier_bit(BarrierKind::leader_commit) | barrier_bit(BarrierKind::lease);

/// The descriptor's barrier_unavailable: lease needs lease=true.
std::string barrier_unavailable(const Params& params, BarrierKind kind);

/// zab's hard state in the neutral shape: currentEpoch as `term`, acceptedEpoch in
/// `plugin_data` (8 bytes, little-endian).
HardState make_hard_state(std::uint64_t current_epoch, std::uint64_t accepted_epoch);
/// acceptedEpoch of a recovered hard state; nullopt when `plugin_data` is not 8 bytes (empty:
/// a fresh disk).
std::optional<std::uint64_t> accepted_epoch_of(const HardState& state);

/// Parameter schema of the plugin (names, defaults, help). Times are in kernel ticks (10 ms).
std::vector<ParamSpec> param_schema();

/// Resolved parameters.
struct ZabConfig {
  std::int64_t ping_interval_ticks = 1;
  std::int64_t sync_limit_ticks = 30;
  std::int64_t init_limit_ticks = 100;
  std::int64_t finalize_wait_ticks = 2;
  std::int64_t notification_min_ticks = 2;
  std::int64_t notification_max_ticks = 32;
  std::int64_t snap_threshold_entries = 0;
  std::int64_t sync_packet_bytes = 512 * 1024;
  std::int64_t max_epoch_segments = 64;
  bool lease = false;

  /// Reads every key of param_schema() from `params`; missing keys keep the defaults above.
  static ZabConfig from(const Params& params);
};

/// Builds the plugin (the descriptor's factory). Throws ConfigError if `ctx.self` is not in the
/// membership.
std::unique_ptr<Broadcast> make_zab(PluginContext& ctx);

/// One vote of Fast Leader Election.
struct Vote {
  NodeId leader = 0;
  Zxid zxid = 0;
  std::uint64_t election_epoch = 0;
  std::uint64_t peer_epoch = 0;
  PeerState state = PeerState::looking;
};

/// FastLeaderElection.totalOrderPredicate: true if (new_leader, new_zxid, new_epoch) beats
/// (cur_leader, cur_zxid, cur_epoch): higher peer epoch, then higher zxid, then higher id. A
/// candidate that is not a voter (an observer, or 0) never wins.
bool total_order_predicate(const Membership& membership, NodeId new_leader, Zxid new_zxid,
                           std::uint64_t new_epoch, NodeId cur_leader, Zxid cur_zxid,
                           std::uint64_t cur_epoch);

/// How the leader brings one learner in line (LearnerHandler.syncFollower).
struct SyncPlan {
  wire::SyncMode mode = wire::SyncMode::diff;
  LogIndex common_index = 0;   ///< learner and leader agree up to here
  bool need_snapshot = false;  ///< learner is behind the compaction point
};

/// Chooses DIFF, TRUNC, TRUNC+DIFF or SNAP for a learner whose ACKEPOCH is `learner`.
/// `snap_threshold` > 0 also asks for SNAP when more than that many entries are missing.
SyncPlan plan_sync(const consensus::MemoryLog& leader_log, const wire::AckEpoch& learner,
                   std::int64_t snap_threshold);

class ZabBroadcast final : public Broadcast {
 public:
  explicit ZabBroadcast(PluginContext& ctx);
  ~ZabBroadcast() override;

  // ---- Broadcast ---------------------------------------------------------------------------
  void restore(const RecoveredLog& log) override;
  void set_snapshot_source(SnapshotSource* source) override { snapshot_source_ = source; }
  void step(const PeerMessage& message) override;
  void tick() override;
  ProposeResult propose(const std::vector<Bytes>& txns) override;
  void persisted(LogIndex index) override;
  void compacted(const Snapshot& meta) override;
  void request_barrier(std::uint64_t id, BarrierKind kind) override;
  void peer_disconnected(NodeId peer) override;
  bool has_ready() const override;
  Ready ready() override;
  BroadcastStatus status() const override;
  std::string check_invariants() override;

  // ---- introspection for tests and tools ---------------------------------------------------
  PeerState peer_state() const { return state_; }
  const char* phase_name() const;
  std::uint64_t accepted_epoch() const { return accepted_epoch_; }
  std::uint64_t current_epoch() const { return current_epoch_; }
  std::uint64_t logical_clock() const { return logical_clock_; }
  const Vote& current_vote() const { return vote_; }
  const consensus::MemoryLog& log() const { return log_; }

  /// Test hook: the next proposal of this leader gets this zxid counter (e.g. 0xfffffffe to
  /// test the rollover). Only meaningful on a leader in the broadcast phase.
  void set_next_counter_for_test(std::uint64_t counter) { next_counter_ = counter; }

 private:
  enum class Phase : std::uint8_t { election, discovery, synchronization, broadcast };

  /// The leader's view of one connected learner (ZooKeeper's LearnerHandler).
  struct LearnerHandler {
    NodeId sid = 0;
    bool observer = false;
    std::uint64_t nonce = 0;
    std::uint64_t next_seq = 1;
    std::uint64_t accepted_epoch = 0;
    bool leader_info_sent = false;
    std::optional<wire::AckEpoch> ack_epoch;  ///< its history summary
    bool sync_sent = false;                   ///< forwarding: gets proposals / informs
    LogIndex newleader_index = 0;
    bool newleader_acked = false;
    bool up_to_date_sent = false;
    LogIndex acked_index = 0;  ///< cumulative, durable at the learner
    std::uint64_t round_acked = 0;
    std::uint64_t last_heard_tick = 0;
    /// Stream packets must keep their order: while a packet of this stream waits in
    /// messages_after_persist of batch `after_persist_seq`, later ones wait too.
    std::uint64_t after_persist_seq = 0;
  };

  /// A barrier the leader holds for itself or for a learner.
  struct PendingBarrier {
    std::uint64_t id = 0;
    NodeId origin = 0;        ///< self, or the learner that forwarded it
    std::uint64_t nonce = 0;  ///< the learner's connection when it asked
    BarrierKind kind = BarrierKind::sync_op;
    LogIndex target = 0;  ///< sync_op: last proposed index; read_index: commit point
    Zxid target_zxid = 0;
    std::uint64_t round = 0;  ///< read_index: quorum round that must confirm leadership
  };

  // ---- core (zab.cpp) ----------------------------------------------------------------------
  void send(NodeId to, wire::Packet packet, bool after_persist = false);
  void send_stream(LearnerHandler& h, wire::Body body, std::uint64_t needs_durable_seq = 0);
  void send_to_leader(wire::Body body, bool after_persist = false);
  void append_entry(LogEntry entry);
  void truncate_log(LogIndex index);
  void install_snapshot(const Snapshot& snapshot);
  std::uint64_t save_hard_state();
  void commit_upto(LogIndex index);
  bool is_voter(NodeId id) const { return ctx_.membership.is_voter(id); }
  LogIndex stable_index() const;
  void trace(TraceKind kind, NodeId peer, Zxid zxid, std::string detail = {}) const;
  bool status_changed() const;
  std::optional<wire::Ack> durable_ack() const;
  std::optional<Snapshot> snapshot_for_sync(LogIndex at_least);

  // ---- election (election.cpp) -------------------------------------------------------------
  void become_looking(const std::string& reason);
  void start_election();
  /// start_election, or with lease=true while the guard holds, LOOKING without an election
  /// until it ends (election_tick starts it).
  void enter_election();
  bool election_guarded() const;
  Vote init_vote() const;
  void send_notifications();
  void send_notification(NodeId to, const Vote& vote, PeerState state);
  void on_notification(NodeId from, const wire::Notification& n);
  void on_looking_notification(NodeId from, const Vote& v);
  void on_settled_notification(NodeId from, const Vote& v);
  bool quorum_agrees(const std::map<NodeId, Vote>& votes, const Vote& vote) const;
  bool check_leader(const std::map<NodeId, Vote>& votes, NodeId leader,
                    std::uint64_t election_epoch) const;
  void update_proposal(NodeId leader, Zxid zxid, std::uint64_t peer_epoch);
  void evaluate_finalize();
  void settle(const Vote& vote);
  void election_tick();

  // ---- discovery (discovery.cpp) -----------------------------------------------------------
  void become_leading();
  void become_learner(NodeId leader);
  void on_learner_info(NodeId from, const wire::Packet& p, const wire::LearnerInfo& m);
  void try_decide_epoch();
  void send_leader_info(LearnerHandler& h);
  void on_ack_epoch(LearnerHandler& h, const wire::AckEpoch& m);
  void try_establish();
  void on_leader_info(const wire::LeaderInfo& m);
  wire::AckEpoch history_summary(bool counts) const;

  // ---- synchronization (synchronization.cpp) -----------------------------------------------
  void start_sync(LearnerHandler& h);
  void on_newleader_ack(LearnerHandler& h);
  void try_finish_sync();
  void on_sync(const wire::Sync& m);
  void on_up_to_date(const wire::UpToDate& m);

  // ---- broadcast (broadcast.cpp) -----------------------------------------------------------
  void on_leader_packet(NodeId from, const wire::Packet& p);
  void on_learner_packet(NodeId from, const wire::Packet& p);
  void on_ack(LearnerHandler& h, LogIndex index, Zxid zxid);
  void try_commit();
  void on_proposal(const wire::Proposal& m);
  void on_commit(const wire::Commit& m);
  void on_inform(const wire::Inform& m);
  void on_ping(const wire::Ping& m);
  void learner_commit();
  void send_pings();
  void leader_tick();
  void learner_tick();
  void lose_leader(const std::string& reason);
  void close_handler(LearnerHandler& h);

  // ---- barriers (barriers.cpp) -------------------------------------------------------------
  void leader_barrier(PendingBarrier b);
  void start_read_round();  ///< a round for reads: next_read_round, PING to the voters
  void next_read_round();
  void check_read_rounds();
  void resolve_barriers();
  void finish_barrier(const PendingBarrier& b, bool ok, LogIndex index,
                      BarrierFailure failure = BarrierFailure::none);
  void fail_all_barriers();
  void on_request(LearnerHandler& h, const wire::Request& m);
  void on_sync_reply(const wire::SyncReply& m);

  // ---- invariants (invariants.cpp) ---------------------------------------------------------
  std::string check_basic() const;
  std::string check_delta() const;
  void remember_for_delta();

  // ---- context -----------------------------------------------------------------------------
  PluginContext& ctx_;
  ZabConfig cfg_;
  NodeId self_;
  bool observer_;
  SnapshotSource* snapshot_source_ = nullptr;
  std::shared_ptr<spdlog::logger> logger_;

  // ---- persistent state and the log --------------------------------------------------------
  std::uint64_t accepted_epoch_ = 0;
  std::uint64_t current_epoch_ = 0;
  consensus::MemoryLog log_;
  consensus::PersistTracker persist_;
  LogIndex commit_index_ = 0;        ///< committed and handed to the kernel (or in a snapshot)
  LogIndex storage_last_index_ = 0;  ///< storage's last index once the emitted Readies apply

  // ---- roles -------------------------------------------------------------------------------
  PeerState state_ = PeerState::looking;
  Phase phase_ = Phase::election;
  NodeId leader_id_ = 0;
  std::uint64_t tick_count_ = 0;
  bool restored_ = false;

  // ---- election ----------------------------------------------------------------------------
  std::uint64_t logical_clock_ = 0;
  Vote proposal_;  ///< proposed leader while LOOKING
  Vote vote_;      ///< current vote once settled (replied to LOOKING peers)
  std::map<NodeId, Vote> recvset_;
  std::map<NodeId, Vote> outofelection_;
  std::int64_t finalize_countdown_ = -1;  ///< ticks left before settling; -1 when off
  std::int64_t notification_interval_ = 0;
  std::int64_t ticks_since_notification_ = 0;

  // ---- leader ------------------------------------------------------------------------------
  std::map<NodeId, LearnerHandler> handlers_;
  std::set<NodeId> connecting_;  ///< voters that sent FOLLOWERINFO (and self)
  std::uint64_t max_accepted_ = 0;
  std::uint64_t new_epoch_ = 0;     ///< 0 until a quorum connected
  std::uint64_t accepted_seq_ = 0;  ///< batch that makes our acceptedEpoch durable
  std::set<NodeId> epoch_acks_;     ///< voters whose ACKEPOCH counts (self excluded)
  bool established_ = false;        ///< a quorum acknowledged new_epoch_
  std::uint64_t current_seq_ = 0;   ///< batch that makes our currentEpoch durable
  LogIndex newleader_index_ = 0;
  std::set<NodeId> newleader_acks_;  ///< voters that ACKed NEWLEADER (self excluded)
  std::uint64_t lead_start_tick_ = 0;
  std::uint64_t next_counter_ = 1;
  std::uint64_t leader_summary_epoch_ = 0;  ///< our (currentEpoch, last zxid) when elected
  Zxid leader_summary_zxid_ = 0;

  // ---- learner -----------------------------------------------------------------------------
  std::uint64_t nonce_ = 0;  ///< this connection attempt
  std::uint64_t expected_seq_ = 1;
  std::uint64_t leader_epoch_ = 0;            ///< from LEADERINFO
  bool synced_ = false;                       ///< NEWLEADER processed in this connection
  std::optional<Snapshot> partial_snapshot_;  ///< a SNAP's parts received so far
  bool up_to_date_ = false;
  LogIndex leader_commit_ = 0;
  std::uint64_t ticks_since_leader_ = 0;
  std::uint64_t ticks_since_connect_ = 0;  ///< until UPTODATE, bounded by init_limit_ticks
  std::uint64_t max_round_seen_ = 0;
  std::optional<wire::Ack> pending_ack_;  ///< goes out after persist with the next Ready
  std::map<std::uint64_t, BarrierKind> forwarded_barriers_;

  // ---- barriers (leader) -------------------------------------------------------------------
  std::vector<PendingBarrier> barriers_;
  std::uint64_t read_round_ = 0;            ///< last round started
  std::uint64_t read_round_confirmed_ = 0;  ///< last round a quorum echoed
  bool read_round_wanted_ = false;          ///< a barrier waits for a round not yet started
  std::int64_t lease_ticks_ = 0;            ///< consensus::lease_period_ticks; 0: no lease
  std::map<std::uint64_t, std::uint64_t> round_sent_tick_;  ///< unconfirmed round -> tick
  std::uint64_t lease_until_tick_ = 0;  ///< the lease holds while tick_count_ < this
  std::uint64_t read_rounds_ = 0, lease_hits_ = 0, lease_misses_ = 0;  ///< status() counters
  bool election_deferred_ = false;  ///< LOOKING but still guarded (lease): no election yet

  // ---- output ------------------------------------------------------------------------------
  Ready pending_;
  BroadcastStatus reported_status_;
  bool status_reported_ = false;

  // ---- invariant baseline ------------------------------------------------------------------
  struct Baseline {
    bool valid = false;
    std::uint64_t accepted_epoch = 0;
    std::uint64_t current_epoch = 0;
    LogIndex commit_index = 0;
    Zxid commit_zxid = 0;
    bool leading_established = false;
    std::uint64_t leader_epoch = 0;
    LogIndex leader_last_index = 0;
    Zxid leader_last_zxid = 0;
  };
  Baseline prev_;
  mutable LogIndex verified_index_ = 0;  ///< log entries up to here passed check_basic
  std::uint64_t internal_errors_ = 0;    ///< exceptions caught in step(): bugs
  std::string last_internal_error_;
};

}  // namespace quorumlab::zab
