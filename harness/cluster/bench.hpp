// The ZooKeeper paper's throughput benchmark (Hunt et al., ATC 2010, §5.1), the one
// implementation behind `qlab bench` and the Python package's `Cluster.bench`. Each session keeps
// `outstanding` requests in flight; each request is a getData (probability read_pct %) or a
// setData of value_bytes on a key chosen uniformly from `keys` znodes under `root`. The native
// protocol runs here (one client per session, callbacks issue the next request); the ZooKeeper
// wire protocol runs in kernel/zkwire (run_zk_bench), with the same counters.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "quorumlab/zkwire/bench.hpp"

namespace quorumlab::cluster {

/// Counters of one measurement period (successful latencies, reads, writes, errors by name).
using BenchPeriod = zkwire::ZkBenchPeriod;

/// The load's shape (connect, sessions, outstanding, read_pct, value_bytes, keys, duration_s,
/// warmup_s, seed, timeout_ms, root, interval_s, on_interval) is the ZooKeeper-protocol
/// bench's, one definition for both protocols.
struct BenchOptions : zkwire::ZkBenchOptions {
  std::string protocol = "native";  ///< "native" or "zookeeper"
  /// Adds `timeline` to the summary: one entry per interval, warmup included, {t (seconds
  /// since the start, at the interval's end), ops_per_s, errors, warmup}: throughput over time,
  /// for experiments that inject faults during the run.
  bool timeline = false;

  /// History mode (native protocol only), for `qlab check`: every operation is recorded with
  /// its invoke and complete times (one steady clock, microseconds from the start), session,
  /// arguments, reply zxid and what it saw or left, and written to this file
  /// (quorumlab/sim/history_io.hpp). The run then also
  ///  - starts every key from absent (existing keys are deleted first, unrecorded; nobody else
  ///    may write under `root` while it runs), so the history is complete;
  ///  - writes a unique value per write ("c<client>-<n>", padded with '.' to value_bytes);
  ///  - replaces a session that expired (a new client, a new client number) and goes on;
  ///  - after the load, runs `before_final_reads`, then reads every key once more (sync, then
  ///    getData, from a new session): the final reads that show which acknowledged writes
  ///    the service kept.
  /// An operation whose reply never came (connection lost, session expired, still in flight
  /// when the run ended) is recorded without a completion: its outcome is unknown.
  std::string history_file;
  nlohmann::json history_meta = nlohmann::json::object();  ///< merged into the file's header
  std::function<void()> before_final_reads;
  /// Called once the keys are ready and every session is connected, as the load begins (e.g.
  /// to start a nemesis only then).
  std::function<void()> on_load_start;
  /// Operations per second over all sessions (each session still keeps at most `outstanding`
  /// in flight); 0: as fast as the replies come.
  double rate = 0;
};

/// Creates the keys (or resets their value), runs warmup + duration, closes the sessions and
/// returns the summary, the object `qlab bench --json` prints: protocol, sessions, outstanding,
/// read_pct, value_bytes, keys, duration_s, warmup_s, ops, ops_per_s, reads_per_s,
/// writes_per_s, latency_us{p50,p90,p99,p999,max,mean}, errors{NAME: count}; for the native
/// protocol server_read_counters{NAME: count} (the servers' read-path counters over the
/// measured period: reads by mechanism, barriers, quorum rounds, lease hits and misses); with
/// `timeline` the per-interval series; in history mode `history` {file, ops, writes_acknowledged,
/// unknown_outcome, sessions_replaced, final_reads}. Throws std::invalid_argument for bad options
/// and std::runtime_error when setup fails.
nlohmann::json run_bench(const BenchOptions& options);

}  // namespace quorumlab::cluster
