// check_invariants(): what one replica can check of Raft's safety properties (Figure 3), on
// its state (check_basic) and on the step from its state at the previous call (check_delta),
// as LogCabin's checkBasic/checkDelta.
//   basic: commit point within the log; terms non-decreasing along the log and never above the
//          current term; every entry's zxid is its (term, index) encoding (so zxids increase
//          strictly); a leader voted for itself; a learner never votes or leads; the leader's
//          progress is within its log.
//   delta: the term never decreases; one vote per term (election safety, locally); the commit
//          index never decreases and a committed entry never changes (state machine safety);
//          a leader never overwrites or drops its own entries in its term (leader append-only).
#include "quorumlab/raft/raft.hpp"

namespace quorumlab::raft {

std::string RaftBroadcast::check_invariants() {
  if (!restored_) return {};
  std::string error;
  if (internal_errors_ > 0) error = "internal error: " + last_internal_error_;
  if (error.empty()) error = check_basic();
  if (error.empty()) error = check_delta();
  remember_for_delta();
  return error.empty() ? error : "raft " + std::to_string(self_) + ": " + error;
}

std::string RaftBroadcast::check_basic() const {
  if (commit_index_ < log_.base_index() || commit_index_ > log_.last_index())
    return "commit index " + std::to_string(commit_index_) + " outside the log [" +
           std::to_string(log_.base_index()) + ", " + std::to_string(log_.last_index()) + "]";
  if (log_.last_epoch() > term_)
    return "log term " + std::to_string(log_.last_epoch()) + " above the current term " +
           std::to_string(term_);
  LogIndex from = std::max(verified_index_, log_.base_index()) + 1;
  std::uint64_t prev_term = *log_.term_at(from - 1);
  for (LogIndex i = from; i <= log_.last_index(); ++i) {
    const LogEntry& e = log_.at(i);
    if (e.epoch < prev_term)
      return "term decreases at index " + std::to_string(i) + " (log matching)";
    if (e.zxid != make_zxid(e.epoch, e.index))
      return "entry " + std::to_string(i) + " has zxid " + std::to_string(e.zxid) +
             ", not its (term, index) encoding";
    prev_term = e.epoch;
  }
  verified_index_ = log_.last_index();
  if (state_ == State::leader) {
    if (vote_ != self_) return "leader did not vote for itself";
    if (leader_id_ != self_) return "leader names " + std::to_string(leader_id_) + " as leader";
    for (const auto& [id, p] : progress_) {
      if (p.match > log_.last_index())
        return "progress of " + std::to_string(id) + " matches beyond the leader's log";
      if (p.next == 0) return "progress of " + std::to_string(id) + " has next 0";
    }
  }
  if (learner_ && (state_ != State::follower || vote_ != 0)) return "a learner campaigned or voted";
  return {};
}

std::string RaftBroadcast::check_delta() const {
  if (!prev_.valid) return {};
  if (term_ < prev_.term)
    return "term went back from " + std::to_string(prev_.term) + " to " + std::to_string(term_);
  if (term_ == prev_.term && prev_.vote != 0 && vote_ != prev_.vote)
    return "voted twice in term " + std::to_string(term_) + ": " + std::to_string(prev_.vote) +
           " then " + std::to_string(vote_);
  if (commit_index_ < prev_.commit_index)
    return "commit index went back from " + std::to_string(prev_.commit_index) + " to " +
           std::to_string(commit_index_);
  if (auto z = log_.zxid_at(prev_.commit_index); z && *z != prev_.commit_zxid)
    return "committed entry " + std::to_string(prev_.commit_index) + " changed";
  if (prev_.state == State::leader && state_ == State::leader && term_ == prev_.term) {
    if (log_.last_index() < prev_.last_index) return "leader dropped entries of its log";
    if (auto t = log_.term_at(prev_.last_index); t && *t != prev_.last_term)
      return "leader overwrote entry " + std::to_string(prev_.last_index);
  }
  return {};
}

void RaftBroadcast::remember_for_delta() {
  prev_.valid = true;
  prev_.term = term_;
  prev_.vote = vote_;
  prev_.state = state_;
  prev_.commit_index = commit_index_;
  prev_.commit_zxid = log_.zxid_at(commit_index_).value_or(0);
  prev_.last_index = log_.last_index();
  prev_.last_term = log_.last_epoch();
}

}  // namespace quorumlab::raft
