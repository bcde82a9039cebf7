// Lab 4: Raft, part A: leader election. A complete lab-4 answer (election only; instructors).
//
// Figure 2 of the Raft paper (Ongaro and Ousterhout, "In Search of an Understandable Consensus
// Algorithm", 2014) as a quorumlab broadcast plugin. The given half (labraft.hpp, read it) does
// the plumbing: messages, the Ready, barriers, snapshots, status and traces.
//
// The starter with the TODO(lab 4) parts written. The log replication is lab 5: the leader
// sends heartbeats (AppendEntries without entries) and nobody proposes anything.
// Check your work: python3 -m quorumlab.lab check raft-election
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
  // Lab 5. Until then nothing is proposed.
  (void)txns;
  ProposeResult r;
  r.leader_hint = leader_;
  return r;
}

void Raft::on_persisted() {
  // Lab 5.
}

void Raft::send_append(NodeId peer) {
  // Lab 5 sends entries; for now a heartbeat: an AppendEntries without entries.
  Message m;
  m.kind = Kind::append_entries;
  m.to = peer;
  m.term = term_;
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
  if (m.term < term_) {
    r.term = term_;
    send(r);
    return;
  }
  become_follower(m.term, m.from);
  reset_election_timer();
  r.term = term_;
  r.success = true;  // lab 4: a heartbeat vouches for no entry (match_index 0)
  send(r);
}

void Raft::on_append_reply(const Message& m) {
  if (m.term > term_) {
    become_follower(m.term, 0);
    reset_election_timer();
  }
}

void Raft::on_install_snapshot(const Message& m) {
  (void)m;  // lab 5
}

void Raft::advance_commit() {
  // Lab 5.
}

std::unique_ptr<quorumlab::Broadcast> make_raft(PluginContext& ctx) {
  return std::make_unique<Raft>(ctx);
}

}  // namespace labraft
