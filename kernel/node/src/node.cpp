// Node composes its parts (node.hpp): here are startup (plugins, their random streams, the
// refused pairs), the runtime's inputs dispatched to the parts, status changes and the status
// report. The parts:
//   replica.cpp          the replica core: recovery, Ready execution (replica::ReadyExecutor),
//                        apply, snapshots, and the txn pipeline to the leader
//   sessions.cpp         session liveness, expiry, TTL and container deletion, revalidation
//   read_path.cpp        reads: each read mechanism as a barrier, per-session barrier order
//   client_protocol.cpp  the client front-end (native protocol; zkwire translates into it)
//   ops.cpp              executing reads and local operations against the tree
#include <algorithm>

#include "internal.hpp"
#include "quorumlab/log.hpp"
#include "quorumlab/params.hpp"

namespace quorumlab::node {

namespace {

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
  if (std::string why = loader.unsupported_pair(broadcast, broadcast_ctx_.params, policy);
      !why.empty()) {
    throw ConfigError(why);
  }
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

// ------------------------------------------------------------------ inputs

void Node::on_peer_message(const std::uint8_t* data, std::size_t size) {
  try {
    CapnpReader reader(data, size, received_traversal_words(size, 1u << 26));
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
      case proto::PeerEnvelope::REVALIDATE:
        on_revalidate(from, env.getRevalidate());
        break;
      case proto::PeerEnvelope::REVALIDATED:
        for (auto v : env.getRevalidated())
          on_revalidated(v.getSessionId(), v.getValid());
        break;
      case proto::PeerEnvelope::TOUCH:
        on_touch(env.getTouch());
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

// ------------------------------------------------------------------ status changes

// A change of role or leader, dispatched to the parts: sessions (a new leader restarts their
// clocks) and the client front-end (connections lost with the leader or the quorum).
void Node::on_status_change(const BroadcastStatus& s) {
  BroadcastStatus old = last_status_;
  const bool was_serving = serves_clients();
  last_status_ = s;
  log_->info("node {}: {} in epoch {}, leader {}", config_.id(), to_string(s.role), s.epoch,
             s.leader);
  if (s.role == Role::leader && s.can_propose && !(old.role == Role::leader && old.can_propose)) {
    restart_session_clocks();
  }
  if (!held_revalidations_.empty() && !(s.role == Role::leader && !s.can_propose)) {
    answer_held_revalidations();  // it serves now (answered), or stopped leading (dropped)
  }
  on_serving_change(old, was_serving);
}

// ------------------------------------------------------------------ admin

TransferResult Node::transfer_leadership(NodeId target) {
  TransferResult r = broadcast_->transfer_leadership(target);
  if (r.status == TransferStatus::unsupported) {
    r.detail = fmt::format("broadcast plugin '{}' does not support leadership transfer",
                           config_.broadcast.name);
  }
  log_->info("node {}: leadership transfer to {}: {} ({})", config_.id(), target,
             to_string(r.status), r.detail);
  return r;
}

Bytes Node::transfer_message(NodeId target) {
  TransferResult r = transfer_leadership(target);
  const std::string& message = r.detail;
  capnp::MallocMessageBuilder msg;
  auto t = msg.initRoot<proto::ServerMessage>().initTransfer();
  t.setServerId(config_.id());
  t.setStatus(to_string(r.status));
  t.setLeader(r.status == TransferStatus::not_leader ? r.leader_hint : last_status_.leader);
  t.setMessage(message);
  return to_bytes(msg);
}

namespace {

void put_rules(capnp::List<proto::NetRule>::Builder list, const std::vector<NetRule>& rules) {
  for (unsigned i = 0; i < rules.size(); ++i) {
    list[i].setPeer(rules[i].peer);
    list[i].setDropPct(rules[i].drop_pct);
    list[i].setDelayMs(rules[i].delay_ms);
    list[i].setJitterMs(rules[i].jitter_ms);
  }
}

}  // namespace

Bytes Node::net_rules_message(const FaultRules& rules) {
  const FaultRules before = env_.fault_rules();
  std::string error = env_.set_fault_rules(rules);  // checks every rule, then takes them
  if (error.empty() && rules.disk_delay_ms != before.disk_delay_ms) {
    error = storage_->set_fsync_delay(rules.disk_delay_ms);
    if (!error.empty()) {
      error = "storage plugin '" + config_.storage.name + "': " + error;
      (void)env_.set_fault_rules(before);  // all or nothing
    }
  }
  if (error.empty()) {
    clients_cut_ = rules.clients_cut;
    log_->warn(
        "node {}: fault rules now: {} link rule(s), disk delay {} ms, clock skew {} ppm, "
        "client links {}",
        config_.id(), rules.links.size(), rules.disk_delay_ms, rules.clock_skew_ppm,
        rules.clients_cut ? "cut" : "up");
  }
  capnp::MallocMessageBuilder msg;
  auto out = msg.initRoot<proto::ServerMessage>().initNetRules();
  const FaultRules now = env_.fault_rules();
  put_rules(out.initRules(static_cast<unsigned>(now.links.size())), now.links);
  out.setDiskDelayMs(now.disk_delay_ms);
  out.setClockSkewPpm(now.clock_skew_ppm);
  out.setClientsCut(now.clients_cut);
  out.setError(error);
  return to_bytes(msg);
}

// ------------------------------------------------------------------ status

Bytes Node::status_message() const {
  capnp::MallocMessageBuilder msg;
  auto s = msg.initRoot<proto::ServerMessage>().initStatus();
  BroadcastStatus b = broadcast_->status();
  s.setServerId(config_.id());
  s.setRole(to_string(b.role));
  s.setLeader(b.leader);
  s.setEpoch(b.epoch);
  s.setAppliedZxid(static_cast<std::int64_t>(applied_zxid_));
  s.setCommittedZxid(static_cast<std::int64_t>(b.last_committed_zxid));
  s.setDigest(tree_.digest());
  s.setZnodeCount(tree_.node_count());
  s.setSessionCount(tree_.sessions().size());
  s.setConnectionCount(connections_.size());
  s.setRequests(stats_.requests);
  s.setTxnsApplied(stats_.txns_applied);
  s.setFsyncs(storage_->stats().fsyncs);
  s.setBroadcast(config_.broadcast.name);
  s.setStorage(config_.storage.name);
  s.setReadPolicy(config_.read_policy.name);
  s.setCanPropose(b.can_propose);
  s.setSubState(b.sub_state);
  s.setTicks(static_cast<std::uint64_t>(ticks_));
  const auto counters = read_counters(stats_, b, config_.settings.get_int("tick_ms"));
  auto list = s.initCounters(static_cast<unsigned>(counters.size()));
  for (unsigned i = 0; i < counters.size(); ++i) {
    list[i].setName(counters[i].first);
    list[i].setValue(counters[i].second);
  }
  const FaultRules rules = env_.fault_rules();
  put_rules(s.initNetRules(static_cast<unsigned>(rules.links.size())), rules.links);
  s.setDiskDelayMs(rules.disk_delay_ms);
  s.setClockSkewPpm(rules.clock_skew_ppm);
  s.setClientsCut(rules.clients_cut);
  return to_bytes(msg);
}

std::vector<std::pair<std::string, std::uint64_t>> read_counters(const NodeStats& stats,
                                                                 const BroadcastStatus& status,
                                                                 std::int64_t tick_ms) {
  const auto& m = stats.reads_by_mechanism;
  return {
      {"reads_local", m[static_cast<std::size_t>(ReadMechanism::local)]},
      {"reads_sync", m[static_cast<std::size_t>(ReadMechanism::sync_barrier)]},
      {"reads_leader", m[static_cast<std::size_t>(ReadMechanism::leader)]},
      {"reads_read_index", m[static_cast<std::size_t>(ReadMechanism::read_index)]},
      {"reads_lease", m[static_cast<std::size_t>(ReadMechanism::lease)]},
      {"barriers", stats.barriers},
      {"syncs", stats.syncs},
      {"barriers_failed", stats.barriers_failed},
      {"barrier_wait_ms",
       stats.barrier_ticks * static_cast<std::uint64_t>(std::max<std::int64_t>(tick_ms, 0))},
      {"read_rounds", status.read_rounds},
      {"lease_hits", status.lease_hits},
      {"lease_misses", status.lease_misses},
  };
}

}  // namespace quorumlab::node
