// Barriers: ZooKeeper's sync (sync_op), a read-index (read_index) and the leader's commit
// point (leader_commit), and the leader's lease (lease). Asked for a lease without lease=true,
// the barrier fails at once with BarrierFailure::unsupported (the kernel refuses a read policy
// that needs it at start, with barrier_unavailable's reason).
//
// sync_op: the leader answers once everything proposed before the barrier is committed
// (Leader.processSync / pendingSyncs), with that zxid. A learner forwards it as REQUEST and gets
// the answer in its stream after the COMMITs it depends on, so it has applied them first.
//
// read_index: the leader records its commit point, then confirms it still leads with a quorum
// round: a PING carrying a new round number, echoed by a quorum of voters. Only a round started
// after the request counts. The barrier resolves at the recorded commit point. A learner
// forwards it like sync_op.
//
// leader_commit: the leader answers at once with its commit point, no quorum round. A learner
// forwards it like sync_op, and the answer follows the COMMITs it names in the stream.
//
// lease (lease=true only, see zab.hpp): like leader_commit while the leader's lease holds (a
// hit: no message on the leader); otherwise like read_index (a miss). With a lease every PING
// starts a round, and a quorum's echo of round r extends the lease to r's send tick plus
// lease_ticks_.
//
// Each fails (ok = false) with no_leader when there is no leader in the broadcast phase or the
// connection to the leader is lost before it resolves, and with not_leader when the leader
// that held it stepped down.
#include <algorithm>
#include <iterator>

#include "quorumlab/consensus/quorum.hpp"
#include "quorumlab/zab/zab.hpp"

namespace quorumlab::zab {

void ZabBroadcast::request_barrier(std::uint64_t id, BarrierKind kind) {
  if ((kBarrierKinds & barrier_bit(kind)) == 0 || (kind == BarrierKind::lease && !cfg_.lease)) {
    pending_.barriers.push_back(BarrierResult{id, false, 0, 0, BarrierFailure::unsupported});
    trace(TraceKind::barrier, 0, 0, std::string("failed: zab does not support ") + to_string(kind));
    return;
  }
  if (state_ == PeerState::leading && phase_ == Phase::broadcast) {
    PendingBarrier b;
    b.id = id;
    b.origin = self_;
    b.kind = kind;
    leader_barrier(b);
    return;
  }
  if ((state_ == PeerState::following || state_ == PeerState::observing) && up_to_date_) {
    forwarded_barriers_[id] = kind;
    send_to_leader(wire::Request{id, kind});
    return;
  }
  pending_.barriers.push_back(BarrierResult{id, false, 0, 0, BarrierFailure::no_leader});
  trace(TraceKind::barrier, 0, 0, "failed: no leader in the broadcast phase");
}

void ZabBroadcast::leader_barrier(PendingBarrier b) {
  if (b.kind == BarrierKind::lease) {
    if (tick_count_ < lease_until_tick_) {
      lease_hits_++;
      b.kind = BarrierKind::leader_commit;
    } else {
      lease_misses_++;
      b.kind = BarrierKind::read_index;
    }
  }
  if (b.kind == BarrierKind::sync_op) {
    b.target = log_.last_index();
  } else if (b.kind == BarrierKind::leader_commit) {
    b.target = commit_index_;
  } else {
    b.target = commit_index_;
    // A round already in flight started before this request: it cannot vouch for it.
    b.round = read_round_ + 1;
    if (read_round_confirmed_ == read_round_) {
      start_read_round();
    } else {
      read_round_wanted_ = true;
    }
  }
  b.target_zxid = *log_.zxid_at(b.target);
  barriers_.push_back(b);
  resolve_barriers();
  check_read_rounds();
}

void ZabBroadcast::next_read_round() {
  read_round_++;
  read_round_wanted_ = false;
  if (lease_ticks_ > 0) round_sent_tick_[read_round_] = tick_count_;
}

void ZabBroadcast::start_read_round() {
  read_rounds_++;
  next_read_round();
  for (auto& [sid, h] : handlers_) {
    if (!h.observer && h.newleader_acked) send_stream(h, wire::Ping{read_round_});
  }
}

void ZabBroadcast::check_read_rounds() {
  std::uint64_t confirmed =
      consensus::quorum_value(ctx_.membership, [&](NodeId id) -> std::uint64_t {
        if (id == self_) return read_round_;
        auto it = handlers_.find(id);
        if (it == handlers_.end() || !it->second.newleader_acked) return 0;
        return it->second.round_acked;
      });
  if (confirmed <= read_round_confirmed_) return;
  read_round_confirmed_ = confirmed;
  if (lease_ticks_ > 0) {
    auto end = round_sent_tick_.upper_bound(confirmed);
    if (end != round_sent_tick_.begin()) {
      const std::uint64_t sent = std::prev(end)->second;
      round_sent_tick_.erase(round_sent_tick_.begin(), end);
      lease_until_tick_ =
          std::max(lease_until_tick_, sent + static_cast<std::uint64_t>(lease_ticks_));
    }
  }
  resolve_barriers();
  if (read_round_confirmed_ == read_round_ && read_round_wanted_) start_read_round();
}

void ZabBroadcast::resolve_barriers() {
  std::vector<PendingBarrier> done;
  for (auto it = barriers_.begin(); it != barriers_.end();) {
    bool ready = it->kind == BarrierKind::read_index ? read_round_confirmed_ >= it->round
                                                     : commit_index_ >= it->target;
    if (ready) {
      done.push_back(*it);
      it = barriers_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& b : done)
    finish_barrier(b, true, b.target);
}

void ZabBroadcast::finish_barrier(const PendingBarrier& b, bool ok, LogIndex index,
                                  BarrierFailure failure) {
  BarrierResult r{b.id, ok, ok ? b.target_zxid : 0, ok ? index : 0,
                  ok ? BarrierFailure::none : failure};
  if (b.origin == self_) {
    pending_.barriers.push_back(r);
    trace(TraceKind::barrier, 0, r.zxid, ok ? "resolved" : "failed");
    return;
  }
  auto it = handlers_.find(b.origin);
  if (it != handlers_.end() && it->second.nonce == b.nonce) {
    send_stream(it->second, wire::SyncReply{b.id, ok, r.zxid, r.index, r.failure});
  }
}

void ZabBroadcast::fail_all_barriers() {
  std::vector<PendingBarrier> pending;
  pending.swap(barriers_);
  for (const auto& b : pending)
    finish_barrier(b, false, 0, BarrierFailure::not_leader);
  for (const auto& [id, kind] : forwarded_barriers_) {
    pending_.barriers.push_back(BarrierResult{id, false, 0, 0, BarrierFailure::no_leader});
    trace(TraceKind::barrier, leader_id_, 0, "failed: lost the leader");
  }
  forwarded_barriers_.clear();
}

void ZabBroadcast::on_request(LearnerHandler& h, const wire::Request& m) {
  if (phase_ != Phase::broadcast || !h.up_to_date_sent) {
    send_stream(h, wire::SyncReply{m.barrier_id, false, 0, 0, BarrierFailure::not_leader});
    return;
  }
  PendingBarrier b;
  b.id = m.barrier_id;
  b.origin = h.sid;
  b.nonce = h.nonce;
  b.kind = m.kind;
  leader_barrier(b);
}

void ZabBroadcast::on_sync_reply(const wire::SyncReply& m) {
  auto it = forwarded_barriers_.find(m.barrier_id);
  if (it == forwarded_barriers_.end()) return;
  forwarded_barriers_.erase(it);
  pending_.barriers.push_back(
      BarrierResult{m.barrier_id, m.ok, m.zxid, m.index, m.ok ? BarrierFailure::none : m.failure});
  trace(TraceKind::barrier, leader_id_, m.zxid, m.ok ? "resolved by the leader" : "failed");
}

}  // namespace quorumlab::zab
