// The deterministic simulator: N complete replicas (the production node::Node with the real
// broadcast and read-policy plugins from the plugin directory, on SimStorage) and simulated
// clients speaking the native protocol, on one thread and simulated time, all randomness from
// one 64-bit seed.
//
// A run has two phases:
//   safety    the workload runs while the nemesis injects faults (SimConfig knobs); every
//             event is followed by the online checks (broadcast invariants, ReplicaChecker,
//             client-side session checks);
//   liveness  every fault heals (partitions, crashed and paused replicas, lossy links, slow
//             disks); every client must then complete a new write (progress), the workload
//             stops, and every replica must reach the same applied zxid and tree digest
//             (convergence), within liveness_timeout_ms.
// Then the history is checked offline (check_history in checkers.hpp).
//
// Determinism: the same config (seed included), binary and plugins give the same trace digest.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "quorumlab/sim/checkers.hpp"
#include "quorumlab/sim/config.hpp"

namespace quorumlab::sim {

/// What a measurement scenario (ScenarioKnobs) saw. Times in simulated milliseconds.
struct ScenarioResult {
  std::string name;
  int trials = 0;  ///< trials (leader-crash) or rounds (disruptive) completed
  // leader-crash, one entry per trial with a new leader, in trial order
  std::vector<double> elected_ms;    ///< crash -> a replica is leader in a later term
  std::vector<double> serving_ms;    ///< crash -> that leader can propose
  std::vector<std::uint64_t> terms;  ///< terms/epochs the trial took (new - crashed leader's)
  int censored = 0;                  ///< trials without a new leader within trial_timeout_ms
  // disruptive, over the measured window (from the settled cluster to the last heal + heal_ms)
  double window_ms = 0;
  std::uint64_t terms_gained = 0;    ///< highest term/epoch at the end minus at the start
  std::uint64_t leader_changes = 0;  ///< times the serving leader (id, term) changed
  std::uint64_t writes = 0;          ///< writes completed with a reply (ok or a ZooKeeper error)
  double unavailable_ms = 0;         ///< sum of gaps between writes above unavailable_gap_ms
  double max_gap_ms = 0;             ///< longest gap between completed writes
};

struct RunResult {
  bool ok = true;
  std::string property;  ///< the violated property ("" when ok)
  std::string message;
  std::uint64_t seed = 0;
  std::uint64_t trace_digest = 0;
  std::uint64_t events = 0;
  std::int64_t sim_time_us = 0;
  std::vector<std::string> trace_tail;  ///< the last events before the end or the violation

  // What happened.
  std::uint64_t ops = 0;
  std::uint64_t ops_ok = 0;
  std::uint64_t ops_no_reply = 0;
  std::uint64_t faults = 0;
  std::uint64_t crashes = 0;
  std::uint64_t transfers = 0;  ///< leadership transfers a leader started (fault `transfer`)
  std::uint64_t leaders = 0;    ///< distinct (epoch, leader) pairs seen
  Zxid final_zxid = 0;
  StaleReadStats stale;
  std::uint64_t session_order_anomalies = 0;  ///< see HistoryCheckResult
  std::string session_order_example;
  LinearizabilityResult linearizability;

  // What reads cost.
  std::uint64_t peer_messages = 0;  ///< every message a replica sent to another (lost too)
  std::uint64_t peer_bytes = 0;
  /// node::read_counters summed over the replicas and their incarnations (reads by mechanism,
  /// barriers, barrier_wait_ms, read_rounds, lease_hits, lease_misses).
  std::map<std::string, std::uint64_t> read_counters;
  std::optional<std::int64_t> staleness_bound_ms;  ///< the policy's, when it declares one
  /// The throughput workload's measurement (SimConfig::throughput).
  std::optional<ThroughputResult> throughput;
  /// PerfKnobs::measure_host_cpu's result.
  std::optional<HostCpuFit> host_cpu;
  /// Every client operation of the run, in invocation order (the checkers' input; the Python
  /// package shows it as a data frame).
  History history;
  ScenarioResult scenario;
};

/// Runs one seed (config.seed). Throws only for setup errors (plugins, bad config).
RunResult run_simulation(const SimConfig& config);

/// The git revision the simulator was built from ("unknown" outside a checkout).
const char* git_revision();

/// The failure report: seed, git revision, resolved config, violated property, message and
/// the last events of the trace.
std::string format_failure(const SimConfig& config, const RunResult& result);

}  // namespace quorumlab::sim
