// Log replication (Figure 2 "AppendEntries RPC", thesis 3.5, 3.6): the log-matching check,
// commitment of entries of the leader's own term only, fast backtracking by conflicting term,
// heartbeats, Probe/Replicate progress with a bounded in-flight window, and the leader side of
// CheckQuorum (6.2).
#include <algorithm>

#include <spdlog/spdlog.h>

#include "quorumlab/consensus/quorum.hpp"
#include "quorumlab/raft/raft.hpp"

namespace quorumlab::raft {

// ---- leader ------------------------------------------------------------------------------

// Sends AppendEntries from the peer's next index unless its progress is paused (a probe
// outstanding, or the in-flight window full). Returns true if a message went out.
bool RaftBroadcast::send_append(NodeId to, bool send_if_empty) {
  auto it = progress_.find(to);
  if (it == progress_.end()) return false;
  Progress& p = it->second;
  switch (p.mode) {
    case Progress::Mode::probe:
      if (p.probe_sent) return false;
      break;
    case Progress::Mode::replicate:
      if (p.inflight.size() >= static_cast<std::size_t>(cfg_.max_inflight_msgs)) return false;
      break;
    case Progress::Mode::snapshot:
      return false;
  }
  LogIndex prev = p.next - 1;
  auto prev_term = log_.term_at(prev);
  if (prev < log_.base_index() || !prev_term) {
    send_snapshot(to, p);  // the entries it needs were compacted away
    return true;
  }
  wire::Message m;
  m.type = wire::Type::append_entries;
  m.index = prev;
  m.log_term = *prev_term;
  if (p.next <= log_.last_index()) {
    m.entries = log_.entries_from(p.next, static_cast<std::size_t>(cfg_.max_entries_per_msg));
    // A byte budget too: 256 entries of 10 KiB would exceed the transport's message limit,
    // which drops the connection, and the follower would never catch up.
    std::size_t bytes = 0, keep = 0;
    while (keep < m.entries.size()) {
      bytes += m.entries[keep].data.size() + 32;
      if (keep > 0 && bytes > static_cast<std::size_t>(cfg_.max_bytes_per_msg)) break;
      ++keep;
    }
    m.entries.resize(keep);
  }
  if (m.entries.empty() && !send_if_empty) return false;
  m.commit = commit_index_;
  if (p.mode == Progress::Mode::replicate && !m.entries.empty()) {
    // Pipelining: optimistically assume delivery.
    p.next = m.entries.back().index + 1;
    p.inflight.push_back(m.entries.back().index);
  } else if (p.mode == Progress::Mode::probe) {
    p.probe_sent = true;
  }
  send(to, std::move(m));
  return true;
}

void RaftBroadcast::broadcast_append(bool send_if_empty) {
  for (auto& [id, p] : progress_) {
    bool sent = send_append(id, send_if_empty);
    // Replicate: keep filling the window while there is something to send.
    while (sent && p.mode == Progress::Mode::replicate && p.next <= log_.last_index())
      sent = send_append(id, false);
  }
}

void RaftBroadcast::broadcast_heartbeat(bool periodic) {
  if (periodic) heartbeat_elapsed_ = 0;
  if (lease_ticks_ > 0) {
    // Every heartbeat is a round: its quorum acknowledgement extends the lease (6.4.1).
    read_round_++;
    round_sent_tick_[read_round_] = ticks_;
  }
  round_confirmed();  // a one-voter cluster is its own quorum
  for (auto& [id, p] : progress_) {
    wire::Message m;
    m.type = wire::Type::heartbeat;
    // Only as far as the follower is known to match: its log may be shorter or differ beyond.
    m.commit = std::min(p.match, commit_index_);
    m.context = read_round_;
    if (periodic) p.maintenance_due = true;
    send(id, std::move(m));
  }
}

// 3.6.2: commit the highest index a quorum holds durably, if the entry there is of our term
// (Figure 8: counting replicas never commits an entry of an older term by itself).
void RaftBroadcast::maybe_commit() {
  if (state_ != State::leader) return;
  LogIndex own = stable_index();
  LogIndex n = consensus::quorum_value(ctx_.membership, [&](NodeId id) -> std::uint64_t {
    if (id == self_) return own;
    auto it = progress_.find(id);
    return it == progress_.end() ? 0 : it->second.match;
  });
  if (n <= commit_index_) return;
  auto t = log_.term_at(n);
  if (!t || *t != term_) return;
  bool first_of_term = !committed_in_term();
  commit_to(n);
  if (first_of_term) resolve_barriers();  // barriers waiting for an entry of this term
  broadcast_append(true);                 // tell followers the new commit point
}

void RaftBroadcast::on_append_response(NodeId from, const wire::Message& m) {
  if (state_ != State::leader || m.term != term_) return;
  auto it = progress_.find(from);
  if (it == progress_.end()) return;
  Progress& p = it->second;
  p.recent_active = true;
  p.ticks_since_heard = 0;
  if (!m.granted) {
    // Stale rejections (of an index already matched, or not the probe we sent) are ignored.
    if (m.index <= p.match) return;
    if (p.mode == Progress::Mode::probe && m.index != p.next - 1) return;
    if (p.mode == Progress::Mode::snapshot) return;
    // Fast backtracking: skip the follower's whole conflicting term at once. If we hold
    // entries of that term, resend from after our last one; otherwise from where the follower's
    // run of that term starts (or from its last index + 1 when its log is short).
    LogIndex next = m.conflict_index;
    if (m.conflict_term != 0) {
      if (auto range = log_.epoch_range(m.conflict_term)) next = range->last + 1;
    }
    next = std::min(next, m.index);
    p.next = std::max(next, p.match + 1);
    p.mode = Progress::Mode::probe;
    p.probe_sent = false;
    p.inflight.clear();
    send_append(from, true);
    return;
  }
  if (m.index <= p.match) return;
  p.match = m.index;
  p.next = std::max(p.next, m.index + 1);
  while (!p.inflight.empty() && p.inflight.front() <= m.index)
    p.inflight.pop_front();
  if (p.mode == Progress::Mode::probe) {
    p.mode = Progress::Mode::replicate;
    p.next = p.match + 1;
    p.probe_sent = false;
    p.inflight.clear();
  }
  trace(TraceKind::ack, from, log_.zxid_at(m.index).value_or(0));
  maybe_commit();
  if (from == transfer_target_) maybe_send_timeout_now();
  bool sent = send_append(from, false);
  while (sent && p.mode == Progress::Mode::replicate && p.next <= log_.last_index())
    sent = send_append(from, false);
}

void RaftBroadcast::on_heartbeat_response(NodeId from, const wire::Message& m) {
  if (state_ != State::leader || m.term != term_) return;
  auto it = progress_.find(from);
  if (it == progress_.end()) return;
  Progress& p = it->second;
  p.recent_active = true;
  p.ticks_since_heard = 0;
  if (is_voter(from)) {
    std::uint64_t& acked = round_acks_[from];
    if (m.context > acked) {
      acked = std::min(m.context, read_round_);
      round_confirmed();
      resolve_barriers();
    }
  }
  // Progress upkeep once per heartbeat interval, not for every read round's answer (a round
  // per read would reset lagging followers to probe mode, and resend probes and snapshot
  // chunks, many times per interval).
  if (!p.maintenance_due) return;
  p.maintenance_due = false;
  switch (p.mode) {
    case Progress::Mode::probe:
      p.probe_sent = false;
      break;
    case Progress::Mode::replicate:
      // Messages may be lost: a follower whose match did not move for a whole heartbeat
      // interval while it lags is probed again from its match.
      if (p.match < log_.last_index() && p.match == p.match_at_heartbeat) {
        p.mode = Progress::Mode::probe;
        p.next = p.match + 1;
        p.probe_sent = false;
        p.inflight.clear();
      }
      break;
    case Progress::Mode::snapshot:
      send_snapshot_chunk(from, p);  // the chunk in flight may be lost
      break;
  }
  p.match_at_heartbeat = p.match;
  if (p.match < log_.last_index()) send_append(from, false);
}

bool RaftBroadcast::quorum_active() const {
  consensus::QuorumCounter q(ctx_.membership);
  q.add(self_);
  for (const auto& [id, p] : progress_) {
    if (p.recent_active) q.add(id);
  }
  return q.has_quorum();
}

void RaftBroadcast::leader_tick() {
  heartbeat_elapsed_++;
  election_elapsed_++;
  for (auto& [id, p] : progress_)
    p.ticks_since_heard++;
  if (election_elapsed_ >= cfg_.election_timeout_max_ticks) {
    election_elapsed_ = 0;
    if (cfg_.check_quorum) {
      // 6.2: a leader that did not hear from a quorum within an election timeout steps down.
      if (!quorum_active()) {
        trace(TraceKind::became_follower, 0, 0, "check_quorum: no quorum heard");
        become_follower(term_, 0);
        return;
      }
      for (auto& [id, p] : progress_)
        p.recent_active = false;
    }
  }
  if (heartbeat_elapsed_ >= cfg_.heartbeat_interval_ticks) broadcast_heartbeat(/*periodic=*/true);
}

// ---- follower ----------------------------------------------------------------------------

void RaftBroadcast::heard_from_leader(NodeId from) {
  if (state_ != State::follower || leader_id_ != from) become_follower(term_, from);
  election_elapsed_ = 0;
  ticks_since_leader_ = 0;
  failed_elections_ = 0;
}

void RaftBroadcast::on_append_entries(NodeId from, const wire::Message& m) {
  heard_from_leader(from);
  wire::Message r;
  r.type = wire::Type::append_entries_response;
  if (m.index < commit_index_) {
    // Everything up to our commit point matches any current leader's log (leader
    // completeness): tell the leader to continue from there.
    r.granted = true;
    r.index = commit_index_;
    leader_matched_ = true;
    send(from, r, /*after_persist=*/true);
    return;
  }
  auto our_term = log_.term_at(m.index);
  if (!our_term || *our_term != m.log_term) {
    // The log-matching check failed. Hint where our log diverges (fast backtracking).
    r.granted = false;
    r.index = m.index;
    if (!our_term) {
      r.conflict_term = 0;
      r.conflict_index = log_.last_index() + 1;
    } else {
      r.conflict_term = *our_term;
      r.conflict_index = std::max(log_.run_containing(m.index).first, commit_index_ + 1);
    }
    trace(TraceKind::custom, from, 0,
          "AppendEntries rejected: no entry of term " + std::to_string(m.log_term) + " at index " +
              std::to_string(m.index) + " (conflict term " + std::to_string(r.conflict_term) +
              " from index " + std::to_string(r.conflict_index) + ")");
    send(from, r, /*after_persist=*/true);
    return;
  }
  // Figure 2, receiver 3-4: delete a conflicting suffix, append what is new.
  for (const LogEntry& e : m.entries) {
    if (e.index <= log_.base_index()) continue;
    if (e.index <= log_.last_index()) {
      if (*log_.term_at(e.index) == e.epoch) continue;
      truncate_log(e.index - 1);
    }
    if (e.index != log_.last_index() + 1 || e.zxid != make_zxid(e.epoch, e.index)) {
      throw std::runtime_error("AppendEntries entry " + std::to_string(e.index) + " out of shape");
    }
    append_entry(e);
  }
  LogIndex last_new = m.index + m.entries.size();
  leader_matched_ = true;
  // Figure 2, receiver 5: commitIndex = min(leaderCommit, index of last new entry).
  commit_to(std::min(m.commit, last_new));
  r.granted = true;
  r.index = last_new;
  if (!m.entries.empty() && ctx_.tracer->enabled()) {  // hot path: build the detail only if traced
    trace(TraceKind::ack, from, log_.zxid_at(last_new).value_or(0),
          "AppendEntries appended " + std::to_string(m.entries.size()) + " entries after index " +
              std::to_string(m.index) + ", last " + std::to_string(last_new));
  }
  // The acknowledgement claims the entries are durable.
  send(from, r, /*after_persist=*/true);
}

void RaftBroadcast::on_heartbeat(NodeId from, const wire::Message& m) {
  heard_from_leader(from);
  // The leader sends min(our match, its commit): our log matches its log that far.
  commit_to(std::min(m.commit, log_.last_index()));
  wire::Message r;
  r.type = wire::Type::heartbeat_response;
  r.context = m.context;
  send(from, r);
}

}  // namespace quorumlab::raft
