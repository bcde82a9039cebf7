// Lab 4: Raft, part A: leader election. YOUR FILE.
//
// Figure 2 of the Raft paper (Ongaro and Ousterhout, "In Search of an Understandable Consensus
// Algorithm", 2014) as a quorumlab broadcast plugin. The given half (labraft.hpp, read it) does
// the plumbing: messages, the Ready, barriers, snapshots, status and traces.
//
// Write the functions marked TODO(lab 4). The log replication is lab 5: until then the leader
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
  // TODO(lab 4): a higher term means a new term with no vote cast yet (save it: term_ and
  // voted_for_ must be on disk before we answer anyone, see save_hard_state()); then we are
  // a follower of `leader` (0: not known yet).
  (void)term;
  (void)leader;
}

void Raft::tick() {
  tick_given();
  // TODO(lab 4): a leader sends heartbeats (broadcast_append()) every
  // config_.heartbeat_interval_ticks ticks; anyone else starts an election when
  // election_timeout_ ticks passed without hearing from a leader (election_elapsed_).
}

void Raft::start_election() {
  // TODO(lab 4): Figure 2, "Candidates": a new term, a vote for ourselves (saved), a new
  // random timeout, and a RequestVote to every peer (peers_) carrying our last log index and
  // term. A message that depends on saved state goes with send_after_persist().
}

void Raft::on_request_vote(const Message& m) {
  // TODO(lab 4): Figure 2, "RequestVote RPC", receiver implementation (and 5.4.1: the
  // candidate's log must be at least as up-to-date as ours). Always reply (Kind::vote_reply).
  (void)m;
}

void Raft::on_vote_reply(const Message& m) {
  // TODO(lab 4): count the votes of this term; a majority (quorum_, ourselves included)
  // makes us leader. A higher term in a reply makes us a follower.
  (void)m;
}

void Raft::become_leader() {
  // TODO(lab 4): we lead term_: tell the others at once with heartbeats.
  // (Lab 5 adds nextIndex/matchIndex and the leader's no-op entry here.)
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
  // TODO(lab 4): Figure 2, "AppendEntries RPC", the part about terms: reply with our term to
  // a stale leader (m.term < term_); otherwise m.from is the leader of m.term: follow it and
  // restart the election timer. (Lab 5 adds the log.)
  (void)m;
}

void Raft::on_append_reply(const Message& m) {
  // TODO(lab 4): a higher term in a reply makes a leader step down. (Lab 5 adds the rest.)
  (void)m;
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
