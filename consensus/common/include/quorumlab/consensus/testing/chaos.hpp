// Chaos: random faults over a ScriptedNetwork, for seeded randomized tests.
//
// Each step picks one action with fixed weights: deliver the oldest message of a random link
// (FIFO, like a TCP or ZeroMQ connection), deliver any message (reordering), drop, duplicate,
// tick a node, propose at a node, ask a barrier, complete or stop persistence, crash, restart,
// partition, heal, compact. Every step runs the network's checks. Nothing here depends on the
// protocol: the plugin only sees the Broadcast interface.
//
// `heal_and_check_progress()` then removes every fault and requires liveness: a new proposal
// commits on every node within a bounded number of rounds.
#pragma once

#include <cstdint>
#include <deque>
#include <set>
#include <string>

#include "quorumlab/consensus/testing/scripted_network.hpp"
#include "quorumlab/rng.hpp"

namespace quorumlab::consensus::testing {

struct ChaosOptions {
  // Relative weights of the actions.
  unsigned deliver_fifo = 600;
  unsigned deliver_any = 20;
  unsigned drop = 15;
  unsigned duplicate = 15;
  unsigned tick = 250;
  unsigned propose = 50;
  unsigned barrier = 10;
  unsigned persist = 60;        ///< complete a pending batch of a manual-persist node
  unsigned toggle_persist = 5;  ///< switch a node between auto and manual persistence
  unsigned crash = 3;
  unsigned restart = 10;
  unsigned partition = 3;
  unsigned heal = 6;
  unsigned compact = 4;
  /// Most nodes down at once; by default the voters beyond a quorum.
  std::size_t max_down = static_cast<std::size_t>(-1);
  /// Above this many messages in flight, ticks and proposals turn into deliveries.
  std::size_t max_in_flight = 500;
  /// Actions kept for the failure report.
  std::size_t history = 40;
};

class Chaos {
 public:
  Chaos(ScriptedNetwork& net, std::uint64_t seed, ChaosOptions options = {});

  /// One random action (plus the network's checks).
  void step();
  void run(std::size_t steps);

  /// Heals links, restarts crashed nodes, turns persistence back on, then runs rounds until a
  /// leader exists and a new proposal is applied on every node. Returns "" on success, else a
  /// description of what did not happen.
  std::string heal_and_check_progress(std::size_t max_rounds = 400);

  /// The last actions, one per line, for failure messages.
  std::string recent() const;
  std::uint64_t proposals_accepted() const { return proposals_accepted_; }
  /// Network steps the healing phase took to elect a leader, and to commit everywhere.
  std::uint64_t heal_steps_leader() const { return heal_steps_leader_; }
  std::uint64_t heal_steps_commit() const { return heal_steps_commit_; }

 private:
  NodeId random_node();
  void note(std::string action);
  std::size_t down_count() const;

  ScriptedNetwork& net_;
  Rng rng_;
  ChaosOptions options_;
  std::deque<std::string> recent_;
  std::set<NodeId> manual_;  ///< nodes with manual persistence
  std::uint64_t next_txn_ = 1;
  std::uint64_t next_barrier_ = 1;
  std::uint64_t proposals_accepted_ = 0;
  std::uint64_t heal_steps_leader_ = 0;
  std::uint64_t heal_steps_commit_ = 0;
};

}  // namespace quorumlab::consensus::testing
