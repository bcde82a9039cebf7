// The one object through which a plugin reaches the world. Everything a plugin may touch is
// here: its identity and membership, parameters, a seeded RNG, a tracer and a logger.
// No globals, no singletons, no clocks or sockets: time is given to broadcast plugins as ticks.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "quorumlab/params.hpp"
#include "quorumlab/rng.hpp"
#include "quorumlab/trace.hpp"
#include "quorumlab/types.hpp"

namespace quorumlab {

/// The replicas of the ensemble. `voters` form quorums; `observers` receive commits only.
/// Both are sorted ascending and disjoint.
struct Membership {
  std::vector<NodeId> voters;
  std::vector<NodeId> observers;

  bool is_voter(NodeId id) const;
  bool is_observer(NodeId id) const;
  bool is_member(NodeId id) const { return is_voter(id) || is_observer(id); }
  /// Every member but `self`: the voters, then the observers, each ascending.
  std::vector<NodeId> peers_of(NodeId self) const;
  /// Number of votes that make a majority of voters.
  std::size_t quorum_size() const { return voters.size() / 2 + 1; }
};

/// Context handed to every plugin factory. The plugin may keep references to the members for
/// its whole lifetime; the kernel keeps the context alive longer than the plugin.
struct PluginContext {
  NodeId self = 0;
  Membership membership;
  Params params;       ///< resolved against the plugin's schema
  Rng* rng = nullptr;  ///< seeded, a stream of this plugin's own; the only randomness
  /// Real time of one tick (broadcast.hpp: "Time"), so a plugin can turn ticks into time.
  std::int64_t tick_ms = 10;
  /// Bound on this node's clock drift against real time, in parts per million: over any
  /// interval, elapsed ticks * tick_ms is within (1 +/- clock_drift_ppm / 1e6) of real time.
  /// A lease must shrink by it.
  std::int64_t clock_drift_ppm = 0;
  Tracer* tracer = nullptr;                ///< never null (NullTracer when off)
  std::shared_ptr<spdlog::logger> logger;  ///< the plugin's component logger
  std::filesystem::path data_dir;          ///< storage plugins only; empty otherwise
};

}  // namespace quorumlab
