// ZAB phase 1, discovery (Leader.getEpochToPropose / waitForEpochAck, Learner.registerWithLeader).
//
// Learners send FOLLOWERINFO/OBSERVERINFO with their acceptedEpoch. Once a quorum of voters
// (the leader included) connected, the leader picks newEpoch = max(acceptedEpoch) + 1, makes it
// its own acceptedEpoch (durable before LEADERINFO leaves) and sends LEADERINFO. A learner
// accepts an epoch above its acceptedEpoch (durable before ACKEPOCH leaves) and answers with its
// currentEpoch and history; a learner that had already accepted this very epoch answers
// without counting. The epoch is established when a quorum counted, unless a voter's history is
// more recent than the leader's ("Follower is ahead of the leader"): then the leader gives up.
#include "quorumlab/consensus/quorum.hpp"
#include "quorumlab/zab/zab.hpp"

namespace quorumlab::zab {

void ZabBroadcast::become_leading() {
  state_ = PeerState::leading;
  phase_ = Phase::discovery;
  leader_id_ = self_;
  lead_start_tick_ = tick_count_;
  handlers_.clear();
  connecting_ = {self_};
  max_accepted_ = accepted_epoch_;
  new_epoch_ = 0;
  epoch_acks_.clear();
  established_ = false;
  newleader_acks_.clear();
  newleader_index_ = 0;
  leader_summary_epoch_ = current_epoch_;
  leader_summary_zxid_ = log_.last_zxid();
  barriers_.clear();
  read_round_ = read_round_confirmed_ = 0;
  read_round_wanted_ = false;
  round_sent_tick_.clear();
  lease_until_tick_ = 0;  // a lease of an earlier epoch says nothing about this one
  trace(TraceKind::became_candidate, 0, log_.last_zxid(), "LEADING, discovery");
  try_decide_epoch();
}

void ZabBroadcast::on_learner_info(NodeId from, const wire::Packet& p, const wire::LearnerInfo& m) {
  if (m.observer != ctx_.membership.is_observer(from)) {
    logger_->warn("zab {}: {} registers as {} but the membership says otherwise", self_, from,
                  m.observer ? "observer" : "follower");
    return;
  }
  if (p.nonce == 0) return;
  auto it = handlers_.find(from);
  if (it != handlers_.end()) {
    if (it->second.nonce == p.nonce) {  // a duplicate of the current connection
      it->second.last_heard_tick = tick_count_;
      return;
    }
    close_handler(it->second);  // the learner reconnected: its old connection is gone
    handlers_.erase(it);
  }
  if (new_epoch_ != 0 && m.accepted_epoch > new_epoch_) {
    // The learner promised a later epoch (to a prospective leader that never established it)
    // and can never follow ours. ZooKeeper lets it fail and retry forever; we step down so that
    // the next election proposes an epoch above every accepted one.
    become_looking("learner " + std::to_string(from) + " has accepted epoch " +
                   std::to_string(m.accepted_epoch) + ", above ours");
    return;
  }
  LearnerHandler h;
  h.sid = from;
  h.observer = m.observer;
  h.nonce = p.nonce;
  h.accepted_epoch = m.accepted_epoch;
  h.last_heard_tick = tick_count_;
  LearnerHandler& ref = handlers_.emplace(from, h).first->second;
  if (new_epoch_ == 0) {
    max_accepted_ = std::max(max_accepted_, m.accepted_epoch);
    if (!m.observer) connecting_.insert(from);
    try_decide_epoch();
  } else {
    send_leader_info(ref);
  }
}

void ZabBroadcast::try_decide_epoch() {
  if (new_epoch_ != 0) return;
  consensus::QuorumCounter q(ctx_.membership);
  for (NodeId id : connecting_)
    q.add(id);
  if (!q.has_quorum()) return;
  if (max_accepted_ >= 0xffffffffu) {
    logger_->critical("zab {}: epoch space exhausted (accepted epoch {})", self_, max_accepted_);
    return;
  }
  new_epoch_ = max_accepted_ + 1;
  accepted_epoch_ = new_epoch_;
  accepted_seq_ = save_hard_state();
  logger_->info("zab {}: proposing epoch {} to {} connected voters", self_, new_epoch_, q.count());
  for (auto& [sid, h] : handlers_)
    send_leader_info(h);
  try_establish();
}

void ZabBroadcast::send_leader_info(LearnerHandler& h) {
  if (h.leader_info_sent || new_epoch_ == 0) return;
  h.leader_info_sent = true;
  // Our acceptedEpoch must be durable before anyone hears of the epoch.
  send_stream(h, wire::LeaderInfo{new_epoch_, wire::kProtocolVersion}, accepted_seq_);
}

void ZabBroadcast::on_ack_epoch(LearnerHandler& h, const wire::AckEpoch& m) {
  if (h.ack_epoch) return;  // duplicate
  h.ack_epoch = m;
  if (!established_) {
    if (m.counts && !h.observer) {
      bool ahead = m.current_epoch > leader_summary_epoch_ ||
                   (m.current_epoch == leader_summary_epoch_ && m.last_zxid > leader_summary_zxid_);
      if (ahead) {
        become_looking("follower " + std::to_string(h.sid) + " is ahead of the leader");
        return;
      }
      epoch_acks_.insert(h.sid);
      try_establish();
    }
    return;  // synchronized once the epoch is established
  }
  start_sync(h);
}

void ZabBroadcast::try_establish() {
  if (state_ != PeerState::leading || established_ || new_epoch_ == 0) return;
  if (persist_.durable_seq() < accepted_seq_) return;  // our own ACKEPOCH is the durable epoch
  consensus::QuorumCounter q(ctx_.membership);
  q.add(self_);
  for (NodeId id : epoch_acks_)
    q.add(id);
  if (!q.has_quorum()) return;
  established_ = true;
  current_epoch_ = new_epoch_;
  current_seq_ = save_hard_state();
  phase_ = Phase::synchronization;
  newleader_index_ = log_.last_index();
  vote_.peer_epoch = current_epoch_;  // QuorumPeer.updateElectionVote
  trace(TraceKind::became_leader, 0, log_.last_zxid(), "epoch established");
  logger_->info("zab {}: epoch {} established; synchronizing learners to index {}", self_,
                current_epoch_, newleader_index_);
  for (auto& [sid, h] : handlers_) {
    if (h.ack_epoch) start_sync(h);
  }
  try_finish_sync();
}

void ZabBroadcast::become_learner(NodeId leader) {
  state_ = observer_ ? PeerState::observing : PeerState::following;
  phase_ = Phase::discovery;
  leader_id_ = leader;
  nonce_ = ctx_.rng->next_u64() | 1;
  expected_seq_ = 1;
  leader_epoch_ = 0;
  synced_ = false;
  partial_snapshot_.reset();
  up_to_date_ = false;
  leader_commit_ = 0;
  ticks_since_leader_ = 0;
  ticks_since_connect_ = 0;
  max_round_seen_ = 0;
  pending_ack_.reset();
  forwarded_barriers_.clear();
  trace(observer_ ? TraceKind::became_learner : TraceKind::became_follower, leader,
        log_.last_zxid());
  send_to_leader(wire::LearnerInfo{accepted_epoch_, observer_, wire::kProtocolVersion});
}

void ZabBroadcast::on_leader_info(const wire::LeaderInfo& m) {
  bool counts = true;
  if (m.new_epoch > accepted_epoch_) {
    accepted_epoch_ = m.new_epoch;
    save_hard_state();
  } else if (m.new_epoch == accepted_epoch_) {
    counts = false;  // we acknowledged this epoch before: ZAB acks an epoch once
  } else {
    lose_leader("leader's epoch " + std::to_string(m.new_epoch) +
                " is less than our accepted epoch " + std::to_string(accepted_epoch_));
    return;
  }
  leader_epoch_ = m.new_epoch;
  phase_ = Phase::synchronization;
  send_to_leader(history_summary(counts), /*after_persist=*/true);
}

wire::AckEpoch ZabBroadcast::history_summary(bool counts) const {
  wire::AckEpoch a;
  a.current_epoch = current_epoch_;
  a.counts = counts;
  a.last_index = log_.last_index();
  a.last_zxid = log_.last_zxid();
  a.base_index = log_.base_index();
  a.base_zxid = log_.base_zxid();
  LogIndex i = log_.last_index();
  while (i > log_.base_index() &&
         a.segments.size() < static_cast<std::size_t>(cfg_.max_epoch_segments)) {
    auto run = log_.run_containing(i);
    LogIndex first = std::max(run.first, log_.base_index() + 1);
    a.segments.push_back(wire::EpochSegment{log_.at(i).epoch, first, i});
    i = first - 1;
  }
  a.segments_complete = i == log_.base_index();
  return a;
}

}  // namespace quorumlab::zab
