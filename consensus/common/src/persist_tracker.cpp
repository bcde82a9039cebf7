#include "quorumlab/consensus/persist_tracker.hpp"

#include <algorithm>

namespace quorumlab::consensus {

void PersistTracker::reset(LogIndex durable_last_index) {
  pending_.clear();
  unemitted_rewrite_.reset();
  durable_index_ = durable_last_index;
  durable_seq_ = next_seq_ - 1;
}

void PersistTracker::on_rewrite(LogIndex from) {
  unemitted_rewrite_ = unemitted_rewrite_ ? std::min(*unemitted_rewrite_, from) : from;
}

std::uint64_t PersistTracker::on_emit(LogIndex last_index_after) {
  Batch b;
  b.seq = next_seq_++;
  b.last_index_after = last_index_after;
  b.rewrite_from = unemitted_rewrite_;
  unemitted_rewrite_.reset();
  pending_.push_back(b);
  return b.seq;
}

bool PersistTracker::on_persisted(LogIndex index) {
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const Batch& b) { return b.last_index_after == index; });
  if (it == pending_.end()) return false;
  durable_seq_ = it->seq;
  durable_index_ = index;
  pending_.erase(pending_.begin(), it + 1);
  return true;
}

LogIndex PersistTracker::stable_index() const {
  LogIndex stable = durable_index_;
  for (const auto& b : pending_) {
    if (b.rewrite_from) stable = std::min(stable, *b.rewrite_from);
  }
  if (unemitted_rewrite_) stable = std::min(stable, *unemitted_rewrite_);
  return stable;
}

}  // namespace quorumlab::consensus
