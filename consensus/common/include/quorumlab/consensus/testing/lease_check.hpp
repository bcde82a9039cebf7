// The lease's safety on the scripted network, for every protocol that offers the `lease`
// barrier: a leader cut off from every peer serves lease reads only until another leader can
// exist, never after.
#pragma once

#include <cstdint>
#include <string>

#include "quorumlab/consensus/testing/scripted_network.hpp"

namespace quorumlab::consensus::testing {

/// What isolate_leader_and_watch_lease saw, in rounds (deliver everything, tick everyone).
struct LeaseWatch {
  int last_hit_round = -1;       ///< the last round in which `leader` resolved a lease at once
  int new_leader_round = -1;     ///< the first round in which another node could propose
  std::uint64_t lease_hits = 0;  ///< from the old leader's status
  std::uint64_t lease_misses = 0;
};

/// Cuts `leader` from every peer, then each round asks it for a lease barrier (ids from
/// `first_id`) and notes whether it resolved ok at once (a lease hit), until another node can
/// propose or `max_rounds` passed. A round delivers everything in flight, then gives the
/// leader `leader_ticks` ticks and every other node `other_ticks` (clocks at chosen rates: the
/// drift bound holds while other_ticks / leader_ticks stays near 1). The lease is safe when
/// last_hit_round < new_leader_round.
LeaseWatch isolate_leader_and_watch_lease(ScriptedNetwork& net, NodeId leader,
                                          std::uint64_t first_id = 1000, int max_rounds = 500,
                                          int leader_ticks = 1, int other_ticks = 1);

}  // namespace quorumlab::consensus::testing
