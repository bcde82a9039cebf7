// Linearizability checking of znode histories: Wing & Gong's search with Lowe's memoization
// (the cache of (linearized set, model state) pairs), partitioned per key as Porcupine does:
// a history is linearizable iff each key's sub-history is, since the znodes are independent
// registers.
//
// The model of one znode is a versioned register: absent, or (data, version). create, setData
// and delete honour versions and report NODEEXISTS / NONODE / BADVERSION; getData and exists
// observe. An operation without a reply (its outcome is unknown) may take effect at any point
// after its invocation, or never: it gets an infinite return time, as in Porcupine. When the
// outcome of such a write is known (outcome_from_log), only its reply time is unknown. An
// operation known to have taken effect by `effect_by_us` returns then if that is earlier
// than its reply.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quorumlab/sim/history.hpp"

namespace quorumlab::sim {

struct LinearizabilityOptions {
  bool include_reads = true;  ///< false: only writes (ZooKeeper promises linearizable writes)
  /// Bound on search steps per key; beyond it the key's verdict is "unknown", not a failure.
  std::uint64_t max_steps_per_key = 1'000'000;
};

struct LinearizabilityResult {
  bool ok = true;
  std::size_t keys_checked = 0;
  std::size_t ops_checked = 0;
  std::size_t keys_unknown = 0;  ///< search budget exhausted
  std::string failed_key;
  /// For a failure: the key's operations around the point where every linearization got
  /// stuck, one per line, with the operation that could not be placed marked.
  std::string explanation;
};

/// Checks every key of `history` (sync ops are ignored).
LinearizabilityResult check_linearizable(const History& history,
                                         const LinearizabilityOptions& options = {});

/// Checks one key's operations (all with the same key).
LinearizabilityResult check_linearizable_key(const std::vector<const HistoryOp*>& ops,
                                             const LinearizabilityOptions& options);

}  // namespace quorumlab::sim
