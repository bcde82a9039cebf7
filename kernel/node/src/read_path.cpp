// The read path. Each read mechanism of the read policy is a barrier of one kind asked of the
// broadcast plugin (sync_op, leader_commit, read_index, lease; `local` needs none), after which
// the read runs on this server, where the client is connected, once it has applied the
// barrier's commit point. Within a session everything keeps request order: a read runs when it
// reaches the head of the session's queue, and a write sent after an unresolved barrier waits
// until the barrier resolved (FIFO client order across the two paths to the leader).
#include <algorithm>

#include "internal.hpp"
#include "ops.hpp"
#include "quorumlab/log.hpp"

namespace quorumlab::node {

void Node::start_read(Connection& c, Pending p) {
  ++stats_.reads;
  p.kind = PendingKind::read;
  ReadInfo info{last_status_, 0, applied_zxid_, ticks_, confirmed_};
  // Every mechanism but local is a barrier of one kind, then a read here (read_policy.hpp). A
  // read-only session reads this replica's state: there is no leader for a barrier.
  const ReadMechanism mechanism = c.read_only ? ReadMechanism::local : read_policy_->choose(info);
  ++stats_.reads_by_mechanism.at(static_cast<std::size_t>(mechanism));
  if (auto kind = barrier_for(mechanism)) {
    p.kind = PendingKind::barrier_read;
    return start_barrier(c, std::move(p), *kind);
  }
  c.queue.push_back(std::move(p));
  if (options_.test_reads_skip_session_order) {
    try_complete_read(c, c.queue.back());  // test-only fault: see NodeOptions
  }
  flush_connection(c);
}

void Node::start_barrier(Connection& c, Pending p, BarrierKind kind) {
  p.barrier_resolved = false;
  p.barrier_id = next_barrier_id_++;
  conn_by_barrier_[p.barrier_id] = BarrierWait{c.id, ticks_, kind};
  ++stats_.barriers;
  if (p.kind == PendingKind::sync_op) ++stats_.syncs;
  const std::uint64_t id = p.barrier_id;
  // Queued first: the plugin may resolve it at once, in a later Ready.
  c.queue.push_back(std::move(p));
  broadcast_->request_barrier(id, kind);
  flush_connection(c);
}

// FIFO client order across the two paths to the leader: a barrier (sync_op, read-index) travels
// in the broadcast plugin's messages, a write in the kernel's forward envelopes, and either may
// reach the leader first (zab holds a learner's packets behind its fsync; the simulator delays
// them independently). A write sent after a sync must not be proposed before the leader has
// fixed that sync's point, or the sync and the reads behind it see the later write (found by
// the simulator: zab seeds 1, 21, 46 with --faults all). So a session's writes behind an
// unresolved barrier wait here; ZooKeeper gets the same order from its one TCP channel.
void Node::enqueue_txn(Connection& c, Pending p, sm::Txn txn) {
  const bool behind_barrier = std::any_of(c.queue.begin(), c.queue.end(), [](const Pending& q) {
    return q.awaits_barrier() || q.held_txn.has_value();
  });
  if (behind_barrier && !options_.test_writes_skip_barrier_order) {
    p.held_txn = std::move(txn);
  } else if (!submit_client_txn(std::move(txn))) {
    return drop_connection(c.id, waiting_txns_full());
  }
  c.queue.push_back(std::move(p));
}

bool Node::release_held_txns(Connection& c) {
  for (auto& p : c.queue) {
    if (p.awaits_barrier()) return true;
    if (p.held_txn) {
      std::optional<sm::Txn> txn = std::move(p.held_txn);
      p.held_txn.reset();
      if (!submit_client_txn(std::move(*txn))) {
        drop_connection(c.id, waiting_txns_full());
        return false;
      }
    }
  }
  return true;
}

void Node::resolve_barrier(const BarrierResult& b) {
  auto it = conn_by_barrier_.find(b.id);
  if (it == conn_by_barrier_.end()) return;
  const BarrierWait wait = it->second;
  const ConnId conn = wait.conn;
  conn_by_barrier_.erase(it);
  stats_.barrier_ticks += static_cast<std::uint64_t>(ticks_ - wait.asked_tick);
  if (!b.ok) ++stats_.barriers_failed;
  if (b.ok && wait.kind == BarrierKind::read_index && wait.asked_tick >= confirmed_.asked_at_tick) {
    confirmed_ = ConfirmedPoint{std::max(confirmed_.zxid, b.zxid), wait.asked_tick};
  }
  auto c = connections_.find(conn);
  if (c == connections_.end()) return;
  if (!b.ok) {
    return drop_connection(conn, std::string("a read barrier failed (") + to_string(b.failure) +
                                     "); reconnect and retry");
  }
  // Barriers of one connection need not resolve in request order: a sync_op on the leader
  // resolves at once while an earlier read_index waits for its quorum round.
  for (auto& p : c->second->queue) {
    if (p.barrier_id == b.id) {
      p.barrier_resolved = true;
      p.wait_zxid = b.zxid;
      if (b.zxid > applied_zxid_) conns_awaiting_apply_.insert(conn);
      break;
    }
  }
  if (release_held_txns(*c->second)) flush_connection(*c->second);
}

bool Node::try_complete_read(Connection& c, Pending& p) {
  if (!p.barrier_resolved || applied_zxid_ < p.wait_zxid) return false;
  auto req = p.request->root<proto::ClientMessage>().getRequest();
  if (p.kind == PendingKind::sync_op) {
    capnp::MallocMessageBuilder msg;
    auto r = msg.initRoot<proto::ServerMessage>().initResponse();
    r.setXid(p.xid);
    r.setZxid(static_cast<std::int64_t>(applied_zxid_));
    r.getBody().setPath(req.getOp().getSync());
    p.response = to_bytes(msg);
  } else if (p.kind == PendingKind::local) {
    LocalOpResult lr = execute_local_op(tree_, watches_, c.id, c.auth, req, applied_zxid_);
    p.response = std::move(lr.response);
    for (auto& n : lr.notifications)
      send_to(c, std::move(n));
    if (lr.close_connection) c.closing = true;
  } else {
    p.response = execute_read(tree_, watches_, c.id, c.session, c.auth, req, applied_zxid_);
  }
  p.request.reset();
  p.done = true;
  return true;
}

// A barrier read (or sync) waits until its point is applied, and must then be served at that
// state, before a later write of its own session applies: a plugin may commit the barrier's
// point and that write in one Ready (raft commits a run of entries at once), and the session's
// own flush after the write would serve the read too late (found by the simulator: raft seed
// 10, fifo_execution_order). So before every apply, and after every drain of Readies (when no
// further apply may come soon), the connections whose point is now applied are flushed.
void Node::serve_reads_at_applied() {
  if (conns_awaiting_apply_.empty()) return;
  const std::vector<ConnId> waiting(conns_awaiting_apply_.begin(), conns_awaiting_apply_.end());
  for (ConnId id : waiting) {
    auto it = connections_.find(id);
    if (it == connections_.end()) {
      conns_awaiting_apply_.erase(id);
      continue;
    }
    Connection& c = *it->second;
    const bool still_waiting = std::any_of(c.queue.begin(), c.queue.end(), [&](const Pending& p) {
      return !p.done && p.barrier_resolved && p.wait_zxid > applied_zxid_;
    });
    if (!still_waiting) conns_awaiting_apply_.erase(id);
    flush_connection(c);  // may drop the connection; `c` is not used after this
  }
}

}  // namespace quorumlab::node
