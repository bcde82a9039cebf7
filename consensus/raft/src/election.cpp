// Leader election (Figure 2 "RequestVote RPC" and "Rules for Servers"; thesis 3.4), PreVote
// (9.6) and the follower side of CheckQuorum (4.2.3).
#include <spdlog/spdlog.h>

#include "quorumlab/consensus/quorum.hpp"
#include "quorumlab/raft/raft.hpp"

namespace quorumlab::raft {

// A current leader was heard from within the minimum election timeout (or we lead). 4.2.3: such
// a server neither updates its term nor grants its vote for a RequestVote; 9.6: nor grants a
// pre-vote.
bool RaftBroadcast::in_lease() const {
  if (state_ == State::leader) return true;
  return vote_guarded();
}

// 6.4.1: the guard the leader's lease rests on (lease_period_ticks). Counted from the last
// message of any leader (not only the one we follow now: a disconnect notice or a restart does
// not end a lease another server holds with our acknowledgement).
bool RaftBroadcast::vote_guarded() const {
  return cfg_.check_quorum && !learner_ && ticks_since_leader_ < cfg_.election_timeout_min_ticks;
}

// Figure 2, all servers: a higher term converts to follower; a lower-term request is answered
// with our term so that a stale leader or candidate learns it. Returns true when the message
// needs no further handling.
bool RaftBroadcast::ignore_for_term(NodeId from, const wire::Message& m) {
  bool vote_request = m.type == wire::Type::request_vote;
  if (m.term > term_) {
    // A candidate that the leader's TimeoutNow started (3.10) is let through: the leader
    // itself asked for this election.
    if (vote_request && cfg_.check_quorum && !m.pre_vote && !m.transfer && in_lease()) {
      trace(TraceKind::vote_sent, from, 0,
            "RequestVote term " + std::to_string(m.term) + " ignored: leader " +
                std::to_string(leader_id_) + " heard " + std::to_string(ticks_since_leader_) +
                " ticks ago (check_quorum)");
      return true;
    }
    // A pre-vote request does not change our term; neither does a pre-vote granted to us
    // (it carries the term we would campaign in).
    if (vote_request && m.pre_vote) return false;
    if (m.type == wire::Type::request_vote_response && m.pre_vote && m.granted) return false;
    bool from_leader = m.type == wire::Type::append_entries || m.type == wire::Type::heartbeat ||
                       m.type == wire::Type::install_snapshot;
    if (!from_leader && !cfg_.higher_term_resets_timer && state_ != State::leader) {
      // Figure 2: a new term alone does not restart the election timer.
      const std::int64_t elapsed = election_elapsed_, timeout = randomized_timeout_;
      become_follower(m.term, 0);
      election_elapsed_ = elapsed;
      randomized_timeout_ = timeout;
      return false;
    }
    become_follower(m.term, from_leader ? from : 0);
    return false;
  }
  if (m.term < term_) {
    switch (m.type) {
      case wire::Type::append_entries:
      case wire::Type::heartbeat:
      case wire::Type::install_snapshot: {
        wire::Message r;
        r.type = wire::Type::append_entries_response;
        r.granted = false;
        r.index = 0;  // no index: the stale leader only learns our term
        send(from, r);
        return true;
      }
      case wire::Type::request_vote: {
        trace(TraceKind::vote_sent, from, 0,
              std::string(m.pre_vote ? "pre-vote " : "vote ") + "refused: stale term " +
                  std::to_string(m.term) + " below ours " + std::to_string(term_));
        wire::Message r;
        r.type = wire::Type::request_vote_response;
        r.pre_vote = m.pre_vote;
        r.granted = false;
        send(from, r);
        return true;
      }
      default:
        return true;  // a stale response
    }
  }
  return false;
}

void RaftBroadcast::reset_election_timer() {
  election_elapsed_ = 0;
  std::int64_t lo = cfg_.election_timeout_min_ticks;
  std::int64_t hi = cfg_.election_timeout_max_ticks;
  if (state_ == State::candidate || state_ == State::pre_candidate) {
    if (cfg_.candidate_timeout_min_ticks > 0) {
      lo = cfg_.candidate_timeout_min_ticks;
      hi = cfg_.candidate_timeout_max_ticks;
    }
    if (cfg_.candidate_backoff && failed_elections_ > 1) {
      // Refloated's back-off: the range doubles with each further failed election.
      const std::uint32_t shift = std::min<std::uint32_t>(failed_elections_ - 1, 5);
      lo <<= shift;
      hi <<= shift;
    }
  }
  auto span = static_cast<std::uint64_t>(hi - lo + 1);
  randomized_timeout_ = lo + static_cast<std::int64_t>(ctx_.rng->uniform(span));
}

void RaftBroadcast::become_follower(std::uint64_t term, NodeId leader) {
  bool was_leader = state_ == State::leader;
  if (term > term_) {
    term_ = term;
    vote_ = 0;
    save_hard_state();
  }
  if (leader != leader_id_) {
    leader_matched_ = false;
    fail_forwarded_barriers(BarrierFailure::no_leader);
  }
  if (was_leader) {
    fail_leader_barriers(BarrierFailure::not_leader);
    progress_.clear();
    if (transfer_target_ != 0) {
      trace(TraceKind::custom, transfer_target_, 0,
            "transfer to " + std::to_string(transfer_target_) + " done: stepped down in term " +
                std::to_string(term_) + (leader ? ", leader " + std::to_string(leader) : ""));
      transfer_target_ = 0;
      transfer_elapsed_ = 0;
      timeout_now_sent_ = false;
    }
  }
  bool changed = state_ != State::follower || leader != leader_id_;
  state_ = State::follower;
  leader_id_ = leader;
  votes_.clear();
  reset_election_timer();
  if (changed) {
    trace(learner_ ? TraceKind::became_learner : TraceKind::became_follower, leader, 0,
          "term " + std::to_string(term_));
  }
}

void RaftBroadcast::campaign() {
  if (learner_) return;  // learners never campaign
  if (cfg_.prevote) {
    become_pre_candidate();
  } else {
    become_candidate();
  }
}

void RaftBroadcast::become_pre_candidate() {
  if (state_ == State::leader) return;
  state_ = State::pre_candidate;
  failed_elections_++;
  if (leader_id_ != 0) fail_forwarded_barriers(BarrierFailure::no_leader);
  leader_id_ = 0;
  leader_matched_ = false;
  votes_.clear();
  votes_[self_] = true;
  reset_election_timer();
  trace(TraceKind::became_candidate, 0, 0, "pre-candidate for term " + std::to_string(term_ + 1));
  if (consensus::QuorumCounter q(ctx_.membership); q.add(self_) && q.has_quorum()) {
    become_candidate();
    return;
  }
  for (NodeId id : ctx_.membership.voters) {
    if (id == self_) continue;
    wire::Message m;
    m.type = wire::Type::request_vote;
    m.pre_vote = true;
    m.term = term_ + 1;
    m.index = log_.last_index();
    m.log_term = log_.last_epoch();
    send(id, m);
  }
}

void RaftBroadcast::become_candidate(bool transfer) {
  if (state_ == State::leader) return;
  if (term_ >= kMaxTerm) {
    logger_->error("raft {}: term would pass 2^{}; no election", self_, 64 - kZxidIndexBits);
    return;
  }
  state_ = State::candidate;
  if (!cfg_.prevote) failed_elections_++;  // with PreVote, counted at the pre-vote
  term_++;
  vote_ = self_;
  save_hard_state();
  if (leader_id_ != 0) fail_forwarded_barriers(BarrierFailure::no_leader);
  leader_id_ = 0;
  leader_matched_ = false;
  votes_.clear();
  votes_[self_] = true;
  reset_election_timer();
  trace(TraceKind::became_candidate, 0, 0,
        std::string("candidate for term ") + std::to_string(term_) +
            (transfer ? " (leadership transfer)" : ""));
  trace(TraceKind::election_started, 0, 0);
  if (consensus::QuorumCounter q(ctx_.membership); q.add(self_) && q.has_quorum()) {
    become_leader();
    return;
  }
  for (NodeId id : ctx_.membership.voters) {
    if (id == self_) continue;
    wire::Message m;
    m.type = wire::Type::request_vote;
    m.index = log_.last_index();
    m.log_term = log_.last_epoch();
    m.transfer = transfer;
    // Depends on our term and self-vote being durable.
    send(id, m, /*after_persist=*/true);
  }
}

void RaftBroadcast::become_leader() {
  state_ = State::leader;
  failed_elections_ = 0;
  leader_id_ = self_;
  leader_matched_ = true;
  votes_.clear();
  heartbeat_elapsed_ = 0;
  election_elapsed_ = 0;
  progress_.clear();
  round_acks_.clear();
  read_round_wanted_ = false;
  round_sent_tick_.clear();
  lease_until_tick_ = 0;  // a lease of an earlier term says nothing about this one
  lease_given_up_ = false;
  for (NodeId id : ctx_.membership.peers_of(self_)) {
    Progress p;
    p.next = log_.last_index() + 1;
    p.recent_active = true;
    progress_[id] = p;
  }
  trace(TraceKind::became_leader, 0, 0, "term " + std::to_string(term_));
  // 6.4 / 3.6.2: a new leader commits an entry of its own term before it knows its commit
  // point; the no-op entry does that without waiting for a client.
  LogIndex index = log_.last_index() + 1;
  append_entry(LogEntry{index, term_, make_zxid(term_, index), {}});
  broadcast_append(true);
  maybe_commit();
}

// 3.6.1: the candidate's log is at least as up-to-date as ours: a later last term, or the same
// last term and at least as long.
bool RaftBroadcast::log_up_to_date(LogIndex last_index, std::uint64_t last_term) const {
  return last_term > log_.last_epoch() ||
         (last_term == log_.last_epoch() && last_index >= log_.last_index());
}

void RaftBroadcast::on_request_vote(NodeId from, const wire::Message& m) {
  bool can_vote = false;
  std::string why;
  if (learner_ || !is_voter(from)) {
    why = "not a voter";
  } else if (m.pre_vote) {
    // 9.6: grant a pre-vote for a later term to an up-to-date log, unless we hear from a
    // current leader.
    if (m.term <= term_) {
      why = "term not above ours";
    } else if (leader_id_ != 0 && ticks_since_leader_ < cfg_.election_timeout_min_ticks) {
      why = "leader " + std::to_string(leader_id_) + " is alive";
    } else if (state_ == State::leader) {
      why = "we lead";
    } else {
      can_vote = true;
    }
  } else if (vote_ != 0 && vote_ != from) {
    why = "voted for " + std::to_string(vote_);
  } else if (vote_ == 0 && leader_id_ != 0) {
    why = "following " + std::to_string(leader_id_);
  } else {
    can_vote = true;
  }
  bool grant = can_vote && log_up_to_date(m.index, m.log_term);
  if (can_vote && !grant) why = "candidate's log is behind";
  wire::Message r;
  r.type = wire::Type::request_vote_response;
  r.pre_vote = m.pre_vote;
  r.granted = grant;
  if (m.pre_vote && grant) r.term = m.term;
  trace(TraceKind::vote_sent, from, 0,
        std::string(m.pre_vote ? "pre-vote " : "vote ") + (grant ? "granted" : "refused: " + why) +
            " for term " + std::to_string(m.term));
  if (grant && !m.pre_vote) {
    vote_ = from;
    save_hard_state();
    reset_election_timer();
  }
  // A granted vote depends on votedFor being durable; a refusal on our term.
  send(from, r, /*after_persist=*/!m.pre_vote);
}

void RaftBroadcast::on_vote_response(NodeId from, const wire::Message& m) {
  if (!is_voter(from)) return;
  if (m.pre_vote) {
    if (state_ != State::pre_candidate) return;
    if (m.granted && m.term != term_ + 1) return;
  } else if (state_ != State::candidate || m.term != term_) {
    return;
  }
  votes_[from] = m.granted;
  std::size_t granted = 0, refused = 0;
  for (const auto& [id, g] : votes_)
    (g ? granted : refused)++;
  std::size_t quorum = ctx_.membership.quorum_size();
  if (granted >= quorum) {
    if (state_ == State::pre_candidate) {
      become_candidate();
    } else {
      become_leader();
    }
  } else if (state_ == State::pre_candidate && refused > ctx_.membership.voters.size() - quorum) {
    // This pre-vote cannot succeed: back to follower in the same term. A candidate instead
    // stays one until its (candidate) timeout, as in Figure 2.
    become_follower(term_, 0);
  }
}

void RaftBroadcast::peer_disconnected(NodeId peer) {
  if (!restored_ || state_ != State::follower || peer == 0 || peer != leader_id_) return;
  trace(TraceKind::custom, peer, 0, "leader disconnected");
  become_follower(term_, 0);
  // check_quorum keeps the vote guard: the leader may be alive and hold a lease on our ack.
  if (!cfg_.check_quorum) ticks_since_leader_ = 1 << 30;
  if (!learner_) election_elapsed_ = cfg_.election_timeout_min_ticks;
}

void RaftBroadcast::election_tick() {
  election_elapsed_++;
  if (election_elapsed_ < randomized_timeout_) return;
  if (vote_guarded()) return;  // not even for ourselves while a lease may rest on our ack
  if (learner_) {
    // A learner that hears from no leader stops claiming one (and so stops serving).
    if (leader_id_ != 0) become_follower(term_, 0);
    reset_election_timer();
    return;
  }
  campaign();
}

}  // namespace quorumlab::raft
