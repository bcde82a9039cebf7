// Failover measurement: kill -9 (or pause) the leader of a running local cluster under a write
// load and measure the time from the fault to the first successful write submitted after it.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "cluster.hpp"

namespace quorumlab::cluster {

/// How the leader fails: kill -9 (a crash; restarted after the round), or SIGSTOP (a stall:
/// the process keeps its connections and state; resumed with SIGCONT after the round, and then
/// has to find out it was deposed), or isolate (the leader is partitioned from every other
/// node through the servers' transport rules, partition_rules("L/others"); it keeps running and
/// its clients, and is healed after the round).
enum class FailoverFault { kill, pause, isolate };

struct FailoverOptions {
  int rounds = 3;
  FailoverFault fault = FailoverFault::kill;
  int writers = 8;  ///< writes kept in flight
  std::chrono::milliseconds warmup{1000};
  std::chrono::milliseconds timeout{20000};  ///< per round, for the new write and the catch-up
  bool restart_old_leader = true;  ///< restart (kill) or resume (pause) it after each round
};

/// "kill", "pause" or "isolate"; throws std::invalid_argument naming the allowed values.
FailoverFault parse_failover_fault(const std::string& name);

struct FailoverRound {
  NodeId old_leader = 0;
  NodeId new_leader = 0;
  double failover_ms = 0;  ///< fault -> first successful write submitted after the fault
  std::uint64_t writes_before = 0;
  std::uint64_t failed_writes = 0;  ///< errors seen while the leader was gone (CONNECTIONLOSS, ...)
  bool converged = false;           ///< after restart/resume every node reached the same digest
};

/// Runs `options.rounds` rounds. `progress` gets one line per step. Throws on timeouts.
std::vector<FailoverRound> measure_failover(
    ClusterSpec& spec, const FailoverOptions& options,
    const std::function<void(const std::string&)>& progress);

}  // namespace quorumlab::cluster
