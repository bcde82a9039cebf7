// Quorum arithmetic shared by broadcast plugins: who agrees, and what a majority of voters has.
//
// Only voters count. Observers (and ids outside the membership) are ignored everywhere here, so
// a caller may feed every peer's report without filtering.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#include "quorumlab/plugin/context.hpp"

namespace quorumlab::consensus {

/// A set of distinct voters that agree on one thing (an ack, an epoch, a vote).
/// The membership must outlive the counter.
class QuorumCounter {
 public:
  explicit QuorumCounter(const Membership& membership) : membership_(&membership) {}

  /// Adds `id`. Returns true if `id` is a voter that was not counted yet.
  bool add(NodeId id) {
    if (!membership_->is_voter(id)) return false;
    auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
    if (it != ids_.end() && *it == id) return false;
    ids_.insert(it, id);
    return true;
  }
  bool contains(NodeId id) const { return std::binary_search(ids_.begin(), ids_.end(), id); }
  /// Number of distinct voters counted.
  std::size_t count() const { return ids_.size(); }
  bool has_quorum() const { return ids_.size() >= membership_->quorum_size(); }
  void clear() { ids_.clear(); }
  const std::vector<NodeId>& ids() const { return ids_; }

 private:
  const Membership* membership_;
  std::vector<NodeId> ids_;  ///< sorted
};

/// The largest value that a quorum of voters has reached: sort the voters' values in descending
/// order and take the one at position quorum_size - 1. `value_of(voter)` gives each voter's
/// value (0 for a voter with no report). This is a leader's commit point from its followers'
/// acknowledged indexes, or the confirmed round of a read-index quorum check.
inline std::uint64_t quorum_value(const Membership& membership,
                                  const std::function<std::uint64_t(NodeId)>& value_of) {
  if (membership.voters.empty()) return 0;
  std::vector<std::uint64_t> values;
  values.reserve(membership.voters.size());
  for (NodeId id : membership.voters)
    values.push_back(value_of(id));
  std::sort(values.begin(), values.end(), std::greater<>());
  return values[membership.quorum_size() - 1];
}

}  // namespace quorumlab::consensus
