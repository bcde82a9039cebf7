// check_invariants(): the state (check_basic) and the step from the previous call (check_delta),
// as LogCabin's checkBasic/checkDelta. The simulator and the scripted network call it after
// every event; it must stay cheap, so the log shape is verified incrementally.
#include <string>

#include "quorumlab/zab/zab.hpp"

namespace quorumlab::zab {

std::string ZabBroadcast::check_invariants() {
  std::string err = check_basic();
  if (err.empty()) err = check_delta();
  remember_for_delta();
  return err;
}

namespace {

/// Collects violation texts; costs nothing while every check holds.
class Errors {
 public:
  Errors& operator<<(const std::string& s) {
    text_ += s;
    return *this;
  }
  Errors& operator<<(const char* s) {
    text_ += s;
    return *this;
  }
  Errors& operator<<(std::uint64_t v) {
    text_ += std::to_string(v);
    return *this;
  }
  std::string str() const { return text_; }

 private:
  std::string text_;
};

}  // namespace

std::string ZabBroadcast::check_basic() const {
  Errors err;
  if (internal_errors_) err << "internal error (" << last_internal_error_ << "); ";
  if (current_epoch_ > accepted_epoch_) {
    err << "currentEpoch " << current_epoch_ << " > acceptedEpoch " << accepted_epoch_ << "; ";
  }
  // Log shape: dense (by construction), zxids strictly increasing, epochs non-decreasing and
  // equal to the zxid's epoch bits.
  LogIndex from = std::max(verified_index_, log_.base_index());
  for (LogIndex i = from + 1; i <= log_.last_index(); ++i) {
    const LogEntry& e = log_.at(i);
    Zxid prev_zxid = *log_.zxid_at(i - 1);
    std::uint64_t prev_epoch = *log_.epoch_at(i - 1);
    if (e.index != i) err << "entry at " << i << " says index " << e.index << "; ";
    if (e.zxid <= prev_zxid) err << "zxid at " << i << " not above the previous; ";
    if (e.epoch < prev_epoch) err << "epoch decreases at " << i << "; ";
    if (zxid_epoch(e.zxid) != e.epoch) err << "zxid/epoch mismatch at " << i << "; ";
  }
  verified_index_ = log_.last_index();
  if (commit_index_ > log_.last_index()) err << "commit index beyond the log; ";
  if (commit_index_ < log_.base_index()) err << "commit index below the snapshot; ";
  if (log_.last_epoch() > accepted_epoch_ && state_ != PeerState::looking && !observer_) {
    // Entries of an epoch are only logged after accepting it (followers) or leading it.
    if (!(state_ == PeerState::following && !synced_)) {
      err << "log holds epoch " << log_.last_epoch() << " above acceptedEpoch; ";
    }
  }
  switch (state_) {
    case PeerState::looking:
      if (phase_ != Phase::election || leader_id_ != 0) err << "LOOKING outside election; ";
      break;
    case PeerState::leading:
      if (observer_) err << "an observer is leading; ";
      if (leader_id_ != self_) err << "leading but leader id is " << leader_id_ << "; ";
      if (phase_ == Phase::election) err << "leading in the election phase; ";
      if (established_ && current_epoch_ != new_epoch_) err << "leader epoch mismatch; ";
      if (phase_ == Phase::broadcast) {
        if (!established_) err << "broadcasting without an established epoch; ";
        if (commit_index_ < newleader_index_) err << "initial history not committed; ";
        if (log_.last_epoch() > current_epoch_) err << "leader log beyond its epoch; ";
        if (log_.last_epoch() == current_epoch_ && log_.last_index() > newleader_index_ &&
            zxid_counter(log_.last_zxid()) >= next_counter_) {
          err << "zxid counter behind the log; ";
        }
      }
      break;
    case PeerState::following:
    case PeerState::observing:
      if ((state_ == PeerState::observing) != observer_) err << "learner role mismatch; ";
      if (leader_id_ == 0 || leader_id_ == self_) err << "learner without a leader; ";
      if (synced_ && current_epoch_ != leader_epoch_) err << "synced but currentEpoch differs; ";
      if (up_to_date_ && !synced_) err << "UPTODATE before NEWLEADER; ";
      if (commit_index_ > log_.last_index()) err << "learner committed beyond its log; ";
      break;
  }
  return err.str();
}

std::string ZabBroadcast::check_delta() const {
  if (!prev_.valid) return {};
  Errors err;
  if (accepted_epoch_ < prev_.accepted_epoch) err << "acceptedEpoch went back; ";
  if (current_epoch_ < prev_.current_epoch) err << "currentEpoch went back; ";
  if (commit_index_ < prev_.commit_index) err << "commit index went back; ";
  Zxid commit_zxid = log_.zxid_at(commit_index_).value_or(0);
  if (commit_zxid < prev_.commit_zxid) err << "committed zxid went back; ";
  if (prev_.commit_index >= log_.base_index() && prev_.commit_index > 0) {
    auto z = log_.zxid_at(prev_.commit_index);
    if (!z || *z != prev_.commit_zxid) {
      err << "committed entry at " << prev_.commit_index << " changed; ";
    }
  }
  if (prev_.leading_established && state_ == PeerState::leading && established_ &&
      current_epoch_ == prev_.leader_epoch) {
    // A leader never truncates its own log.
    if (log_.last_index() < prev_.leader_last_index) err << "leader log shrank; ";
    if (prev_.leader_last_index >= log_.base_index()) {
      auto z = log_.zxid_at(prev_.leader_last_index);
      if (z && *z != prev_.leader_last_zxid) err << "leader log rewritten; ";
    }
  }
  return err.str();
}

void ZabBroadcast::remember_for_delta() {
  prev_.valid = true;
  prev_.accepted_epoch = accepted_epoch_;
  prev_.current_epoch = current_epoch_;
  prev_.commit_index = commit_index_;
  prev_.commit_zxid = log_.zxid_at(commit_index_).value_or(0);
  prev_.leading_established = state_ == PeerState::leading && established_;
  prev_.leader_epoch = current_epoch_;
  prev_.leader_last_index = log_.last_index();
  prev_.leader_last_zxid = log_.last_zxid();
}

}  // namespace quorumlab::zab
