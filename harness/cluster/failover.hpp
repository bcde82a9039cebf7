// Failover measurement: kill -9 the leader of a running local cluster under a write load and
// measure the time from the kill to the first successful write submitted after it.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "cluster.hpp"

namespace quorumlab::cluster {

struct FailoverOptions {
  int rounds = 3;
  int writers = 8;  ///< writes kept in flight
  std::chrono::milliseconds warmup{1000};
  std::chrono::milliseconds timeout{20000};  ///< per round, for the new write and the catch-up
  bool restart_old_leader = true;
};

struct FailoverRound {
  NodeId old_leader = 0;
  NodeId new_leader = 0;
  double failover_ms = 0;  ///< kill -> first successful write submitted after the kill
  std::uint64_t writes_before = 0;
  std::uint64_t failed_writes = 0;  ///< errors seen while the leader was gone (CONNECTIONLOSS, ...)
  bool converged = false;           ///< after restart every node reached the same digest
};

/// Runs `options.rounds` rounds. `progress` gets one line per step. Throws on timeouts.
std::vector<FailoverRound> measure_failover(
    ClusterSpec& spec, const FailoverOptions& options,
    const std::function<void(const std::string&)>& progress);

}  // namespace quorumlab::cluster
