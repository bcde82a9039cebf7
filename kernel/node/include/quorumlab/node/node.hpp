// A node: one replica of the znode service. The reactor logic, written against NodeEnv
// (transport, clocks) and the three plugins, so the same code runs in a process (ZmqRuntime)
// and in the simulator.
//
// Write path: client -> this node -> (forwarded to the leader) -> the leader proposes the txn
// through the broadcast plugin -> committed -> every node applies it -> the node holding the
// client's connection answers after it applied.
//
// Per-session order: requests of one session are answered in the order received. A read is
// executed only when every earlier request of its session has completed, at the moment it
// reaches the head of the session's queue, so it sees the session's own writes. Watch
// notifications are queued to a connection during apply, before any later reply to it.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "quorumlab/config.hpp"
#include "quorumlab/node/env.hpp"
#include "quorumlab/node/runtime_handler.hpp"
#include "quorumlab/node/session_tracker.hpp"
#include "quorumlab/plugin/loader.hpp"
#include "quorumlab/proto/peer.capnp.h"
#include "quorumlab/replica/ready_executor.hpp"
#include "quorumlab/sm/data_tree.hpp"
#include "quorumlab/sm/watch_registry.hpp"

namespace quorumlab::node {

/// Counters for monitoring (mntr) and benchmarks.
struct NodeStats {
  std::uint64_t requests = 0;
  std::uint64_t reads = 0;
  std::uint64_t writes_proposed = 0;
  std::uint64_t txns_applied = 0;
  std::uint64_t notifications = 0;
  std::uint64_t protocol_errors = 0;
  std::uint64_t txns_refused = 0;  ///< client txns refused: max_waiting_txns waited for a leader
  std::uint64_t snapshots = 0;
  /// The read path: reads by the mechanism the policy chose (ReadMechanism order), barriers
  /// asked of the broadcast plugin (read barriers and syncs), those that failed, and the ticks
  /// they took in all (asked -> resolved).
  std::array<std::uint64_t, 5> reads_by_mechanism{};
  std::uint64_t barriers = 0;
  std::uint64_t syncs = 0;  ///< of the barriers, clients' sync requests (not reads)
  std::uint64_t barriers_failed = 0;
  std::uint64_t barrier_ticks = 0;
};

/// The read-path counters `mntr` (as ql_NAME) and the native status show, in a fixed order:
/// reads_local, reads_sync, reads_leader, reads_read_index, reads_lease, barriers, syncs,
/// barriers_failed, barrier_wait_ms (barrier_ticks x tick_ms), and the broadcast plugin's
/// read_rounds, lease_hits, lease_misses.
std::vector<std::pair<std::string, std::uint64_t>> read_counters(const NodeStats& stats,
                                                                 const BroadcastStatus& status,
                                                                 std::int64_t tick_ms);

/// The state a replica reached, reported to NodeOptions::on_applied.
struct AppliedInfo {
  LogIndex index = 0;
  Zxid zxid = 0;
  const Bytes* data = nullptr;  ///< the txn applied; null when a snapshot was restored/installed
  std::uint64_t digest = 0;     ///< tree digest after it
};

/// What a simulator or a test may inject. A production node passes none of these.
struct NodeOptions {
  /// Used instead of loading `config.storage` (the simulator's disk); no data_dir is created.
  std::shared_ptr<Storage> storage;
  /// Seed of the RNG handed to the plugins; 0 keeps the default (derived from the node id).
  std::uint64_t rng_seed = 0;
  /// Called after every committed entry is applied and after a snapshot is restored or
  /// installed, for cross-replica checks. Must not call back into the node.
  std::function<void(const AppliedInfo&)> on_applied;
  /// Test-only fault for checker self-tests: a read executes when it arrives, ignoring earlier
  /// requests of its session (replies still leave in request order). Breaks read-your-writes.
  bool test_reads_skip_session_order = false;
  /// Test-only fault for checker self-tests: a write goes to the leader when it arrives, even
  /// behind an unresolved sync_op or read-index barrier of its session. Breaks FIFO client
  /// order (the barrier, and the reads behind it, may see the later write).
  bool test_writes_skip_barrier_order = false;
  /// Client txns (writes, closeSession, createSession) a node keeps while it has no leader to
  /// send them to. Beyond that it refuses: a new session gets CONNECTIONLOSS, and a connection
  /// whose write does not fit is closed with the reason (its client reconnects elsewhere, as
  /// after a ZooKeeper connection loss). Txns a leader makes itself and txns forwarded to it
  /// are never refused: they are proposed at once.
  std::size_t max_waiting_txns = 100000;
  /// Test-only fault for checker self-tests: a server that is not part of a working quorum
  /// keeps its client connections, accepts new ones and answers their pings (as before issue
  /// 18), so a partitioned server's clients stay connected while the majority expires their
  /// sessions.
  bool test_serve_without_quorum = false;
};

class Node final : public RuntimeHandler, public SnapshotSource, private replica::ReplicaHost {
 public:
  /// Loads the plugins named in `config` (throws PluginError/ConfigError with the reason),
  /// recovers storage and restores the tree and the broadcast plugin.
  Node(const NodeConfig& config, const PluginLoader& loader, NodeEnv& env, Tracer& tracer,
       NodeOptions options = {});
  ~Node() override;

  /// Storage reports progress through this callback (set before recovery).
  void set_storage_waker(std::function<void()> waker);

  // RuntimeHandler
  void on_client_message(ConnId conn, const std::uint8_t* data, std::size_t size,
                         const std::string& peer_address) override;
  void on_peer_message(const std::uint8_t* data, std::size_t size) override;
  void on_peer_disconnected(NodeId id) override;
  void on_client_closed(ConnId conn) override;
  void on_tick() override;
  void on_storage_wakeup() override;
  void process() override;

  // SnapshotSource
  Snapshot take_snapshot() override;

  BroadcastStatus status() const { return broadcast_->status(); }
  /// The broadcast plugin's check_invariants() (empty when all hold); the simulator calls it
  /// after every event.
  std::string check_broadcast_invariants() { return broadcast_->check_invariants(); }
  Zxid applied_zxid() const { return applied_zxid_; }
  std::uint64_t digest() const { return tree_.digest(); }
  const sm::DataTree& tree() const { return tree_; }
  const NodeStats& stats() const { return stats_; }
  const ReadPolicy& read_policy() const { return *read_policy_; }
  StorageStats storage_stats() const { return storage_->stats(); }
  std::size_t connection_count() const { return connections_.size(); }
  /// ZooKeeper's read-only mode: outside a quorum with the read_only_mode setting on, this
  /// server serves read-only sessions (`isro` answers "ro").
  bool read_only() const;
  /// Watches of this node's connections (wchs, mntr zk_watch_count). Walks the registry.
  sm::WatchSummary watch_summary() const { return watches_.summary(); }
  /// True when nothing waits for storage, the broadcast plugin or a leader.
  bool idle() const {
    return executor_->persist_waiting() == 0 && to_propose_.empty() && !broadcast_->has_ready();
  }
  /// A ServerMessage carrying this node's ServerStatus.
  Bytes status_message() const;
  /// Admin: asks the broadcast plugin to hand the leadership to `target`
  /// (Broadcast::transfer_leadership); `detail` names the plugin when it has no transfer.
  /// The runtime's next process() sends what the plugin produced.
  TransferResult transfer_leadership(NodeId target);
  /// transfer_leadership() answered as a ServerMessage (the admin request on the client port).
  Bytes transfer_message(NodeId target);
  /// Admin: replaces every fault rule of this server (NodeEnv::set_fault_rules; the disk delay
  /// goes to the storage plugin, Storage::set_fsync_delay); answered with the rules in force,
  /// or why the new ones were refused (then none of them changed).
  Bytes net_rules_message(const FaultRules& rules);

 private:
  struct Pending;
  struct Connection;

  // ---- composition (node.cpp): startup, inputs, status changes dispatched to the parts ----
  void load_plugins(const PluginLoader& loader);
  void on_status_change(const BroadcastStatus& s);

  // ---- the replica core (replica.cpp): recovery, Ready execution, apply, snapshots, and the
  // txn pipeline to the leader ----
  /// /zookeeper/config from the configured peers (after construction and every restore).
  void set_ensemble_config();
  void recover();
  void drain_ready();
  // replica::ReplicaHost: the effects of a Ready (the executor does the rest).
  void send(const PeerMessage& message) override;
  void restore_snapshot(const Snapshot& snapshot) override;
  void apply(const CommittedTxn& committed) override;
  void barrier_resolved(const BarrierResult& result) override { resolve_barrier(result); }
  void status_changed(const BroadcastStatus& status) override { on_status_change(status); }
  void contract_violation(const std::string& what) override;
  void report_applied(const Bytes* data);
  void maybe_snapshot(LogIndex index);
  /// A txn of `session` stamped with this server's wall clock (and the request's xid). The
  /// one place a txn header is filled: the leader stamps time, nothing at apply reads a clock.
  sm::Txn make_txn(SessionId session, sm::TxnOp op, std::int32_t cxid = 0) const;
  /// Queues a txn for the leader (propose_pending sends it).
  void submit_txn(sm::Txn txn);
  /// submit_txn for a txn of a client: false (nothing queued) when max_waiting_txns wait.
  [[nodiscard]] bool submit_client_txn(sm::Txn txn);
  /// Why a client txn was refused (for the client and the log).
  std::string waiting_txns_full() const;
  void propose_pending();
  void send_envelope_forward(const std::vector<Bytes>& txns, NodeId to);

  // ---- sessions (sessions.cpp): liveness tracking on the leader, touches from the others,
  // expiry, TTL and container deletion, revalidation ----
  void leader_duties();
  void report_session_touches();
  void on_touch(capnp::List<proto::SessionTouch>::Reader touches);
  void on_revalidate(NodeId from, capnp::List<proto::SessionTouch>::Reader asks);
  void answer_revalidation(NodeId to, const std::vector<SessionId>& ids);
  /// Leader: answers the revalidations that arrived before it could propose (once it can; a
  /// node that stopped leading drops them: their askers close on the leader change).
  void answer_held_revalidations();
  /// A new leader that can propose restarts every session's clock.
  void restart_session_clocks();
  /// The leader's tracker follows createSession and closeSession txns as they apply.
  void track_session_txn(const sm::Txn& txn);
  /// Leader: whether a session a client reconnects with is alive (touches it if so).
  bool session_alive(SessionId id);

  // ---- the read path (read_path.cpp): each read mechanism as a barrier, per-session order
  // of barriers, reads and the writes behind them ----
  /// A read of `c`: local, or behind a barrier of the kind its read policy's mechanism needs.
  void start_read(Connection& c, Pending p);
  /// Queues `p` behind a new barrier of `kind` (sync_op, or a barrier read).
  void start_barrier(Connection& c, Pending p, BarrierKind kind);
  void resolve_barrier(const BarrierResult& b);
  /// Serves the reads whose barrier point this replica has now applied, before the next txn
  /// applies (called before every apply and after every drain of Readies).
  void serve_reads_at_applied();
  bool try_complete_read(Connection& c, Pending& p);
  /// Queues a write or closeSession of `c` and submits its txn, or holds the txn while an
  /// earlier barrier of `c` is unresolved (see release_held_txns).
  /// Closes `c` if its txn does not fit (see NodeOptions::max_waiting_txns): `c` is then gone.
  void enqueue_txn(Connection& c, Pending p, sm::Txn txn);
  /// Submits the held txns of `c` that no unresolved barrier precedes, in request order.
  /// Returns false if one did not fit and `c` was closed (and is gone).
  bool release_held_txns(Connection& c);

  // ---- the client front-end (client_protocol.cpp): the native protocol, which the ZooKeeper
  // wire front-end (kernel/zkwire) translates into, so both share one request type ----
  /// True while this server is part of a working quorum (it leads, or follows/observes a
  /// known leader); otherwise it has no client connections, as a ZooKeeper server that left
  /// FOLLOWING/LEADING (see on_status_change).
  bool serves_clients() const;
  /// Why serves_clients() is false, for the client and the log.
  std::string not_serving_reason() const;
  void handle_connect(Connection& c, const std::uint8_t* data, std::size_t size);
  void handle_request(Connection& c, const std::uint8_t* data, std::size_t size);
  void finish_connect(Connection& c, sm::Err err, const std::string& message);
  /// A read-only session for a client that allows one, on a server outside a quorum.
  void connect_read_only(Connection& c, SessionId id, bool password_ok);
  /// Moves the (valid) session `id` to `c` and answers the connect.
  void resume_session(Connection& c, SessionId id);
  /// Learner: the leader's answers to its revalidation requests.
  void on_revalidated(SessionId id, bool valid);
  void flush_connection(Connection& c);
  /// Answers the request a txn applied for, on this server's connection of its session.
  void after_apply(const sm::Txn& txn, const sm::TxnResult& result, Zxid zxid);
  void deliver_notifications(const std::vector<sm::WatchTrigger>& triggers);
  /// Connections lost with a leader change or with the quorum (see on_status_change).
  void on_serving_change(const BroadcastStatus& old, bool was_serving);
  void drop_connection(ConnId conn, const std::string& reason);
  void forget_connection(std::unordered_map<ConnId, std::unique_ptr<Connection>>::iterator it);
  void protocol_error(Connection& c, const std::string& reason);
  void send_to(Connection& c, Bytes bytes);

  NodeConfig config_;
  NodeOptions options_;
  NodeEnv& env_;
  Tracer& tracer_;
  std::shared_ptr<spdlog::logger> log_;
  Rng rng_;  ///< the node's seed; each plugin gets a stream forked from it
  Rng broadcast_rng_, storage_rng_, read_rng_;
  PluginContext broadcast_ctx_, storage_ctx_, read_ctx_;
  std::shared_ptr<Storage> storage_;
  bool clients_cut_ = false;  ///< fault rule: client messages are neither taken nor answered
  std::shared_ptr<Broadcast> broadcast_;
  std::shared_ptr<ReadPolicy> read_policy_;
  std::unique_ptr<replica::ReadyExecutor> executor_;
  std::function<void()> storage_waker_;

  sm::DataTree tree_;
  sm::WatchRegistry watches_;
  /// The zxid the tree has applied. Not the executor's applied position: that one already
  /// names a txn while apply() runs for it, and reads must not be served at it before then.
  Zxid applied_zxid_ = 0;
  LogIndex last_snapshot_index_ = 0;

  BroadcastStatus last_status_;
  std::vector<Bytes> to_propose_;  ///< encoded txns waiting for propose/forward

  std::unordered_map<ConnId, std::unique_ptr<Connection>> connections_;
  std::unordered_map<SessionId, ConnId> conn_by_session_;
  struct BarrierWait {
    ConnId conn = 0;
    std::int64_t asked_tick = 0;
    BarrierKind kind = BarrierKind::sync_op;
  };
  std::unordered_map<std::uint64_t, BarrierWait> conn_by_barrier_;
  ConfirmedPoint confirmed_;  ///< the newest read_index point (ReadInfo::confirmed)
  /// Connections with a resolved barrier whose point is not applied yet (read_path.cpp).
  std::set<ConnId> conns_awaiting_apply_;
  std::uint64_t next_barrier_id_ = 1;
  SessionId next_session_id_ = 0;
  SessionTracker sessions_;                              ///< expiry, used while this node leads
  std::unordered_map<SessionId, std::int32_t> touched_;  ///< follower: touches to report
  /// Leader not yet able to propose: revalidations to answer once it can (sessions.cpp).
  std::vector<std::pair<NodeId, std::vector<SessionId>>> held_revalidations_;
  std::int64_t ticks_ = 0;
  NodeStats stats_;
};

}  // namespace quorumlab::node
