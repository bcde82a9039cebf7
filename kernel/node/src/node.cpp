// Node lifecycle, the Ready loop and apply. The client protocol is in clients.cpp.
#include <algorithm>

#include "internal.hpp"
#include "quorumlab/log.hpp"
#include "quorumlab/params.hpp"

namespace quorumlab::node {

namespace {

sm::TreeConfig tree_config(const NodeConfig& c) {
  sm::TreeConfig t;
  t.max_data_bytes = static_cast<std::size_t>(c.settings.get_int("max_data_bytes"));
  t.super_digest = c.settings.get_string("super_digest");
  return t;
}

PluginContext make_context(const NodeConfig& c, Rng* rng, Tracer* tracer, const char* component) {
  PluginContext ctx;
  ctx.self = c.id();
  ctx.membership = c.membership();
  ctx.rng = rng;
  ctx.tracer = tracer;
  ctx.logger = log::get(component);
  ctx.tick_ms = c.settings.get_int("tick_ms");
  ctx.clock_drift_ppm = c.settings.get_int("clock_drift_ppm");
  return ctx;
}

/// Stream ids of the plugins' random streams, forked from the node's seed.
constexpr std::uint64_t kBroadcastStream = 1;
constexpr std::uint64_t kStorageStream = 2;
constexpr std::uint64_t kReadPolicyStream = 3;

}  // namespace

Node::Node(const NodeConfig& config, const PluginLoader& loader, NodeEnv& env, Tracer& tracer,
           NodeOptions options)
    : config_(config),
      options_(std::move(options)),
      env_(env),
      tracer_(tracer),
      log_(log::get("node")),
      rng_(options_.rng_seed != 0 ? options_.rng_seed : 0x9e3779b97f4a7c15ULL ^ config.id()),
      broadcast_rng_(rng_.fork(kBroadcastStream)),
      storage_rng_(rng_.fork(kStorageStream)),
      read_rng_(rng_.fork(kReadPolicyStream)),
      tree_(tree_config(config)) {
  set_ensemble_config();
  load_plugins(loader);
  next_session_id_ =
      static_cast<SessionId>((static_cast<std::uint64_t>(config_.id()) << 56) |
                             ((static_cast<std::uint64_t>(env_.wall_ms()) << 24) >> 8));
}

Node::~Node() = default;

void Node::set_ensemble_config() {
  const std::string text = config_.ensemble_config();
  if (!text.empty()) tree_.set_ensemble_config(Bytes(text.begin(), text.end()));
}

void Node::load_plugins(const PluginLoader& loader) {
  auto load = [&](PluginKind kind, const PluginChoice& choice, PluginContext& ctx, Rng* rng,
                  const char* component) {
    ctx = make_context(config_, rng, &tracer_, component);
    auto info = loader.describe(kind, choice.name);
    ctx.params =
        choice.resolve(std::string(to_string(kind)) + " plugin '" + info.name + "'", info.params);
    return info;
  };
  if (options_.storage) {
    storage_ = options_.storage;
  } else {
    load(PluginKind::storage, config_.storage, storage_ctx_, &storage_rng_, "storage");
    storage_ctx_.data_dir = config_.data_dir();
    std::filesystem::create_directories(storage_ctx_.data_dir);
    storage_ = loader.make_storage(config_.storage.name, storage_ctx_);
  }
  const PluginInfo broadcast = load(PluginKind::broadcast, config_.broadcast, broadcast_ctx_,
                                    &broadcast_rng_, config_.broadcast.name.c_str());
  const PluginInfo policy =
      load(PluginKind::read_policy, config_.read_policy, read_ctx_, &read_rng_, "read_policy");
  // Refuse a pair whose read mechanism the broadcast plugin lacks, rather than serve reads
  // another way (the command line checks it before starting anything; this is the backstop).
  if (std::string why = unsupported_pair(broadcast, policy); !why.empty()) throw ConfigError(why);
  broadcast_ = loader.make_broadcast(config_.broadcast.name, broadcast_ctx_);
  read_policy_ = loader.make_read_policy(config_.read_policy.name, read_ctx_);
  executor_ = std::make_unique<replica::ReadyExecutor>(*broadcast_, *storage_,
                                                       static_cast<replica::ReplicaHost&>(*this));
}

void Node::set_storage_waker(std::function<void()> waker) {
  storage_waker_ = std::move(waker);
  storage_->set_wakeup(storage_waker_);
  recover();
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

// ------------------------------------------------------------------ inputs

void Node::on_peer_message(const std::uint8_t* data, std::size_t size) {
  try {
    CapnpReader reader(data, size, 1u << 26);
    auto env = reader.root<proto::PeerEnvelope>();
    NodeId from = env.getFrom();
    switch (env.which()) {
      case proto::PeerEnvelope::BROADCAST: {
        auto p = env.getBroadcast();
        broadcast_->step(PeerMessage{from, config_.id(), Bytes(p.begin(), p.end())});
        break;
      }
      case proto::PeerEnvelope::FORWARD:
        for (auto t : env.getForward())
          to_propose_.emplace_back(t.begin(), t.end());
        break;
      case proto::PeerEnvelope::REVALIDATE: {
        if (last_status_.role != Role::leader || !last_status_.can_propose) break;
        capnp::MallocMessageBuilder msg;
        auto reply = msg.initRoot<proto::PeerEnvelope>();
        reply.setFrom(config_.id());
        auto asks = env.getRevalidate();
        auto list = reply.initRevalidated(asks.size());
        for (unsigned i = 0; i < asks.size(); ++i) {
          list[i].setSessionId(asks[i].getSessionId());
          list[i].setValid(session_alive(asks[i].getSessionId()));
        }
        env_.send_peer(from, to_bytes(msg));
        break;
      }
      case proto::PeerEnvelope::REVALIDATED:
        for (auto v : env.getRevalidated())
          on_revalidated(v.getSessionId(), v.getValid());
        break;
      case proto::PeerEnvelope::TOUCH:
        for (auto t : env.getTouch()) {
          if (!sessions_.contains(t.getSessionId()) && tree_.has_session(t.getSessionId())) {
            sessions_.add(t.getSessionId(), t.getTimeoutMs(), env_.now_ms());
          }
          sessions_.touch(t.getSessionId(), env_.now_ms());
        }
        break;
      default:
        break;
    }
  } catch (const kj::Exception& e) {
    log_->warn("dropped a malformed peer message ({} bytes): {}", size, e.getDescription().cStr());
  }
}

void Node::on_peer_disconnected(NodeId id) {
  log_->debug("lost the connection to peer {}", id);
  broadcast_->peer_disconnected(id);
}

void Node::on_tick() {
  ++ticks_;
  broadcast_->tick();
  if (last_status_.role == Role::leader) {
    // Expiry waits until the leader serves (see on_status_change); sessions are its own.
    if (last_status_.can_propose) leader_duties();
  } else {
    report_session_touches();
  }
}

void Node::on_storage_wakeup() {
  executor_->complete_persisted();
}

void Node::process() {
  propose_pending();
  drain_ready();
}

// ------------------------------------------------------------------ leader duties

void Node::leader_duties() {
  std::int64_t now = env_.now_ms();
  for (SessionId id : sessions_.take_expired(now)) {
    log_->info("session {:#x} expired", id);
    sm::Txn txn;
    txn.header.session_id = id;
    txn.header.time_ms = env_.wall_ms();
    txn.op = sm::CloseSessionOp{id};
    submit_txn(std::move(txn));
  }
  if (ticks_ % kContainerCheckTicks == 0) {
    std::int64_t wall = env_.wall_ms();
    for (const auto& path : tree_.expired_nodes(wall, kExpiredNodesPerCheck)) {
      sm::Txn txn;
      txn.header.time_ms = wall;
      txn.op = sm::DeleteExpiredOp{path};
      submit_txn(std::move(txn));
    }
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

void Node::on_status_change(const BroadcastStatus& s) {
  BroadcastStatus old = last_status_;
  const bool was_serving = serves_clients();
  last_status_ = s;
  log_->info("node {}: {} in epoch {}, leader {}", config_.id(), to_string(s.role), s.epoch,
             s.leader);
  if (s.role == Role::leader && s.can_propose && !(old.role == Role::leader && old.can_propose)) {
    // The new leader has no history of session activity: restart every session's clock. From
    // now, when it starts to serve: until then no server served clients (a server serves only
    // within a quorum), and no client could have kept its session alive.
    sessions_ = SessionTracker();
    for (const auto& info : tree_.sessions()) {
      sessions_.add(info.session_id, info.timeout_ms, env_.now_ms());
    }
  }
  if (old.leader != 0 && s.leader != old.leader) {
    // Requests forwarded to the old leader may be lost: fail them as ZooKeeper does, by
    // closing the connections that wait on the write path (a createSession included: its
    // client would otherwise wait out its connect timeout); clients reconnect and retry.
    std::vector<ConnId> drop;
    for (auto& [id, c] : connections_) {
      if (c->connecting) {
        drop.push_back(id);
        continue;
      }
      for (auto& p : c->queue) {
        if (!p.done && p.kind != PendingKind::read && p.kind != PendingKind::local) {
          drop.push_back(id);
          break;
        }
      }
    }
    for (ConnId id : drop)
      drop_connection(id, "leader changed while requests were pending");
  }
  if (was_serving && !serves_clients()) {
    // As ZooKeeper, whose server closes every client connection when it leaves FOLLOWING or
    // LEADING: the clients see Disconnected at once (well before the majority can expire
    // their sessions) and reconnect to a server of the quorum, keeping their sessions.
    // Connects are refused and nothing is answered until this server rejoins a quorum. (The
    // connections waiting on the write path were closed above, with that reason.)
    std::vector<ConnId> all;
    for (const auto& [id, c] : connections_)
      all.push_back(id);
    std::sort(all.begin(), all.end());
    const std::string reason = not_serving_reason();
    for (ConnId id : all)
      drop_connection(id, reason);
  }
  if (!was_serving && serves_clients()) {
    // Back in a quorum: its read-only sessions end, as ZooKeeper shuts its read-only server
    // down; their clients reconnect for read-write sessions.
    std::vector<ConnId> ro;
    for (const auto& [id, c] : connections_) {
      if (c->read_only) ro.push_back(id);
    }
    std::sort(ro.begin(), ro.end());
    for (ConnId id : ro)
      drop_connection(
          id, fmt::format("server {} rejoined a quorum: its read-only sessions end", config_.id()));
  }
}

// ------------------------------------------------------------------ txns

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

void Node::propose_pending() {
  if (to_propose_.empty()) return;
  BroadcastStatus s = broadcast_->status();
  if (s.role == Role::leader && s.can_propose) {
    auto r = broadcast_->propose(to_propose_);
    if (r.accepted) {
      stats_.writes_proposed += to_propose_.size();
      to_propose_.clear();
      return;
    }
    s.leader = r.leader_hint;
  }
  if (s.leader != 0 && s.leader != config_.id()) {
    send_envelope_forward(to_propose_, s.leader);
    to_propose_.clear();
  }
  // Otherwise there is no leader yet: keep the txns until there is one.
}

void Node::drain_ready() {
  if (!executor_->drain(kReadyLoopMax)) {
    log_->warn("broadcast plugin produced more than {} Ready batches in one turn", kReadyLoopMax);
  }
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

// A barrier read (or sync) waits until its point is applied, and must then be served at that
// state, before a later write of its own session applies: a plugin may commit the barrier's
// point and that write in one Ready (raft commits a run of entries at once), and the session's
// own flush after the write would serve the read too late (found by the simulator: raft seed 10,
// fifo_execution_order).
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

void Node::apply(const CommittedTxn& committed) {
  serve_reads_at_applied();
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

}  // namespace quorumlab::node
