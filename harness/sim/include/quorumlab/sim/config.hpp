// SimConfig: everything that shapes one simulated run. One seed plus this struct reproduce a
// run exactly (with the same binary and plugins). Every fault has its own knob; fault mixes
// (`none`, `network`, `crash`, `all`, or a comma list of categories) set several at once.
//
// Units are in the names: `_us` simulated microseconds, `_ms` milliseconds. Chances are per
// message or per event, in [0, 1].
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "quorumlab/plugin/read_policy.hpp"
#include "quorumlab/sim/perf_model.hpp"

namespace quorumlab::sim {

/// A delay drawn as min + exponential(mean - min), capped at max (all in microseconds).
/// Our own distribution on quorumlab::Rng, identical on every platform.
struct DelayDist {
  std::int64_t min_us = 0;
  std::int64_t mean_us = 0;
  std::int64_t max_us = 0;
};

/// Messages between replicas (peer links) and between clients and replicas (client links).
/// Peer links lose, duplicate and reorder messages; client links behave like TCP: FIFO, and a
/// lost message breaks the connection (both sides' later messages are dropped too).
struct NetworkKnobs {
  DelayDist peer_delay{100, 800, 20000};
  DelayDist client_delay{100, 500, 10000};
  double peer_loss_chance = 0;
  double peer_duplicate_chance = 0;
  /// Chance that a peer message leaves FIFO order: it gets up to reorder_extra_us_max more
  /// delay and may be overtaken by later messages on its link.
  double peer_reorder_chance = 0;
  std::int64_t reorder_extra_us_max = 30000;
  /// Chance per client message that its connection breaks (a TCP reset).
  double client_break_chance = 0;
  /// Duplication and reordering hit only broadcast-plugin payloads; the kernel's own envelopes
  /// (forwarded txns, session touches) may be lost but keep FIFO order and arrive at most
  /// once, as on the real transport (ZeroMQ over TCP), which the kernel relies on. false:
  /// test the kernel without that assumption (a duplicated forward commits its txn twice).
  bool kernel_envelopes_fifo = true;
};

/// Partitions (peer links and client links). Each partition heals after its duration.
struct PartitionKnobs {
  bool enabled = false;
  std::int64_t duration_min_ms = 50;
  std::int64_t duration_max_ms = 1500;
  /// Relative weights of the partition kinds.
  int weight_symmetric = 2;          ///< a random set of replicas cut from the rest, both ways
  int weight_asymmetric = 2;         ///< one replica cannot send to another (one way)
  int weight_isolate_leader = 3;     ///< the current leader cut from everyone, clients included
  int weight_majority_minority = 2;  ///< a minority cut from a majority
  int weight_client = 1;             ///< a client cut from one replica
};

struct CrashKnobs {
  bool enabled = false;
  std::int64_t downtime_min_ms = 10;
  std::int64_t downtime_max_ms = 1000;
  /// On a crash, chance that a random prefix of the not-yet-durable writes reached the disk
  /// anyway (unsynced writes may survive; synced writes always do).
  double unsynced_prefix_survives_chance = 0;
};

struct DiskKnobs {
  DelayDist fsync_delay{200, 1500, 15000};
  bool slow_enabled = false;      ///< periods of slow fsync on one replica
  std::int64_t slow_factor = 30;  ///< fsync delay multiplier while slow
  std::int64_t slow_duration_max_ms = 1500;
};

struct PauseKnobs {
  bool enabled = false;  ///< a replica stops (no ticks, no deliveries), then resumes
  std::int64_t duration_min_ms = 10;
  std::int64_t duration_max_ms = 1000;
};

/// The operator's leadership transfer (`qlab cluster transfer`, Raft thesis 3.10): the nemesis
/// asks the leader to hand its leadership to a random other voter that is up. A protocol
/// without transfer refuses and nothing changes. Not part of the `all` mix (its recorded
/// sweeps keep their runs); name it: `--faults all,transfer`.
struct TransferKnobs {
  bool enabled = false;
};

struct ClockKnobs {
  std::int64_t drift_ppm_max = 0;  ///< each replica's clock rate is off by up to this (fixed)
  bool jumps_enabled = false;      ///< wall clock jumps either way, monotonic clock forward
  std::int64_t jump_max_ms = 3000;
  /// Each tick comes up to this much early or late (a real timer's wake-up jitter; the errors
  /// add up, a random walk), and each replica incarnation starts at a random point of a tick.
  /// 0: every replica ticks in lock-step. Without it, replicas with the same fixed election
  /// timeout (Raft's 150-150 ms) keep timing out in the same tick and split votes forever.
  std::int64_t tick_jitter_us = 0;
};

/// The nemesis injects one fault (partition, crash, pause, clock jump, slow disk) at random
/// intervals during the safety phase.
struct NemesisKnobs {
  std::int64_t interval_mean_ms = 500;
  /// At most this many replicas crashed or paused at once; -1 = all of them.
  int max_down = -1;
};

struct WorkloadKnobs {
  int clients = 4;          ///< each client owns one session at a time
  int keys = 4;             ///< znodes /k0 .. /k{keys-1}
  int max_outstanding = 3;  ///< pipelined requests per session
  std::int64_t think_mean_us = 25000;
  /// Relative weights of the operations.
  int weight_create = 14;
  int weight_set = 26;
  int weight_get = 26;
  int weight_exists = 10;
  int weight_sync = 6;
  int weight_delete = 10;
  double watch_chance = 0.35;       ///< getData/exists leave a watch
  double conditional_chance = 0.5;  ///< setData/delete use the last version the client saw
  std::int32_t session_timeout_ms = 4000;
  std::int64_t request_timeout_ms = 2500;  ///< no reply this long: reconnect elsewhere
  std::int64_t connect_timeout_ms = 1000;
};

/// Measurement scenarios (scenarios.cpp, `qlab sim --scenario NAME`): instead of the nemesis's
/// random faults and the liveness phase, a scripted series of trials on a settled cluster. The
/// online and offline checks run as in every run. A cluster is *settled* when every replica is
/// up, one leader can propose, and every other voter follows it with the leader's last index.
///
///   leader-crash  Figure 16 of the Raft paper: settle, wait `settle_ms`, crash the leader at a
///                 uniformly random time within `crash_window_ms` (its heartbeat interval: the
///                 followers last heard from it 0 .. one interval before the crash), measure
///                 until a new leader is elected (a replica becomes leader in a later term:
///                 `elected_ms`) and until it can propose (`serving_ms`), restart the crashed
///                 replica, repeat `trials` times. A trial without a new leader after
///                 `trial_timeout_ms` is counted as censored and left out of the times.
///   disruptive    Thesis 9.6: settle, then `trials` rounds of: one random follower of the
///                 current leader cut from every other replica (peer links, both ways) for
///                 `partition_ms`, then healed for `heal_ms`; measures the terms/epochs gained,
///                 leader changes, and the writes completed (with `baseline`, the same run
///                 without the partitions).
struct ScenarioKnobs {
  std::string name;  ///< "" (the standard run), "leader-crash", "disruptive"
  int trials = 100;
  std::int64_t settle_ms = 200;
  /// 0: the raft heartbeat interval (broadcast.heartbeat_interval_ticks x tick_ms) when given,
  /// else 10 ticks.
  std::int64_t crash_window_ms = 0;
  std::int64_t trial_timeout_ms = 120000;
  /// A crashed process's TCP connections drop and its peers notice (the runtime's socket
  /// monitors, Broadcast::peer_disconnected). Off for Figure 16: the paper measured detection
  /// by the election timeout.
  bool crash_notifies_peers = false;
  /// leader-crash: the paper's different log lengths. Before each crash a client writes once
  /// (the clients issue nothing else); the leader's messages to a random 0 .. (voters - quorum)
  /// followers are dropped from then until it restarts, so they miss that entry (and the
  /// heartbeats after it) and cannot win. The crash falls within crash_window_ms after the
  /// leader appended the entry. Needs a client.
  bool diverge_logs = false;
  std::int64_t partition_ms = 2000;
  std::int64_t heal_ms = 2000;
  /// disruptive: a gap between two completed writes longer than this counts as unavailable.
  std::int64_t unavailable_gap_ms = 100;
  bool baseline = false;  ///< disruptive: no partitions (the no-fault reference)
};

/// Test-only faults that make the system wrong on purpose, so the checker self-tests can show
/// that each checker notices. Never set outside tests.
struct TestFaults {
  /// SimStorage reports a flush durable at once, while the disk still needs the fsync delay:
  /// a crash then loses acknowledged writes.
  bool storage_ack_before_durable = false;
  /// NodeOptions::test_reads_skip_session_order on every replica.
  bool node_reads_skip_session_order = false;
  /// NodeOptions::test_writes_skip_barrier_order on every replica.
  bool node_writes_skip_barrier_order = false;
  /// Client links deliver watch notifications late, after later replies.
  bool net_notifications_late = false;
  /// Client links deliver replies out of order (FIFO broken for responses).
  bool net_replies_reordered = false;
  /// Clients reconnect with lastZxidSeen = 0, so a lagging replica accepts them.
  bool client_forgets_zxid_on_reconnect = false;
  /// A resumed node gets no ticks for the time it was paused (the runtime before ABI 3): it
  /// under-counts elapsed time, which a lease cannot survive.
  bool drop_ticks_while_paused = false;
  /// NodeOptions::test_serve_without_quorum on every replica: a replica without a leader keeps
  /// its clients connected and answers their pings.
  bool node_serves_without_quorum = false;
  /// > 0: the plugins are told the clocks drift at most this many ppm (PluginContext::
  /// clock_drift_ppm) while clock.drift_ppm_max lets them drift more: a lease's assumption
  /// broken on purpose.
  std::int64_t plugins_drift_bound_ppm = 0;
  bool any() const {
    return storage_ack_before_durable || node_reads_skip_session_order ||
           node_writes_skip_barrier_order || net_notifications_late || net_replies_reordered ||
           client_forgets_zxid_on_reconnect || drop_ticks_while_paused ||
           node_serves_without_quorum || plugins_drift_bound_ppm > 0;
  }
};

struct SimConfig {
  std::uint64_t seed = 1;
  std::string broadcast = "solo";
  int nodes = 1;      ///< voters
  int observers = 0;  ///< non-voting replicas (ZAB observers)
  std::string read_policy = "local";
  std::map<std::string, std::string> broadcast_params;    ///< passed as broadcast.KEY=VALUE
  std::map<std::string, std::string> read_policy_params;  ///< passed as read_policy.KEY=VALUE
  std::string plugin_dir;                                 ///< empty: PluginLoader::default_dir()

  std::int64_t tick_ms = 10;
  std::int64_t snapshot_every_txns = 100;  ///< low, so snapshots and SNAP sync happen

  std::int64_t duration_ms = 5000;           ///< safety phase (faults), simulated
  std::uint64_t max_steps = 0;               ///< safety phase ends after this many events (0: off)
  std::int64_t liveness_timeout_ms = 40000;  ///< after healing: progress and convergence
  /// `disconnected_before_expiry`: a client may still hear from its server this long after
  /// its session's expiry committed (first applied anywhere), on top of the clock drift bound
  /// (session timeout x 2 x clock.drift_ppm_max). It covers a server's own notice that it
  /// left the quorum (zab: sync_limit_ticks x tick_ms, 300 ms by default) and a server of the
  /// quorum applying the closeSession, plus link delays.
  std::int64_t expiry_grace_ms = 500;

  std::string fault_mix = "all";  ///< what set the knobs below (shown in reports)
  NetworkKnobs network;
  PartitionKnobs partition;
  CrashKnobs crash;
  DiskKnobs disk;
  PauseKnobs pause;
  TransferKnobs transfer;
  ClockKnobs clock;
  NemesisKnobs nemesis;
  WorkloadKnobs workload;
  ScenarioKnobs scenario;
  /// The performance model (off: the delays above, CPU work takes no time).
  PerfKnobs perf;
  /// The throughput workload instead of the checking workload (clients and max_outstanding
  /// from `workload`).
  ThroughputKnobs throughput;
  TestFaults test;
  /// Properties not to check (self-tests use it to reach a later checker behind an earlier
  /// one that the same fault trips first). Empty outside tests.
  std::set<std::string> disabled_checks;
  /// Hold the reads to more than the read policy declares, to find the anomalies it allows:
  /// every read to linearizability, and/or every read to a staleness bound (ms).
  bool check_reads_linearizable = false;
  std::optional<std::int64_t> check_staleness_bound_ms;

  /// Events kept for the failure report (the last N).
  std::size_t trace_tail = 50;
  /// Write every trace line here (empty: none).
  std::string trace_file;

  /// The resolved configuration, one `key = value` per line (printed on failures).
  std::string to_text() const;
  /// Total replicas.
  int replicas() const { return nodes + observers; }
};

/// The fault categories a mix is made of.
const std::vector<std::string>& fault_categories();

/// Sets the fault knobs of `config` for `mix`: "none", "network" (loss, partition, client),
/// "crash" (crash, disk), "all", or a comma list of categories: loss, partition, client,
/// crash, disk, pause, clock, and transfer (not in "all"). Throws std::invalid_argument naming the
/// unknown word.
void apply_fault_mix(SimConfig& config, const std::string& mix);

/// True when every read must be linearizable (writes are checked under every policy): the read
/// policy declares it (its descriptor's guarantee; a lease's clocks stay within the drift bound
/// in the simulator unless TestFaults::plugins_drift_bound_ppm breaks it on purpose), or there
/// is one replica.
bool reads_are_linearizable(const SimConfig& config, ReadGuarantee guarantee);

}  // namespace quorumlab::sim
