// Leadership transfer (thesis 3.10). The leader
//   1. stops accepting proposals (propose answers "not accepted, leader unknown": the kernel
//      keeps the txns until the next leader takes them),
//   2. brings the target up to date: it waits until the target's match index equals its last
//      index (replication goes on as usual),
//   3. sends TimeoutNow; the target starts an election at once, without PreVote, and its
//      RequestVotes carry the transfer flag so that voters which heard from the leader within
//      the minimum election timeout do not ignore them (check_quorum, 4.2.3); the leader
//      itself steps down on that RequestVote's higher term and votes for the target.
// A transfer that did not complete within an election timeout (election_timeout_max_ticks)
// is given up and the leader takes proposals again (the target may be down or slow). etcd-raft
// does the same; the thesis suggests it.
#include <spdlog/spdlog.h>

#include "quorumlab/raft/raft.hpp"

namespace quorumlab::raft {

TransferResult RaftBroadcast::transfer_leadership(NodeId target) {
  TransferResult r;
  if (!restored_ || state_ != State::leader) {
    r.status = TransferStatus::not_leader;
    r.leader_hint = leader_matched_ ? leader_id_ : 0;
    r.detail = "server " + std::to_string(self_) + " is not the leader" +
               (r.leader_hint ? " (leader " + std::to_string(r.leader_hint) + ")" : "");
    return r;
  }
  if (!is_voter(target)) {
    r.status = TransferStatus::not_voter;
    r.detail = "server " + std::to_string(target) +
               (ctx_.membership.is_member(target) ? " is a learner, not a voter"
                                                  : " is not a member of the ensemble");
    return r;
  }
  if (target == self_) {
    r.status = TransferStatus::already_leader;
    r.leader_hint = self_;
    r.detail =
        "server " + std::to_string(self_) + " already leads in term " + std::to_string(term_);
    return r;
  }
  if (transfer_target_ != 0 && transfer_target_ != target) {
    abort_transfer("superseded by a transfer to " + std::to_string(target));
  }
  const bool restart = transfer_target_ == target;
  transfer_target_ = target;
  // 6.4.1 and 3.10: the target's RequestVotes pass the vote guard the lease rests on, also
  // after this transfer is given up (a late TimeoutNow), so no lease for the rest of the term.
  lease_given_up_ = true;
  transfer_elapsed_ = 0;
  if (!restart) timeout_now_sent_ = false;
  const Progress& p = progress_.at(target);
  trace(TraceKind::custom, target, 0,
        "transfer to " + std::to_string(target) + " started: match " + std::to_string(p.match) +
            " of last index " + std::to_string(log_.last_index()));
  r.status = TransferStatus::started;
  r.leader_hint = self_;
  r.detail = "server " + std::to_string(self_) + " transfers its leadership (term " +
             std::to_string(term_) + ") to " + std::to_string(target);
  maybe_send_timeout_now();
  // Not up to date: make sure it is being sent what it lacks (a probe may be waiting).
  if (!timeout_now_sent_) send_append(target, true);
  return r;
}

void RaftBroadcast::maybe_send_timeout_now() {
  if (state_ != State::leader || transfer_target_ == 0 || timeout_now_sent_) return;
  auto it = progress_.find(transfer_target_);
  if (it == progress_.end() || it->second.match != log_.last_index()) return;
  wire::Message m;
  m.type = wire::Type::timeout_now;
  trace(TraceKind::custom, transfer_target_, log_.zxid_at(log_.last_index()).value_or(0),
        "TimeoutNow sent to " + std::to_string(transfer_target_) + ": its log matches ours up to " +
            std::to_string(log_.last_index()));
  timeout_now_sent_ = true;
  send(transfer_target_, std::move(m));
}

void RaftBroadcast::abort_transfer(const std::string& why) {
  if (transfer_target_ == 0) return;
  trace(TraceKind::custom, transfer_target_, 0,
        "transfer to " + std::to_string(transfer_target_) + " aborted: " + why);
  logger_->info("raft {}: transfer of leadership to {} aborted: {}", self_, transfer_target_, why);
  transfer_target_ = 0;
  transfer_elapsed_ = 0;
  timeout_now_sent_ = false;
}

void RaftBroadcast::transfer_tick() {
  if (transfer_target_ == 0) return;
  if (++transfer_elapsed_ >= cfg_.election_timeout_max_ticks) {
    abort_transfer("not done within an election timeout (" +
                   std::to_string(cfg_.election_timeout_max_ticks) + " ticks)");
  }
}

// The target: campaign now, whatever its election timer says and without PreVote.
void RaftBroadcast::on_timeout_now(NodeId from, const wire::Message& /*m*/) {
  if (learner_ || !is_voter(self_)) return;
  if (state_ == State::leader) return;
  trace(TraceKind::custom, from, 0,
        "TimeoutNow from " + std::to_string(from) + ": campaigning at once for term " +
            std::to_string(term_ + 1));
  become_candidate(/*transfer=*/true);
}

}  // namespace quorumlab::raft
