// Leader leases from bounded clock drift, shared by the protocols that offer the `lease`
// barrier (raft with check_quorum, zab with lease=true).
//
// The guard: a voter that received a message of the leader refuses to help elect any other
// leader (no vote, no candidacy of its own) until `guard_ticks` of its own ticks passed since
// that receipt; after a restart it assumes it just received one. The lease: a leader whose
// round r (sent at its tick T_r) was acknowledged by a quorum of voters may serve reads at its
// commit point without a message while its tick count is below T_r + lease_period_ticks.
//
//   lease_period_ticks = floor((guard_ticks - 1) * (1e6 - drift_ppm) / (1e6 + drift_ppm))
//
// Why it is safe. Each voter of that quorum received round r after T_r (in real time) and
// then refuses to help another leader for at least guard_ticks - 1 of its tick periods (the
// first tick after the receipt may come at once), that is at least
// (guard_ticks - 1) * tick_ms / (1 + drift) of real time. The leader's tick T_r + lease comes
// at most lease * tick_ms / (1 - drift) of real time after T_r. Every quorum that could elect
// another leader holds a voter of the lease's quorum, so no other leader exists while the
// lease holds, and the leader's commit point covers every acknowledged write. Elapsed ticks
// never under-count real time, across process stalls too (broadcast.hpp, "Time"): a leader
// stopped past its lease gets the missed ticks before any message received after the stall.
#pragma once

#include <algorithm>
#include <cstdint>

namespace quorumlab::consensus {

/// See the file comment. 0 when the guard is too short for a lease of one tick.
constexpr std::int64_t lease_period_ticks(std::int64_t guard_ticks, std::int64_t drift_ppm) {
  const std::int64_t d = std::clamp<std::int64_t>(drift_ppm, 0, 999'999);
  const std::int64_t base = std::clamp<std::int64_t>(guard_ticks - 1, 0, std::int64_t{1} << 31);
  return base * (1'000'000 - d) / (1'000'000 + d);
}

static_assert(lease_period_ticks(15, 1000) == 13);
static_assert(lease_period_ticks(30, 1000) == 28);
static_assert(lease_period_ticks(1, 0) == 0);

}  // namespace quorumlab::consensus
