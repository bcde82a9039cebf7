// The replica core: recovery from storage, the Ready loop (the kernel's one executor,
// replica::ReadyExecutor, with this node as its host), applying committed txns to the tree,
// snapshots, and the pipeline that takes txns to the leader (proposed here when this node
// leads, forwarded otherwise, held while there is no leader).
#include <algorithm>

#include "internal.hpp"
#include "quorumlab/log.hpp"

namespace quorumlab::node {

void Node::set_ensemble_config() {
  const std::string text = config_.ensemble_config();
  if (!text.empty()) tree_.set_ensemble_config(Bytes(text.begin(), text.end()));
}

void Node::recover() {
  StorageRecovery rec = storage_->recover();
  for (const auto& note : rec.notes)
    log_->warn("storage recovery: {}", note);
  RecoveredLog log;
  log.hard_state = rec.hard_state;
  replica::AppliedPosition applied;
  if (rec.snapshot) {
    std::string error;
    auto restored = sm::DataTree::restore(rec.snapshot->data.data(), rec.snapshot->data.size(),
                                          &error, tree_config(config_));
    if (!restored) throw std::runtime_error("snapshot in storage is unusable: " + error);
    tree_ = std::move(*restored);
    set_ensemble_config();
    applied = {rec.snapshot->last_index, rec.snapshot->last_epoch, rec.snapshot->last_zxid};
    last_snapshot_index_ = applied.index;
    applied_zxid_ = applied.zxid;
    log.snapshot = Snapshot{applied.index, applied.epoch, applied.zxid, {}};
  }
  executor_->reset(applied, rec.entries.empty() ? applied.index : rec.entries.back().index);
  if (rec.snapshot) report_applied(nullptr);
  log.entries = std::move(rec.entries);
  broadcast_->set_snapshot_source(this);
  broadcast_->restore(log);
  drain_ready();
  log_->info("node {} recovered: applied zxid {:#x} (index {}), {} znodes, digest {:#x}",
             config_.id(), applied_zxid_, executor_->applied().index, tree_.node_count(),
             tree_.digest());
}

Snapshot Node::take_snapshot() {
  const replica::AppliedPosition& a = executor_->applied();
  return Snapshot{a.index, a.epoch, a.zxid, tree_.serialize()};
}

void Node::submit_txn(sm::Txn txn) {
  to_propose_.push_back(sm::encode(txn));
}

bool Node::submit_client_txn(sm::Txn txn) {
  if (to_propose_.size() >= options_.max_waiting_txns) {
    ++stats_.txns_refused;
    log_->warn("{}; refusing a txn of session {:#x}", waiting_txns_full(), txn.header.session_id);
    return false;
  }
  submit_txn(std::move(txn));
  return true;
}

std::string Node::waiting_txns_full() const {
  return fmt::format("server {} has no leader and {} txns waiting for one; try another server",
                     config_.id(), to_propose_.size());
}

void Node::send_envelope_forward(const std::vector<Bytes>& txns, NodeId to) {
  capnp::MallocMessageBuilder msg;
  auto env = msg.initRoot<proto::PeerEnvelope>();
  env.setFrom(config_.id());
  auto list = env.initForward(static_cast<unsigned>(txns.size()));
  for (unsigned i = 0; i < txns.size(); ++i) {
    list.set(i, kj::arrayPtr(txns[i].data(), txns[i].size()));
  }
  env_.send_peer(to, to_bytes(msg));
}

namespace {

/// Proposals and forwards go out in batches of at most this many txn bytes (one txn always
/// goes): a batch is one peer message, and the transport drops the connection of a message
/// beyond its limit (twice max_data_bytes), so many large writes at once must not share one.
constexpr std::size_t kMaxBatchBytes = 512 * 1024;

/// The end of the batch of `txns` that starts at `from`.
std::size_t batch_end(const std::vector<Bytes>& txns, std::size_t from) {
  std::size_t end = from, bytes = 0;
  while (end < txns.size() && (end == from || bytes + txns[end].size() <= kMaxBatchBytes))
    bytes += txns[end++].size();
  return end;
}

}  // namespace

void Node::propose_pending() {
  std::size_t done = 0;
  while (done < to_propose_.size()) {
    const std::size_t end = batch_end(to_propose_, done);
    std::vector<Bytes> batch;
    const bool whole = done == 0 && end == to_propose_.size();
    if (whole) {
      batch.swap(to_propose_);  // the usual case: everything fits one batch
    } else {
      batch.assign(std::make_move_iterator(to_propose_.begin() + static_cast<std::ptrdiff_t>(done)),
                   std::make_move_iterator(to_propose_.begin() + static_cast<std::ptrdiff_t>(end)));
    }
    BroadcastStatus s = broadcast_->status();
    bool sent = false;
    if (s.role == Role::leader && s.can_propose) {
      auto r = broadcast_->propose(batch);
      sent = r.accepted;
      if (sent) stats_.writes_proposed += batch.size();
      s.leader = r.leader_hint;
    }
    if (!sent && s.leader != 0 && s.leader != config_.id()) {
      send_envelope_forward(batch, s.leader);
      sent = true;
    }
    if (!sent) {
      // No leader yet: keep this batch and the rest until there is one.
      if (whole) {  // back in front of anything submitted meanwhile
        to_propose_.insert(to_propose_.begin(), std::make_move_iterator(batch.begin()),
                           std::make_move_iterator(batch.end()));
      } else {
        std::move(batch.begin(), batch.end(),
                  to_propose_.begin() + static_cast<std::ptrdiff_t>(done));
      }
      break;
    }
    if (whole) break;  // swapped out whole: what is in to_propose_ now came meanwhile
    done = end;
  }
  if (done > 0) {
    to_propose_.erase(
        to_propose_.begin(),
        to_propose_.begin() + static_cast<std::ptrdiff_t>(std::min(done, to_propose_.size())));
  }
}

void Node::drain_ready() {
  if (!executor_->drain(kReadyLoopMax)) {
    log_->warn("broadcast plugin produced more than {} Ready batches in one turn", kReadyLoopMax);
  }
  serve_reads_at_applied();  // reads whose point the last apply reached
}

void Node::send(const PeerMessage& m) {
  capnp::MallocMessageBuilder msg;
  auto env = msg.initRoot<proto::PeerEnvelope>();
  env.setFrom(config_.id());
  env.setBroadcast(kj::arrayPtr(m.payload.data(), m.payload.size()));
  env_.send_peer(m.to, to_bytes(msg));
}

void Node::restore_snapshot(const Snapshot& snapshot) {
  std::string error;
  auto restored = sm::DataTree::restore(snapshot.data.data(), snapshot.data.size(), &error,
                                        tree_config(config_));
  if (!restored) throw std::runtime_error("snapshot from the leader is unusable: " + error);
  tree_ = std::move(*restored);
  set_ensemble_config();
  last_snapshot_index_ = snapshot.last_index;
  applied_zxid_ = snapshot.last_zxid;
  report_applied(nullptr);
  // The tree was replaced without the txns that changed it, so no watch fired for those
  // changes. As ZooKeeper does when a learner resynchronizes, close every client connection:
  // clients reconnect and re-send their watches (setWatches), which fire against the new
  // tree for whatever changed after their last seen zxid.
  std::vector<ConnId> all;
  for (const auto& [id, c] : connections_)
    all.push_back(id);
  std::sort(all.begin(), all.end());
  for (ConnId id : all)
    drop_connection(id, "replica resynchronized from a leader snapshot");
}

void Node::contract_violation(const std::string& what) {
  log_->error("broadcast plugin '{}' broke the Ready contract: {}; skipped", config_.broadcast.name,
              what);
}

void Node::apply(const CommittedTxn& committed) {
  serve_reads_at_applied();  // at the state their barrier named, before this txn
  applied_zxid_ = committed.zxid;
  if (committed.data.empty()) {  // a no-op entry (e.g. a new leader's first proposal)
    report_applied(&committed.data);
    return;
  }
  std::string error;
  auto txn = sm::decode(committed.data, &error);
  if (!txn) {
    // Every replica sees the same bytes, so every replica skips it the same way.
    log_->error("committed txn {:#x} does not decode ({}); skipped", committed.zxid, error);
    report_applied(&committed.data);
    return;
  }
  std::vector<sm::WatchTrigger> triggers;
  sm::TxnResult result = tree_.apply(*txn, committed.zxid, &triggers);
  ++stats_.txns_applied;
  QL_TRACE(tracer_,
           TraceEvent{TraceKind::apply, config_.id(), 0, committed.epoch, committed.zxid, {}});
  deliver_notifications(triggers);
  after_apply(*txn, result, committed.zxid);
  report_applied(&committed.data);
  maybe_snapshot(committed.index);
}

void Node::report_applied(const Bytes* data) {
  if (options_.on_applied) {
    options_.on_applied({executor_->applied().index, applied_zxid_, data, tree_.digest()});
  }
}

void Node::maybe_snapshot(LogIndex index) {
  auto every = static_cast<LogIndex>(config_.settings.get_int("snapshot_every_txns"));
  if (index < last_snapshot_index_ + every) return;
  Snapshot snap = take_snapshot();
  const Zxid zxid = snap.last_zxid;
  executor_->compact(std::move(snap));
  last_snapshot_index_ = index;
  ++stats_.snapshots;
  log_->info("snapshot at zxid {:#x} (index {})", zxid, index);
}

sm::Txn Node::make_txn(SessionId session, sm::TxnOp op, std::int32_t cxid) const {
  sm::Txn txn;
  txn.header.session_id = session;
  txn.header.cxid = cxid;
  txn.header.time_ms = env_.wall_ms();
  txn.op = std::move(op);
  return txn;
}

}  // namespace quorumlab::node
