// The simulator's performance model (off by default): CPU service times per node, network links
// with latency and bandwidth, and a disk with fsync latency and bandwidth, so that throughput and
// latency emerge from a simulated run (cluster-size experiments on one machine, deterministic).
//
// When it is on, every piece of work a replica does occupies one of its CPU cores for a cost
// (a client message in or out, a peer message in or out, applying a committed txn, serving a
// read, a tick) and later work queues behind it; the messages a piece of work sends leave when
// it completes. Every endpoint (replica or client) has one link to the switch
// that transmits one message at a time (FIFO, bytes / bandwidth: a replica's peer messages and
// replies share it), then a message takes a fixed latency. An fsync takes a latency plus bytes /
// bandwidth. Nothing is random.
//
// The costs come from a profile that `qlab calibrate` measures on the machine (micro-benchmarks
// of the real code paths, a ZeroMQ loopback run, fsync timing), or are set by hand:
// `qlab sim --perf-profile FILE --perf KEY=VALUE`, or an experiment file's `perf` table.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace quorumlab::sim {

/// The costs of the performance model. Units are in the names (ns of CPU time, us, Mbit/s,
/// MB/s). Every field has a key of the same name (perf_profile_keys()).
struct PerfProfile {
  // CPU.
  int cores = 2;       ///< cores per replica
  int host_cores = 0;  ///< > 0: every replica and the load generator share this many cores (one
                       ///< machine runs the whole cluster, as a real `qlab bench` on a laptop)
  double transport_message_ns = 6000;  ///< per message sent or received through the transport
                                       ///< (ZeroMQ, syscalls, thread hand-offs)
  double transport_byte_ns = 0.2;      ///< per byte sent or received (copies into ZeroMQ and
                                       ///< the kernel)
  double client_message_ns = 800;      ///< decode a client request or encode a reply
  double client_byte_ns = 0.3;
  double peer_message_ns = 800;  ///< encode or decode a peer message
  double peer_byte_ns = 0.3;
  double apply_txn_ns = 1500;  ///< apply a setData txn to the tree
  double apply_byte_ns = 0.3;
  /// Writing an entry to the log (the `wal` plugin: encoding, checksum, its writer thread's
  /// write(2); not the fsync). Every replica appends and applies each entry once: the model
  /// charges it with the apply.
  double log_append_ns = 0;
  double log_byte_ns = 0;
  double read_ns = 500;   ///< serve a getData from the tree
  double tick_ns = 1000;  ///< one tick of the broadcast plugin and the kernel
  /// The node's own work per client request beyond the costs above (sessions, the request
  /// pipeline, the read policy, txn creation, the plugin's step): `qlab calibrate` measures it
  /// by timing the real node code inside the simulator.
  double request_ns = 0;
  /// The same per peer message (the plugin's step, Ready execution, storage calls).
  double peer_handling_ns = 0;
  /// The same per reactor turn (one process() after a batch of inputs).
  double turn_ns = 0;
  /// Waking a thread for a turn (poll, ZeroMQ's I/O thread signalling the reactor, the context
  /// switch), per reactor turn; calibrated as the echo's CPU per round trip with one message
  /// in flight minus with many, per side.
  double wakeup_ns = 0;
  double client_op_ns = 10000;  ///< the load generator's CPU per operation (host_cores only)
  // Network (peer links, and client links between a client and its server).
  double link_latency_us = 50;
  double link_bandwidth_mbit_s = 1000;
  double client_link_latency_us = 50;
  double client_link_bandwidth_mbit_s = 1000;
  // Disk.
  double fsync_us = 200;
  double disk_bandwidth_mb_s = 300;

  /// Sets one cost by key; throws std::invalid_argument naming the key (unknown key, not a
  /// number, out of range).
  void set(const std::string& key, const std::string& value);
  void set(const std::string& key, double value);
  /// Every key with its value, in a fixed order.
  std::vector<std::pair<std::string, double>> items() const;
  /// Reads a profile file (JSON, as `qlab calibrate` writes it: {"costs": {KEY: VALUE, ...},
  /// ...}, or a flat object of keys). Throws std::invalid_argument naming the file and key.
  void load_file(const std::string& path);
};

/// The keys of PerfProfile with a one-line description each.
const std::vector<std::pair<std::string, std::string>>& perf_profile_keys();

struct PerfKnobs {
  bool enabled = false;
  PerfProfile profile;
  /// Calibration only: time the real node code of every reactor turn on this machine's CPU
  /// (RunResult::host_cpu). Does not change the run.
  bool measure_host_cpu = false;
};

/// What PerfKnobs::measure_host_cpu measured: the node code's CPU time beyond the modelled
/// costs, fitted per client request, per peer message and per turn over the reactor turns
/// (least squares).
struct HostCpuFit {
  std::uint64_t turns = 0;
  std::uint64_t client_requests = 0;
  std::uint64_t peer_messages = 0;
  double measured_ns = 0;  ///< node code CPU time over every turn
  double modelled_ns = 0;  ///< what the model charged for the same turns (transport excluded)
  double request_ns = 0;
  double peer_handling_ns = 0;
  double turn_ns = 0;
};

/// The throughput workload (`--workload bench`): the ZooKeeper paper's benchmark as `qlab
/// bench` runs it. Each client (session) keeps workload.max_outstanding requests in flight;
/// each is a getData (probability read_pct %) or a setData of value_bytes (version -1) on a key
/// drawn uniformly from `keys` znodes, which each client first creates its share of. No think
/// time, no faults; ops completing within [warmup_ms, warmup_ms + measure_ms) of simulated time
/// are measured. The run ends there (no liveness phase, no offline history checks).
struct ThroughputKnobs {
  bool enabled = false;
  int read_pct = 50;
  int value_bytes = 1024;
  int keys = 1000;
  std::int64_t warmup_ms = 300;
  std::int64_t measure_ms = 700;
};

/// What the throughput workload measured.
struct ThroughputResult {
  double seconds = 0;
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  std::uint64_t errors = 0;
  double ops_per_s = 0;
  double reads_per_s = 0;
  double writes_per_s = 0;
  double latency_ms_p50 = 0;
  double latency_ms_p90 = 0;
  double latency_ms_p99 = 0;
  double latency_ms_mean = 0;
  /// Busy fraction of each replica's CPU over the measured window (perf model only).
  std::vector<double> cpu_utilization;
};

}  // namespace quorumlab::sim
