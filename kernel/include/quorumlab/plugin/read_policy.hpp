// Read-policy plugins: the server a client is connected to decides how to serve each read.
// The kernel implements the mechanisms; a policy only chooses among them.
#pragma once

#include <cstdint>
#include <optional>

#include <boost/config.hpp>

#include "quorumlab/plugin/broadcast.hpp"

namespace quorumlab {

/// How a read is served. Every mechanism but `local` asks the broadcast plugin for a barrier
/// of one kind (barrier_for) and then reads on this server, where the client is connected
/// (so its watches fire there), once it has applied the barrier's commit point.
enum class ReadMechanism : std::uint8_t {
  local,         ///< serve once the session's last seen zxid is applied (ZooKeeper's default)
  sync_barrier,  ///< a sync_op barrier through the leader, then a local read
  leader,        ///< a leader_commit barrier (the leader's commit point, no quorum round)
  read_index,    ///< read-index barrier (quorum-confirmed leadership), then a local read
  lease,         ///< a lease barrier: the leader's commit point while its lease holds
};
const char* to_string(ReadMechanism m);

/// The barrier kind a mechanism asks for; nullopt for `local`.
constexpr std::optional<BarrierKind> barrier_for(ReadMechanism m) {
  switch (m) {
    case ReadMechanism::sync_barrier:
      return BarrierKind::sync_op;
    case ReadMechanism::leader:
      return BarrierKind::leader_commit;
    case ReadMechanism::read_index:
      return BarrierKind::read_index;
    case ReadMechanism::lease:
      return BarrierKind::lease;
    case ReadMechanism::local:
      break;
  }
  return std::nullopt;
}

/// The capability bit a mechanism needs from the broadcast plugin (0 for `local`).
constexpr std::uint32_t barrier_bit_for(ReadMechanism m) {
  return barrier_for(m) ? barrier_bit(*barrier_for(m)) : 0u;
}

/// What a read policy promises about its reads; the simulator checks every run against it.
enum class ReadGuarantee : std::uint8_t {
  none = 0,                ///< not a read policy
  ordered_sequential = 1,  ///< ZooKeeper's: linearizable writes, FIFO client order, no read
                           ///< from the past of what the session saw; reads may be stale
  linearizable = 2,        ///< every read sees every write acknowledged before it began
  linearizable_if_clocks_bounded = 3,  ///< linearizable while clocks drift within the bound
  /// ZooKeeper's guarantees, and a read sees every write acknowledged more than
  /// ReadPolicy::staleness_bound_ms() before it began (while clocks drift within the bound)
  bounded_staleness = 4,
};
const char* to_string(ReadGuarantee g);

/// A commit point this replica learned from a read_index barrier it asked for: every write
/// acknowledged before the replica asked (at its tick `asked_at_tick`) is at or below `zxid`.
struct ConfirmedPoint {
  Zxid zxid = 0;
  std::int64_t asked_at_tick = -1;  ///< -1: none yet
};

/// What the policy may look at when choosing.
struct ReadInfo {
  BroadcastStatus status;  ///< this replica's broadcast status
  Zxid session_last_zxid = 0;
  Zxid applied_zxid = 0;
  std::int64_t now_tick = 0;  ///< the node's ticks since start (PluginContext::tick_ms each)
  ConfirmedPoint confirmed;   ///< the newest read_index point (by asked_at_tick)
};

class BOOST_SYMBOL_VISIBLE ReadPolicy {
 public:
  virtual ~ReadPolicy() = default;
  /// Chooses the mechanism for one read. Must be cheap: it runs on every read.
  virtual ReadMechanism choose(const ReadInfo& info) = 0;
  /// ReadGuarantee::bounded_staleness: the bound in milliseconds (from the policy's
  /// parameters). Others: nullopt.
  virtual std::optional<std::int64_t> staleness_bound_ms() const { return std::nullopt; }
};

}  // namespace quorumlab
