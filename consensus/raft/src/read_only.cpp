// Read-only queries (thesis 6.4) as the kernel's barriers:
//   sync_op        resolves once the leader committed everything it had appended when the
//                  barrier reached it (ZooKeeper's sync);
//   read_index     6.4 steps 1-3: once the leader committed an entry of its term, it records its
//                  commit index as the read index, confirms leadership with a heartbeat round
//                  started after the request, and resolves at the read index;
//   leader_commit  the leader's commit index now, without a round (after an entry of its term
//                  committed, so the commit index is at least every earlier leader's).
//   lease          6.4.1, with check_quorum only: like leader_commit while the leader's lease
//                  holds (a quorum acknowledged a heartbeat sent less than lease_period_ticks
//                  ago: every heartbeat is a round then), no message on the leader (a hit);
//                  otherwise like read_index (a miss).
// A follower forwards a barrier to its leader and fails it when the leader changes or after
// two maximum election timeouts without an answer.
#include <algorithm>
#include <iterator>

#include <spdlog/spdlog.h>

#include "quorumlab/consensus/quorum.hpp"
#include "quorumlab/raft/raft.hpp"

namespace quorumlab::raft {

namespace {
bool supported(BarrierKind k) {
  return (kBarrierKinds & barrier_bit(k)) != 0;
}
}  // namespace

void RaftBroadcast::request_barrier(std::uint64_t id, BarrierKind kind) {
  if (!restored_) {
    finish_barrier(id, self_, false, 0, 0, BarrierFailure::no_leader);
    return;
  }
  if (!supported(kind) || (kind == BarrierKind::lease && lease_ticks_ == 0)) {
    finish_barrier(id, self_, false, 0, 0, BarrierFailure::unsupported);
    return;
  }
  if (state_ == State::leader) {
    leader_barrier(PendingBarrier{id, self_, kind, false, 0, 0, 0});
    return;
  }
  if (state_ != State::follower || leader_id_ == 0 || !leader_matched_) {
    finish_barrier(id, self_, false, 0, 0, BarrierFailure::no_leader);
    return;
  }
  forwarded_[id] = ForwardedBarrier{kind, leader_id_, 0};
  wire::Message m;
  m.type = wire::Type::barrier_request;
  m.context = id;
  m.barrier_kind = static_cast<std::uint8_t>(kind);
  send(leader_id_, m);
}

void RaftBroadcast::leader_barrier(PendingBarrier b) {
  barriers_.push_back(b);
  resolve_barriers();
}

std::uint64_t RaftBroadcast::confirmed_round() const {
  return consensus::quorum_value(ctx_.membership, [&](NodeId id) -> std::uint64_t {
    if (id == self_) return read_round_;
    auto it = round_acks_.find(id);
    return it == round_acks_.end() ? 0 : it->second;
  });
}

void RaftBroadcast::resolve_barriers() {
  if (state_ != State::leader || barriers_.empty()) return;
  if (!committed_in_term()) return;  // 6.4 step 1: wait for an entry of this term
  bool need_round = false;
  for (auto& b : barriers_) {
    if (b.started) continue;
    b.started = true;
    switch (b.kind) {
      case BarrierKind::sync_op:
        b.target = log_.last_index();
        break;
      case BarrierKind::lease:
        b.target = commit_index_;
        if (lease_valid()) {
          lease_hits_++;
          break;  // resolves below without a round
        }
        lease_misses_++;
        b.kind = BarrierKind::read_index;
        [[fallthrough]];
      case BarrierKind::read_index:
        b.target = commit_index_;
        b.round = read_round_ + 1;
        need_round = true;
        break;
      default:
        b.target = commit_index_;
        break;
    }
    b.target_zxid = log_.zxid_at(b.target).value_or(0);
  }
  // One read round in flight at a time: barriers that arrive meanwhile wait for the next one,
  // started once the current one is confirmed (a round per round trip, not per read).
  if (need_round) read_round_wanted_ = true;
  if (read_round_wanted_ && confirmed_round() >= read_round_) {
    read_round_wanted_ = false;
    read_rounds_++;
    if (lease_ticks_ == 0) read_round_++;  // with a lease, every heartbeat starts a round
    broadcast_heartbeat(/*periodic=*/false);
  }
  std::uint64_t confirmed = confirmed_round();
  std::vector<PendingBarrier> keep;
  std::vector<PendingBarrier> done;
  for (auto& b : barriers_) {
    bool ready =
        commit_index_ >= b.target && (b.kind != BarrierKind::read_index || confirmed >= b.round);
    (ready ? done : keep).push_back(b);
  }
  barriers_ = std::move(keep);
  for (const auto& b : done)
    finish_barrier(b.id, b.origin, true, b.target, b.target_zxid, BarrierFailure::none);
}

void RaftBroadcast::round_confirmed() {
  const std::uint64_t confirmed = confirmed_round();
  auto end = round_sent_tick_.upper_bound(confirmed);
  if (end == round_sent_tick_.begin()) return;
  const std::uint64_t sent = std::prev(end)->second;
  round_sent_tick_.erase(round_sent_tick_.begin(), end);
  lease_until_tick_ = std::max(lease_until_tick_, sent + static_cast<std::uint64_t>(lease_ticks_));
}

void RaftBroadcast::finish_barrier(std::uint64_t id, NodeId origin, bool ok, LogIndex index,
                                   Zxid zxid, BarrierFailure failure) {
  if (origin == self_) {
    pending_.barriers.push_back(
        BarrierResult{id, ok, zxid, index, ok ? BarrierFailure::none : failure});
    if (ok) trace(TraceKind::barrier, 0, zxid);
    return;
  }
  wire::Message m;
  m.type = wire::Type::barrier_response;
  m.context = id;
  m.granted = ok;
  m.index = index;
  m.zxid = zxid;
  m.barrier_failure = static_cast<std::uint8_t>(failure);
  send(origin, m);
}

void RaftBroadcast::fail_leader_barriers(BarrierFailure failure) {
  auto pending = std::move(barriers_);
  barriers_.clear();
  for (const auto& b : pending)
    finish_barrier(b.id, b.origin, false, 0, 0, failure);
}

void RaftBroadcast::fail_forwarded_barriers(BarrierFailure failure) {
  auto pending = std::move(forwarded_);
  forwarded_.clear();
  for (const auto& [id, f] : pending)
    finish_barrier(id, self_, false, 0, 0, failure);
}

void RaftBroadcast::on_barrier_request(NodeId from, const wire::Message& m) {
  auto kind = static_cast<BarrierKind>(m.barrier_kind);
  if (m.barrier_kind >= kBarrierKindCount || !supported(kind) ||
      (kind == BarrierKind::lease && lease_ticks_ == 0)) {
    finish_barrier(m.context, from, false, 0, 0, BarrierFailure::unsupported);
    return;
  }
  if (state_ != State::leader) {
    finish_barrier(m.context, from, false, 0, 0, BarrierFailure::not_leader);
    return;
  }
  leader_barrier(PendingBarrier{m.context, from, kind, false, 0, 0, 0});
}

void RaftBroadcast::on_barrier_response(NodeId from, const wire::Message& m) {
  auto it = forwarded_.find(m.context);
  if (it == forwarded_.end() || it->second.leader != from) return;
  forwarded_.erase(it);
  BarrierResult r;
  r.id = m.context;
  r.ok = m.granted;
  r.index = m.index;
  r.zxid = m.zxid;
  r.failure = m.granted ? BarrierFailure::none
                        : static_cast<BarrierFailure>(std::min<unsigned>(m.barrier_failure, 4));
  if (!r.ok && r.failure == BarrierFailure::none) r.failure = BarrierFailure::not_leader;
  pending_.barriers.push_back(r);
}

void RaftBroadcast::barrier_tick() {
  auto limit = static_cast<std::uint64_t>(2 * cfg_.election_timeout_max_ticks);
  std::vector<std::uint64_t> expired;
  for (auto& [id, f] : forwarded_) {
    if (++f.ticks > limit) expired.push_back(id);
  }
  for (std::uint64_t id : expired) {
    forwarded_.erase(id);
    finish_barrier(id, self_, false, 0, 0, BarrierFailure::no_leader);
  }
}

}  // namespace quorumlab::raft
