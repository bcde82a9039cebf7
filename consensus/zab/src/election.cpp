// Fast Leader Election (ZooKeeper's FastLeaderElection.lookForLeader), driven by ticks.
//
// A LOOKING server proposes itself (observers propose nobody), broadcasts its vote to the voters
// and adopts any better vote it hears (totalOrderPredicate). Votes of one election round share
// a logical clock (electionEpoch); a higher clock restarts the tally. Once a quorum of voters
// agrees with our vote, we wait finalize_wait_ticks for a better one and then settle.
// Notifications from FOLLOWING/LEADING servers let a LOOKING server join an established leader
// without an election (outofelection), provided the leader itself says LEADING.
#include "quorumlab/consensus/quorum.hpp"
#include "quorumlab/zab/zab.hpp"

namespace quorumlab::zab {

bool total_order_predicate(const Membership& membership, NodeId new_leader, Zxid new_zxid,
                           std::uint64_t new_epoch, NodeId cur_leader, Zxid cur_zxid,
                           std::uint64_t cur_epoch) {
  // A candidate with no quorum weight (an observer, or nobody) never wins.
  if (!membership.is_voter(new_leader)) return false;
  if (new_epoch != cur_epoch) return new_epoch > cur_epoch;
  if (new_zxid != cur_zxid) return new_zxid > cur_zxid;
  return new_leader > cur_leader;
}

namespace {

/// Vote.equals: votes of LOOKING servers must match entirely; settled votes only in leader and
/// peer epoch.
bool agree(const Vote& a, const Vote& b) {
  if (a.state == PeerState::looking || b.state == PeerState::looking) {
    return a.leader == b.leader && a.zxid == b.zxid && a.election_epoch == b.election_epoch &&
           a.peer_epoch == b.peer_epoch;
  }
  return a.leader == b.leader && a.peer_epoch == b.peer_epoch;
}

}  // namespace

Vote ZabBroadcast::init_vote() const {
  Vote v;
  v.election_epoch = logical_clock_;
  if (!observer_) {
    v.leader = self_;
    v.zxid = log_.last_zxid();
    v.peer_epoch = current_epoch_;
  }
  return v;
}

void ZabBroadcast::become_looking(const std::string& reason) {
  if (state_ != PeerState::looking) {
    logger_->info("zab {}: {} -> LOOKING: {}", self_, to_string(state_), reason);
  }
  fail_all_barriers();
  if (state_ == PeerState::leading) {
    for (auto& [sid, h] : handlers_) {
      if (h.leader_info_sent) send_stream(h, wire::Close{});
    }
  }
  handlers_.clear();
  connecting_.clear();
  epoch_acks_.clear();
  newleader_acks_.clear();
  new_epoch_ = 0;
  established_ = false;
  newleader_index_ = 0;
  pending_ack_.reset();
  synced_ = false;
  partial_snapshot_.reset();
  up_to_date_ = false;
  leader_id_ = 0;
  leader_epoch_ = 0;
  nonce_ = 0;
  state_ = PeerState::looking;
  phase_ = Phase::election;
  enter_election();
}

bool ZabBroadcast::election_guarded() const {
  return cfg_.lease && !observer_ &&
         ticks_since_leader_ < static_cast<std::uint64_t>(cfg_.sync_limit_ticks);
}

void ZabBroadcast::enter_election() {
  if (!election_guarded()) {
    election_deferred_ = false;
    start_election();
    return;
  }
  state_ = PeerState::looking;
  phase_ = Phase::election;
  election_deferred_ = true;
  trace(TraceKind::custom, 0, 0,
        "LOOKING, election deferred: a leader was heard " + std::to_string(ticks_since_leader_) +
            " ticks ago (lease guard, sync_limit_ticks " + std::to_string(cfg_.sync_limit_ticks) +
            ")");
}

void ZabBroadcast::start_election() {
  state_ = PeerState::looking;
  phase_ = Phase::election;
  logical_clock_++;
  recvset_.clear();
  outofelection_.clear();
  finalize_countdown_ = -1;
  proposal_ = init_vote();
  if (!observer_) recvset_[self_] = proposal_;
  trace(TraceKind::election_started, 0, log_.last_zxid(),
        "logical clock " + std::to_string(logical_clock_));
  send_notifications();
  notification_interval_ = cfg_.notification_min_ticks;
  ticks_since_notification_ = 0;
  evaluate_finalize();
}

void ZabBroadcast::send_notification(NodeId to, const Vote& vote, PeerState state) {
  wire::Packet p;
  p.body = wire::Notification{state, vote.leader, vote.zxid, vote.election_epoch, vote.peer_epoch};
  send(to, std::move(p));
}

void ZabBroadcast::send_notifications() {
  for (NodeId id : ctx_.membership.voters) {
    if (id != self_) send_notification(id, proposal_, PeerState::looking);
  }
  trace(TraceKind::vote_sent, proposal_.leader, proposal_.zxid,
        "vote for " + std::to_string(proposal_.leader) + " clock " +
            std::to_string(proposal_.election_epoch));
}

void ZabBroadcast::on_notification(NodeId from, const wire::Notification& n) {
  Vote v{n.leader, n.zxid, n.election_epoch, n.peer_epoch, n.state};
  if (state_ == PeerState::looking && election_deferred_) return;  // the lease guard
  if (state_ != PeerState::looking) {
    // Tell a LOOKING server whom we follow (or that we lead), so it can join us.
    if (v.state == PeerState::looking && !observer_) send_notification(from, vote_, state_);
    return;
  }
  if (!is_voter(from)) {
    // A non-voter (observer) gets our vote at once and is not counted.
    send_notification(from, proposal_, PeerState::looking);
    return;
  }
  if (!is_voter(v.leader)) return;  // not a valid vote
  ticks_since_notification_ = 0;
  switch (v.state) {
    case PeerState::looking:
      on_looking_notification(from, v);
      break;
    case PeerState::following:
    case PeerState::leading:
      on_settled_notification(from, v);
      break;
    case PeerState::observing:
      break;
  }
}

void ZabBroadcast::on_looking_notification(NodeId from, const Vote& v) {
  const Membership& m = ctx_.membership;
  if (v.election_epoch > logical_clock_) {
    // A newer election round: restart the tally at its clock.
    logical_clock_ = v.election_epoch;
    recvset_.clear();
    Vote init = init_vote();
    if (total_order_predicate(m, v.leader, v.zxid, v.peer_epoch, init.leader, init.zxid,
                              init.peer_epoch)) {
      update_proposal(v.leader, v.zxid, v.peer_epoch);
    } else {
      update_proposal(init.leader, init.zxid, init.peer_epoch);
    }
    send_notifications();
  } else if (v.election_epoch < logical_clock_) {
    // The sender is behind: our vote brings it to our round. Observers do not answer: their
    // vote counts for nobody, and a voter answers every observer's notification, so the two
    // would bounce notifications forever.
    if (!observer_) send_notification(from, proposal_, PeerState::looking);
    return;
  } else if (total_order_predicate(m, v.leader, v.zxid, v.peer_epoch, proposal_.leader,
                                   proposal_.zxid, proposal_.peer_epoch)) {
    update_proposal(v.leader, v.zxid, v.peer_epoch);
    send_notifications();
  }
  recvset_[from] = v;
  evaluate_finalize();
}

void ZabBroadcast::on_settled_notification(NodeId from, const Vote& v) {
  if (v.election_epoch == logical_clock_) {
    recvset_[from] = v;
    if (quorum_agrees(recvset_, v) && check_leader(recvset_, v.leader, v.election_epoch)) {
      settle(v);
      return;
    }
  }
  // Servers that already settled: join their leader if a quorum follows it and it leads.
  outofelection_[from] = v;
  if (quorum_agrees(outofelection_, v) &&
      check_leader(outofelection_, v.leader, v.election_epoch)) {
    logical_clock_ = v.election_epoch;
    settle(v);
  }
}

bool ZabBroadcast::quorum_agrees(const std::map<NodeId, Vote>& votes, const Vote& vote) const {
  consensus::QuorumCounter q(ctx_.membership);
  for (const auto& [id, v] : votes) {
    if (agree(v, vote)) q.add(id);
  }
  return q.has_quorum();
}

bool ZabBroadcast::check_leader(const std::map<NodeId, Vote>& votes, NodeId leader,
                                std::uint64_t election_epoch) const {
  if (leader != self_) {
    auto it = votes.find(leader);
    return it != votes.end() && it->second.state == PeerState::leading;
  }
  return logical_clock_ == election_epoch;
}

void ZabBroadcast::update_proposal(NodeId leader, Zxid zxid, std::uint64_t peer_epoch) {
  proposal_ = Vote{leader, zxid, logical_clock_, peer_epoch, PeerState::looking};
  if (!observer_) recvset_[self_] = proposal_;
  finalize_countdown_ = -1;  // a new proposal waits its own finalizeWait
}

void ZabBroadcast::evaluate_finalize() {
  if (!quorum_agrees(recvset_, proposal_)) {
    finalize_countdown_ = -1;
    return;
  }
  if (finalize_countdown_ >= 0) return;
  finalize_countdown_ = cfg_.finalize_wait_ticks;
  if (finalize_countdown_ == 0) settle(proposal_);
}

void ZabBroadcast::election_tick() {
  if (election_deferred_) {
    if (!election_guarded()) enter_election();
    return;
  }
  if (finalize_countdown_ > 0 && --finalize_countdown_ == 0) {
    if (quorum_agrees(recvset_, proposal_)) {
      settle(proposal_);
      return;
    }
    finalize_countdown_ = -1;
  }
  if (++ticks_since_notification_ >= notification_interval_) {
    send_notifications();
    notification_interval_ = std::min(notification_interval_ * 2, cfg_.notification_max_ticks);
    ticks_since_notification_ = 0;
  }
}

void ZabBroadcast::settle(const Vote& vote) {
  recvset_.clear();
  outofelection_.clear();
  finalize_countdown_ = -1;
  vote_ = Vote{vote.leader, vote.zxid, logical_clock_, vote.peer_epoch, PeerState::looking};
  logger_->info("zab {}: election settled on leader {} (zxid {:#x}, peer epoch {}, clock {})",
                self_, vote.leader, vote.zxid, vote.peer_epoch, logical_clock_);
  if (vote.leader == self_) {
    become_leading();
  } else {
    become_learner(vote.leader);
  }
  vote_.state = state_;
}

}  // namespace quorumlab::zab
