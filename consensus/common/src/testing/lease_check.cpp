#include "quorumlab/consensus/testing/lease_check.hpp"

namespace quorumlab::consensus::testing {

LeaseWatch isolate_leader_and_watch_lease(ScriptedNetwork& net, NodeId leader,
                                          std::uint64_t first_id, int max_rounds, int leader_ticks,
                                          int other_ticks) {
  LeaseWatch w;
  net.isolate(leader);
  std::uint64_t barrier_id = first_id;
  for (int round = 0; round < max_rounds; ++round) {
    net.request_barrier(leader, barrier_id, BarrierKind::lease);
    const auto b = net.barrier(leader, barrier_id);
    if (b && b->ok) w.last_hit_round = round;
    ++barrier_id;
    const auto now = net.leader();
    if (now && *now != leader) {
      w.new_leader_round = round;
      break;
    }
    net.deliver_all();
    for (NodeId id : net.ids()) {
      if (!net.is_up(id)) continue;
      for (int t = 0; t < (id == leader ? leader_ticks : other_ticks); ++t)
        net.tick(id);
    }
  }
  const BroadcastStatus s = net.status(leader);
  w.lease_hits = s.lease_hits;
  w.lease_misses = s.lease_misses;
  return w;
}

}  // namespace quorumlab::consensus::testing
