// The ZooKeeper paper's throughput benchmark (Hunt et al., ATC 2010, §5.1) over the ZooKeeper
// wire protocol, so the same load runs against quorumlab's ZooKeeper front-end and against
// Apache ZooKeeper. Same options and counters as the native `qlab bench`: `sessions` sessions
// each keep `outstanding` requests in flight; each request is a getData (probability
// read_pct %) or a setData of value_bytes on a key chosen uniformly from `keys` znodes under
// `root`, for warmup_s + duration_s seconds.
//
// Sessions go round-robin over the hosts of the connect string (session i to host i mod n),
// as the paper spreads its clients over the servers; a refused connect moves on to the next
// host, like a ZooKeeper client. Sessions lost during the run are counted as CONNECTIONLOSS
// for their requests in flight and not reopened. One thread drives every session
// (non-blocking sockets and poll); latency is measured from submit to reply.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "quorumlab/client/histogram.hpp"

namespace quorumlab::zkwire {

/// Counters of one measurement period (the native bench's `Period`).
struct ZkBenchPeriod {
  client::LatencyHistogram latency_ns;  ///< successful ops only
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  std::map<std::string, std::uint64_t> errors;  ///< by ZooKeeper error name

  void merge(const ZkBenchPeriod& o);
};

struct ZkBenchOptions {
  std::string connect;  ///< host:port[,host:port...]
  int sessions = 12;
  int outstanding = 100;
  int read_pct = 50;
  int value_bytes = 1024;
  int keys = 1000;
  double duration_s = 10;
  double warmup_s = 2;
  std::uint64_t seed = 1;
  int timeout_ms = 30000;  ///< requested session timeout; also the connect/drain deadline
  std::string root = "/bench";
  double interval_s = 1.0;  ///< length of the reporting intervals (on_interval)
  /// Called once per interval (and at the phase ends) with the interval's counters: elapsed
  /// seconds since the start, the interval, its length in seconds, and whether it was warmup.
  std::function<void(double t, const ZkBenchPeriod&, double seconds, bool warmup)> on_interval;
};

struct ZkBenchResult {
  bool ok = false;
  std::string error;    ///< why, when !ok (setup failed)
  ZkBenchPeriod total;  ///< the measured period (warmup excluded)
  double measured_s = 0;
  std::uint64_t sessions_lost = 0;  ///< connections that broke during the run
};

/// Creates the keys (or resets their value), runs the load, closes the sessions.
ZkBenchResult run_zk_bench(const ZkBenchOptions& options);

}  // namespace quorumlab::zkwire
