// Raft for labs 4 and 5: the reference solution.
//
// Figure 2 of the Raft paper (Ongaro and Ousterhout, "In Search of an Understandable Consensus
// Algorithm", 2014) as a quorumlab broadcast plugin. The given half (labraft.hpp) does the
// plumbing: messages, the Ready, barriers, snapshots, status and traces.
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
  // A no-op entry of our term: once it commits we know our commit point (8, 6.4), and the
  // entries of earlier terms before it commit with it.
  append_new_entry({});
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
  r.accepted = true;
  for (const Bytes& data : txns) {
    Zxid z = append_new_entry(data);
    if (r.first_zxid == 0) r.first_zxid = z;
  }
  broadcast_append();
  return r;
}

void Raft::on_persisted() {
  // durable_index_ moved: the leader counts its own copy only once it is on disk.
  if (role_ == Role::leader) advance_commit();
}

void Raft::send_append(NodeId peer) {
  const LogIndex next = next_index_[peer];
  if (next <= log_.base()) {  // the entries it needs are in the kernel's snapshot
    send_snapshot(peer);
    return;
  }
  Message m;
  m.kind = Kind::append_entries;
  m.to = peer;
  m.term = term_;
  m.prev_log_index = next - 1;
  m.prev_log_term = *log_.term_at(next - 1);
  m.entries = log_.slice(next, config_.max_entries_per_message);
  m.leader_commit = commit_index_;
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

  // Entries at or below our snapshot are committed: they match the leader's.
  LogIndex prev = m.prev_log_index;
  std::uint64_t prev_term = m.prev_log_term;
  std::size_t skip = 0;
  while (prev < log_.base() && skip < m.entries.size()) {
    prev = m.entries[skip].index;
    prev_term = m.entries[skip].epoch;
    ++skip;
  }
  if (prev < log_.base()) {  // all of it is in our snapshot
    r.success = true;
    r.match_index = log_.base();
    send_after_persist(r);
    return;
  }
  // The consistency check (5.3), with the fast-backup hint when it fails.
  std::optional<std::uint64_t> t = log_.term_at(prev);
  if (!t || *t != prev_term) {
    r.success = false;
    if (!t) {
      r.conflict_term = 0;
      r.conflict_index = log_.last_index() + 1;
    } else {
      r.conflict_term = *t;
      LogIndex i = prev;
      while (i > log_.first_index() && log_.term_at(i - 1) == *t)
        --i;
      r.conflict_index = i;
    }
    send_after_persist(r);
    return;
  }
  // Append, cutting our log at the first entry that conflicts with the leader's.
  for (std::size_t k = skip; k < m.entries.size(); ++k) {
    const LogEntry& e = m.entries[k];
    if (log_.has(e.index)) {
      if (log_.term_at(e.index) == e.epoch) continue;
      truncate_log_after(e.index - 1);
    }
    append_to_log(e);
  }
  const LogIndex match = prev + (m.entries.size() - skip);
  if (m.leader_commit > commit_index_) commit_to(std::min(m.leader_commit, match));
  r.success = true;
  r.match_index = match;
  send_after_persist(r);  // acknowledged only once the entries are on our disk
}

void Raft::on_append_reply(const Message& m) {
  if (m.term > term_) {
    become_follower(m.term, 0);
    reset_election_timer();
    return;
  }
  if (role_ != Role::leader || m.term != term_) return;
  const NodeId p = m.from;
  if (m.success) {
    if (m.match_index > match_index_[p]) match_index_[p] = m.match_index;
    next_index_[p] = std::max(next_index_[p], match_index_[p] + 1);
    advance_commit();
    if (next_index_[p] <= log_.last_index()) send_append(p);
    return;
  }
  // Fast backup: skip the whole conflicting term in one round trip.
  LogIndex next = m.conflict_index;
  if (m.conflict_term != 0) {
    for (LogIndex i = log_.last_index(); i > log_.base(); --i) {
      auto t = log_.term_at(i);
      if (*t == m.conflict_term) {
        next = i + 1;
        break;
      }
      if (*t < m.conflict_term) break;
    }
  }
  next = std::min(next, log_.last_index() + 1);
  next = std::max(next, match_index_[p] + 1);
  next_index_[p] = next;
  send_append(p);
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
  // Figure 2: the largest N with a majority of matchIndex >= N AND log[N].term == currentTerm.
  // An entry of an earlier term is never committed by counting (5.4.2, Figure 8).
  for (LogIndex n = log_.last_index(); n > commit_index_; --n) {
    if (log_.term_at(n) != term_) break;
    std::size_t copies = durable_index_ >= n ? 1 : 0;
    for (NodeId p : peers_)
      copies += match_index_[p] >= n ? 1 : 0;
    if (copies >= quorum_) {
      commit_to(n);
      break;
    }
  }
}

std::unique_ptr<quorumlab::Broadcast> make_raft(PluginContext& ctx) {
  return std::make_unique<Raft>(ctx);
}

}  // namespace labraft
