// Lab 5: Raft, part B: log replication and persistence. YOUR FILE.
//
// Figure 2 of the Raft paper (Ongaro and Ousterhout, "In Search of an Understandable Consensus
// Algorithm", 2014) as a quorumlab broadcast plugin. The given half (labraft.hpp, read it) does
// the plumbing: messages, the Ready, barriers, snapshots, status and traces.
//
// The election (lab 4) is done; you may paste your own lab-4 code over it. Write the
// functions marked TODO(lab 5).
// Check your work: python3 -m quorumlab.lab check raft-log
#include <set>

#include "labraft.hpp"

namespace labraft {

class Raft final : public RaftBase {
 public:
  explicit Raft(PluginContext& ctx) : RaftBase(ctx) {}

  void restore(const RecoveredLog& log) override;
  void step(const quorumlab::PeerMessage& pm) override;
  void tick() override;
  ProposeResult propose(const std::vector<Bytes>& txns) override;
  void on_persisted() override;

 private:
  // Lab 4: elections.
  void reset_election_timer();
  void become_follower(std::uint64_t term, NodeId leader);
  void start_election();
  void become_leader();
  void on_request_vote(const Message& m);
  void on_vote_reply(const Message& m);
  // Lab 5: replication.
  void send_append(NodeId peer);
  void broadcast_append();
  void on_append_entries(const Message& m);
  void on_append_reply(const Message& m);
  void on_install_snapshot(const Message& m);
  void advance_commit();

  std::int64_t election_elapsed_ = 0;  ///< ticks since we last heard from a leader or voted
  std::int64_t election_timeout_ = 0;  ///< this round's random timeout
  std::int64_t heartbeat_elapsed_ = 0;
  std::set<NodeId> votes_;                  ///< candidate: who granted us their vote
  std::map<NodeId, LogIndex> next_index_;   ///< leader: next entry to send to each peer
  std::map<NodeId, LogIndex> match_index_;  ///< leader: highest entry known on each peer
};

// ---- lab 4: leader election (Figure 2 "Rules for Servers", RequestVote; section 5.2) --------

void Raft::restore(const RecoveredLog& log) {
  restore_given(log);  // term_, voted_for_ and log_ as they were saved
  role_ = Role::follower;
  leader_ = 0;
  reset_election_timer();
}

void Raft::reset_election_timer() {
  election_elapsed_ = 0;
  election_timeout_ = random_election_timeout();
}

void Raft::become_follower(std::uint64_t term, NodeId leader) {
  if (term > term_) {
    term_ = term;
    voted_for_ = 0;
    save_hard_state();
  }
  role_ = Role::follower;
  leader_ = leader;
}

void Raft::tick() {
  tick_given();
  if (role_ == Role::leader) {
    if (++heartbeat_elapsed_ >= config_.heartbeat_interval_ticks) {
      heartbeat_elapsed_ = 0;
      broadcast_append();
    }
    return;
  }
  if (++election_elapsed_ >= election_timeout_) start_election();
}

void Raft::start_election() {
  term_++;
  voted_for_ = self_;
  save_hard_state();  // a new term and our own vote are durable before anyone hears of them
  role_ = Role::candidate;
  leader_ = 0;
  votes_ = {self_};
  reset_election_timer();
  if (votes_.size() >= quorum_) {
    become_leader();
    return;
  }
  for (NodeId p : peers_) {
    Message m;
    m.kind = Kind::request_vote;
    m.to = p;
    m.term = term_;
    m.last_log_index = log_.last_index();
    m.last_log_term = log_.last_term();
    send_after_persist(m);
  }
}

void Raft::on_request_vote(const Message& m) {
  if (m.term > term_) become_follower(m.term, 0);
  // 5.4.1: vote only for a candidate whose log is at least as up-to-date as ours.
  const bool up_to_date =
      m.last_log_term > log_.last_term() ||
      (m.last_log_term == log_.last_term() && m.last_log_index >= log_.last_index());
  const bool grant = m.term == term_ && (voted_for_ == 0 || voted_for_ == m.from) && up_to_date;
  if (grant) {
    voted_for_ = m.from;
    save_hard_state();
    reset_election_timer();
  }
  Message r;
  r.kind = Kind::vote_reply;
  r.to = m.from;
  r.term = term_;
  r.vote_granted = grant;
  send_after_persist(r);  // never promise a vote we could forget in a crash
}

void Raft::on_vote_reply(const Message& m) {
  if (m.term > term_) {
    become_follower(m.term, 0);
    return;
  }
  if (role_ != Role::candidate || m.term != term_ || !m.vote_granted) return;
  votes_.insert(m.from);
  if (votes_.size() >= quorum_) become_leader();
}

void Raft::become_leader() {
  role_ = Role::leader;
  leader_ = self_;
  heartbeat_elapsed_ = 0;
  for (NodeId p : peers_) {
    next_index_[p] = log_.last_index() + 1;
    match_index_[p] = 0;
  }
  // TODO(lab 5): a no-op entry of our term (append_new_entry with no data): once it commits
  // we know our commit point (section 8), and the entries of earlier terms before it commit
  // with it.
  broadcast_append();
}

// ---- dispatch --------------------------------------------------------------------------------

void Raft::step(const quorumlab::PeerMessage& pm) {
  std::optional<Message> m = decode(pm.payload);
  if (!m) return;  // malformed: dropped
  m->from = pm.from;
  if (step_given(*m)) return;  // barriers (given)
  switch (m->kind) {
    case Kind::request_vote:
      on_request_vote(*m);
      break;
    case Kind::vote_reply:
      on_vote_reply(*m);
      break;
    case Kind::append_entries:
      on_append_entries(*m);
      break;
    case Kind::append_reply:
      on_append_reply(*m);
      break;
    case Kind::install_snapshot:
      on_install_snapshot(*m);
      break;
    default:
      break;
  }
}

// ---- lab 5: log replication (Figure 2 AppendEntries; sections 5.3, 5.4) ----------------------

ProposeResult Raft::propose(const std::vector<Bytes>& txns) {
  ProposeResult r;
  if (role_ != Role::leader) {
    r.leader_hint = leader_;
    return r;
  }
  // TODO(lab 5): append every txn to our log (append_new_entry returns its zxid; the first
  // one goes in r.first_zxid), accept, and start replicating them.
  (void)txns;
  r.leader_hint = leader_;
  return r;
}

void Raft::on_persisted() {
  // TODO(lab 5): durable_index_ moved. A leader counts its own copy of an entry only once it
  // is on disk: the commit point may move now.
}

void Raft::send_append(NodeId peer) {
  const LogIndex next = next_index_[peer];
  if (next <= log_.base()) {  // the entries it needs are in the kernel's snapshot (given)
    send_snapshot(peer);
    return;
  }
  Message m;
  m.kind = Kind::append_entries;
  m.to = peer;
  m.term = term_;
  // TODO(lab 5): the entry before `next` (prev_log_index, prev_log_term), the entries from
  // `next` on (log_.slice, at most config_.max_entries_per_message of them) and our commit
  // index.
  send(std::move(m));
}

void Raft::broadcast_append() {
  for (NodeId p : peers_)
    send_append(p);
}

void Raft::on_append_entries(const Message& m) {
  Message r;
  r.kind = Kind::append_reply;
  r.to = m.from;
  if (m.term < term_) {  // a stale leader: our term in the reply makes it step down
    r.term = term_;
    send(r);
    return;
  }
  become_follower(m.term, m.from);
  reset_election_timer();
  r.term = term_;
  // TODO(lab 5): Figure 2, "AppendEntries RPC", receiver implementation, steps 2-5:
  //  - the consistency check: our log must hold prev_log_index with prev_log_term; if not,
  //    reply !success with the fast-backup hint (conflict_term, conflict_index);
  //  - entries at or below log_.base() are in our snapshot, hence committed: they match;
  //  - cut our log only at the first entry that conflicts (truncate_log_after), append the
  //    rest (append_to_log): a duplicated or late message must not cut anything;
  //  - commit up to min(leader_commit, the last entry this message vouches for);
  //  - reply success with match_index, once the entries are on disk (send_after_persist).
  r.success = false;
  r.conflict_index = log_.last_index() + 1;
  send_after_persist(r);
}

void Raft::on_append_reply(const Message& m) {
  if (m.term > term_) {
    become_follower(m.term, 0);
    reset_election_timer();
    return;
  }
  if (role_ != Role::leader || m.term != term_) return;
  // TODO(lab 5): success: raise match_index_ and next_index_ of m.from (replies come late,
  // twice or out of order: never lower them), maybe commit, send more if it lags.
  // Failure: the fast backup. If we hold entries of m.conflict_term, continue after our last
  // one; else at m.conflict_index. Then send again.
}

void Raft::on_install_snapshot(const Message& m) {
  Message r;
  r.kind = Kind::append_reply;
  r.to = m.from;
  if (m.term < term_ || !m.snapshot) {
    r.term = term_;
    send(r);
    return;
  }
  become_follower(m.term, m.from);
  reset_election_timer();
  r.term = term_;
  r.success = true;
  r.match_index = install_snapshot(*m.snapshot);
  send_after_persist(r);
}

void Raft::advance_commit() {
  // TODO(lab 5): Figure 2, "Rules for Servers", Leaders, last rule: the largest N above
  // commit_index_ that a majority holds (match_index_ of the peers; our own copy counts up to
  // durable_index_) AND with log[N].term == term_; then commit_to(N).
}

std::unique_ptr<quorumlab::Broadcast> make_raft(PluginContext& ctx) {
  return std::make_unique<Raft>(ctx);
}

}  // namespace labraft
