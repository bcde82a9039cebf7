#include "quorumlab/consensus/testing/lease_check.hpp"

namespace quorumlab::consensus::testing {

LeaseWatch isolate_leader_and_watch_lease(ScriptedNetwork& net, NodeId leader,
                                          std::uint64_t first_id, int max_rounds) {
  LeaseWatch w;
  net.isolate(leader);
  std::uint64_t id = first_id;
  for (int round = 0; round < max_rounds; ++round) {
    net.request_barrier(leader, id, BarrierKind::lease);
    const auto b = net.barrier(leader, id);
    if (b && b->ok) w.last_hit_round = round;
    ++id;
    const auto now = net.leader();
    if (now && *now != leader) {
      w.new_leader_round = round;
      break;
    }
    net.round();
  }
  const BroadcastStatus s = net.status(leader);
  w.lease_hits = s.lease_hits;
  w.lease_misses = s.lease_misses;
  return w;
}

}  // namespace quorumlab::consensus::testing
