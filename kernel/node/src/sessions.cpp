// Sessions. The leader tracks every session's liveness (SessionTracker) from its own clients'
// requests and the touches the other servers report each tick, expires sessions by proposing
// closeSession, and deletes expired TTL nodes and empty containers. A learner that a client
// reconnects to asks the leader whether the session is still alive (revalidation) before it
// accepts it. Creating and closing a session are txns like any other.
#include "internal.hpp"
#include "quorumlab/log.hpp"

namespace quorumlab::node {

void Node::leader_duties() {
  std::int64_t now = env_.now_ms();
  for (SessionId id : sessions_.take_expired(now)) {
    log_->info("session {:#x} expired", id);
    submit_txn(make_txn(id, sm::CloseSessionOp{id}));
  }
  if (ticks_ % kContainerCheckTicks == 0) {
    for (const auto& path : tree_.expired_nodes(env_.wall_ms(), kExpiredNodesPerCheck))
      submit_txn(make_txn(0, sm::DeleteExpiredOp{path}));
  }
}

void Node::report_session_touches() {
  if (touched_.empty() || last_status_.leader == 0 || last_status_.leader == config_.id()) return;
  capnp::MallocMessageBuilder msg;
  auto env = msg.initRoot<proto::PeerEnvelope>();
  env.setFrom(config_.id());
  auto list = env.initTouch(static_cast<unsigned>(touched_.size()));
  unsigned i = 0;
  for (const auto& [id, timeout] : touched_) {
    list[i].setSessionId(id);
    list[i].setTimeoutMs(timeout);
    ++i;
  }
  env_.send_peer(last_status_.leader, to_bytes(msg));
  touched_.clear();
}

bool Node::session_alive(SessionId id) {
  if (!tree_.has_session(id)) return false;
  if (!sessions_.contains(id)) {
    // Not tracked yet (as for a TOUCH, see on_peer_message): it starts a fresh timeout.
    for (const auto& s : tree_.sessions()) {
      if (s.session_id == id) sessions_.add(id, s.timeout_ms, env_.now_ms());
    }
  }
  return sessions_.touch_if_alive(id, env_.now_ms());
}

void Node::on_touch(capnp::List<proto::SessionTouch>::Reader touches) {
  for (auto t : touches) {
    if (!sessions_.contains(t.getSessionId()) && tree_.has_session(t.getSessionId())) {
      sessions_.add(t.getSessionId(), t.getTimeoutMs(), env_.now_ms());
    }
    sessions_.touch(t.getSessionId(), env_.now_ms());
  }
}

void Node::on_revalidate(NodeId from, capnp::List<proto::SessionTouch>::Reader asks) {
  if (last_status_.role != Role::leader) return;  // the asker closes on the leader change
  std::vector<SessionId> ids;
  for (auto a : asks)
    ids.push_back(a.getSessionId());
  if (!last_status_.can_propose) {
    // A leader that cannot propose yet (raft: its no-op entry is not committed) may already be
    // known to followers, which then ask. Answer once it serves (answer_held_revalidations):
    // dropped, the client waited for its whole connect timeout (a third of the session
    // timeout with three servers: the 3.4 s failover outlier on raft).
    held_revalidations_.emplace_back(from, std::move(ids));
    return;
  }
  answer_revalidation(from, ids);
}

void Node::answer_revalidation(NodeId to, const std::vector<SessionId>& ids) {
  capnp::MallocMessageBuilder msg;
  auto reply = msg.initRoot<proto::PeerEnvelope>();
  reply.setFrom(config_.id());
  auto list = reply.initRevalidated(static_cast<unsigned>(ids.size()));
  for (unsigned i = 0; i < ids.size(); ++i) {
    list[i].setSessionId(ids[i]);
    list[i].setValid(session_alive(ids[i]));
  }
  env_.send_peer(to, to_bytes(msg));
}

void Node::answer_held_revalidations() {
  auto held = std::move(held_revalidations_);
  held_revalidations_.clear();
  if (last_status_.role != Role::leader || !last_status_.can_propose) return;
  for (const auto& [to, ids] : held)
    answer_revalidation(to, ids);
}

void Node::restart_session_clocks() {
  // The new leader has no history of session activity: restart every session's clock. From
  // now, when it starts to serve: until then no server served clients (a server serves only
  // within a quorum), and no client could have kept its session alive.
  sessions_ = SessionTracker();
  for (const auto& info : tree_.sessions())
    sessions_.add(info.session_id, info.timeout_ms, env_.now_ms());
}

void Node::track_session_txn(const sm::Txn& txn) {
  if (auto* cs = std::get_if<sm::CreateSessionOp>(&txn.op)) {
    if (last_status_.role == Role::leader) {
      sessions_.add(cs->session_id, cs->timeout_ms, env_.now_ms());
    }
  } else if (auto* close = std::get_if<sm::CloseSessionOp>(&txn.op)) {
    sessions_.remove(close->session_id);
  }
}

}  // namespace quorumlab::node
