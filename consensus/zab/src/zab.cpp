// Core of the zab plugin: construction, restore, input dispatch, the Ready batch and status.
// The protocol itself is split by phase: election.cpp, discovery.cpp, synchronization.cpp,
// broadcast.cpp, barriers.cpp; invariants.cpp holds check_invariants().
#include <algorithm>

#include <spdlog/spdlog.h>

#include "quorumlab/zab/zab.hpp"

namespace quorumlab::zab {

// ---- parameters --------------------------------------------------------------------------

std::string barrier_unavailable(const Params& params, BarrierKind kind) {
  if (kind != BarrierKind::lease) return {};
  if (params.contains("lease") && params.get_bool("lease")) return {};
  return "provides only with lease=true (voters then stay out of elections for "
         "sync_limit_ticks after they last heard from a leader, which slows failover); set "
         "broadcast.lease=true";
}

std::vector<ParamSpec> param_schema() {
  const ZabConfig d;
  return {
      int_param("ping_interval_ticks", d.ping_interval_ticks, 1, 1000,
                "The leader sends PING to every learner every this many ticks (ZooKeeper pings "
                "every tickTime/2)."),
      int_param("sync_limit_ticks", d.sync_limit_ticks, 2, 1e6,
                "syncLimit: a learner that hears nothing from its leader for this many ticks "
                "goes LOOKING, and a leader that has not heard from a quorum for this many ticks "
                "gives up leadership (\"Not sufficient followers synced\")."),
      int_param("init_limit_ticks", d.init_limit_ticks, 2, 1e6,
                "initLimit: discovery and synchronization (up to UPTODATE) must finish within "
                "this many ticks, on the leader and on each learner; raise it for large SNAPs."),
      int_param("finalize_wait_ticks", d.finalize_wait_ticks, 0, 1e6,
                "Fast Leader Election: once a quorum agrees with our vote, wait this many ticks "
                "for a better vote before settling (finalizeWait, 200 ms in ZooKeeper); 0 "
                "settles at once."),
      int_param("notification_min_ticks", d.notification_min_ticks, 1, 1e6,
                "Fast Leader Election: resend our notifications after this many ticks without "
                "receiving one (minNotificationInterval); the interval doubles on each resend."),
      int_param("notification_max_ticks", d.notification_max_ticks, 1, 1e6,
                "Fast Leader Election: upper bound of the notification back-off "
                "(maxNotificationInterval)."),
      int_param("snap_threshold_entries", d.snap_threshold_entries, 0, 1e12,
                "Send SNAP instead of DIFF when a learner misses more than this many entries; 0 "
                "sends SNAP only to a learner behind the leader's compaction point."),
      int_param("sync_packet_bytes", d.sync_packet_bytes, 4096, 1e9,
                "A DIFF larger than this (payload bytes) is sent as several SYNC packets, so no "
                "peer message exceeds the transport's size limit."),
      int_param("max_epoch_segments", d.max_epoch_segments, 1, 1e6,
                "ACKEPOCH describes at most this many epoch runs of the learner's log (newest "
                "first) so the leader can find the common prefix; beyond them it sends SNAP."),
      bool_param("lease", d.lease,
                 "Leader leases, for the read policy 'lease' (not in ZooKeeper): a voter that "
                 "heard from its leader within sync_limit_ticks (or restarted within it) does "
                 "not take part in an election, so the leader may serve reads at its commit "
                 "point for floor((sync_limit_ticks - 1) * (1e6 - drift) / (1e6 + drift)) ticks "
                 "after a PING round a quorum echoed. Costs failover time: about "
                 "sync_limit_ticks x tick_ms after the leader's last packet."),
  };
}

ZabConfig ZabConfig::from(const Params& params) {
  ZabConfig c;
  auto get = [&](const char* key, std::int64_t& field) {
    if (params.contains(key)) field = params.get_int(key);
  };
  get("ping_interval_ticks", c.ping_interval_ticks);
  get("sync_limit_ticks", c.sync_limit_ticks);
  get("init_limit_ticks", c.init_limit_ticks);
  get("finalize_wait_ticks", c.finalize_wait_ticks);
  get("notification_min_ticks", c.notification_min_ticks);
  get("notification_max_ticks", c.notification_max_ticks);
  get("snap_threshold_entries", c.snap_threshold_entries);
  get("sync_packet_bytes", c.sync_packet_bytes);
  get("max_epoch_segments", c.max_epoch_segments);
  c.ping_interval_ticks = std::max<std::int64_t>(1, c.ping_interval_ticks);
  c.notification_min_ticks = std::max<std::int64_t>(1, c.notification_min_ticks);
  c.notification_max_ticks = std::max(c.notification_min_ticks, c.notification_max_ticks);
  c.max_epoch_segments = std::max<std::int64_t>(1, c.max_epoch_segments);
  if (params.contains("lease")) c.lease = params.get_bool("lease");
  return c;
}

HardState make_hard_state(std::uint64_t current_epoch, std::uint64_t accepted_epoch) {
  HardState hs;
  hs.term = current_epoch;
  hs.plugin_data.resize(8);
  for (std::size_t i = 0; i < 8; ++i)
    hs.plugin_data[i] = static_cast<std::uint8_t>(accepted_epoch >> (8 * i));
  return hs;
}

std::optional<std::uint64_t> accepted_epoch_of(const HardState& state) {
  if (state.plugin_data.size() != 8) return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i)
    v |= static_cast<std::uint64_t>(state.plugin_data[i]) << (8 * i);
  return v;
}

std::unique_ptr<Broadcast> make_zab(PluginContext& ctx) {
  return std::make_unique<ZabBroadcast>(ctx);
}

// ---- construction and restore ------------------------------------------------------------

ZabBroadcast::ZabBroadcast(PluginContext& ctx)
    : ctx_(ctx),
      cfg_(ZabConfig::from(ctx.params)),
      self_(ctx.self),
      observer_(ctx.membership.is_observer(ctx.self)) {
  logger_ =
      ctx.logger ? ctx.logger : std::make_shared<spdlog::logger>("zab", spdlog::sinks_init_list{});
  if (!ctx.membership.is_voter(self_) && !observer_) {
    throw ConfigError("broadcast plugin 'zab': server " + std::to_string(self_) +
                      " is neither a voter nor an observer of the ensemble");
  }
  if (!ctx.rng || !ctx.tracer) {
    throw ConfigError("broadcast plugin 'zab': the context has no rng or no tracer");
  }
  lease_ticks_ =
      cfg_.lease ? consensus::lease_period_ticks(cfg_.sync_limit_ticks, ctx.clock_drift_ppm) : 0;
}

ZabBroadcast::~ZabBroadcast() = default;

void ZabBroadcast::restore(const RecoveredLog& rec) {
  if (restored_) {
    logger_->error("zab {}: restore called twice; ignored", self_);
    return;
  }
  restored_ = true;
  current_epoch_ = rec.hard_state.term;
  if (auto accepted = accepted_epoch_of(rec.hard_state)) {
    accepted_epoch_ = *accepted;
  } else if (!rec.hard_state.plugin_data.empty()) {
    logger_->warn(
        "zab {}: recovered hard state has {} plugin bytes, not 8; acceptedEpoch taken "
        "as currentEpoch",
        self_, rec.hard_state.plugin_data.size());
  }
  if (current_epoch_ > accepted_epoch_) {
    logger_->warn("zab {}: recovered currentEpoch {} above acceptedEpoch {}", self_, current_epoch_,
                  accepted_epoch_);
    accepted_epoch_ = current_epoch_;
  }
  if (rec.snapshot) {
    const Snapshot& s = *rec.snapshot;
    log_.reset(s.last_index, s.last_epoch ? s.last_epoch : zxid_epoch(s.last_zxid), s.last_zxid);
  }
  for (const auto& e : rec.entries) {
    if (e.index <= log_.last_index()) continue;  // covered by the snapshot
    if (e.index != log_.last_index() + 1 || e.zxid <= log_.last_zxid() ||
        e.epoch != zxid_epoch(e.zxid)) {
      // Storage promises a clean log; cut at the first entry that breaks the shape rather
      // than build on a log that never existed.
      logger_->warn("zab {}: recovered log cut at index {} (inconsistent entry)", self_, e.index);
      break;
    }
    log_.append(e);
  }
  commit_index_ = log_.base_index();  // the kernel restored the state machine to the snapshot
  storage_last_index_ = log_.last_index();
  persist_.reset(log_.last_index());
  verified_index_ = log_.base_index();
  logger_->info("zab {}: restored acceptedEpoch={} currentEpoch={} log ({}, {}] last zxid {:#x}",
                self_, accepted_epoch_, current_epoch_, log_.base_index(), log_.last_index(),
                log_.last_zxid());
  remember_for_delta();
  // lease=true: we may have echoed a leader's PING just before a crash (the lease's guard).
  if (cfg_.lease) ticks_since_leader_ = 0;
  enter_election();
}

// ---- inputs ------------------------------------------------------------------------------

void ZabBroadcast::step(const PeerMessage& message) {
  if (!restored_) {
    logger_->warn("zab {}: message before restore dropped", self_);
    return;
  }
  NodeId from = message.from;
  if (from == self_ || !ctx_.membership.is_member(from)) {
    logger_->warn("zab {}: dropped a message from {}, not a peer", self_, from);
    return;
  }
  std::string error;
  auto packet = wire::decode(message.payload, &error);
  if (!packet) {
    logger_->warn("zab {}: dropped a malformed packet from {}: {}", self_, from, error);
    return;
  }
  try {
    switch (packet->kind()) {
      case wire::Kind::notification:
        on_notification(from, std::get<wire::Notification>(packet->body));
        break;
      case wire::Kind::learner_info:
      case wire::Kind::ack_epoch:
      case wire::Kind::ack:
      case wire::Kind::ping_reply:
      case wire::Kind::request:
        on_learner_packet(from, *packet);
        break;
      default:
        on_leader_packet(from, *packet);
        break;
    }
  } catch (const std::exception& e) {
    // A bug, never a peer's fault: peers' input is validated before use. Keep running (the
    // kernel must not die), and make check_invariants() report it.
    internal_errors_++;
    last_internal_error_ = std::string(wire::to_string(packet->kind())) + " from " +
                           std::to_string(from) + ": " + e.what();
    logger_->error("zab {}: internal error handling {}", self_, last_internal_error_);
  }
}

void ZabBroadcast::tick() {
  if (!restored_) return;
  tick_count_++;
  ticks_since_leader_++;
  switch (state_) {
    case PeerState::looking:
      election_tick();
      break;
    case PeerState::leading:
      leader_tick();
      break;
    case PeerState::following:
    case PeerState::observing:
      learner_tick();
      break;
  }
}

void ZabBroadcast::persisted(LogIndex index) {
  if (!persist_.on_persisted(index)) {
    logger_->debug("zab {}: persisted({}) matches no pending batch", self_, index);
  }
  if (state_ == PeerState::leading) {
    try_establish();
    try_finish_sync();
    try_commit();
  }
}

void ZabBroadcast::compacted(const Snapshot& meta) {
  if (meta.last_index <= log_.base_index()) return;
  if (std::string why = log_.compaction_refused(meta, commit_index_); !why.empty()) {
    logger_->warn("zab {}: {}; ignored", self_, why);
    return;
  }
  log_.compact(meta.last_index);
}

// ---- output helpers ----------------------------------------------------------------------

void ZabBroadcast::send(NodeId to, wire::Packet packet, bool after_persist) {
  PeerMessage m{self_, to, wire::encode(packet)};
  if (after_persist) {
    pending_.messages_after_persist.push_back(std::move(m));
  } else {
    pending_.messages.push_back(std::move(m));
  }
}

void ZabBroadcast::send_stream(LearnerHandler& h, wire::Body body,
                               std::uint64_t needs_durable_seq) {
  wire::Packet p;
  p.epoch = new_epoch_;
  p.nonce = h.nonce;
  p.seq = h.next_seq++;
  p.body = std::move(body);
  // The stream is FIFO: a packet may not overtake one still waiting for persistence.
  bool after = persist_.durable_seq() < std::max(needs_durable_seq, h.after_persist_seq);
  if (after) h.after_persist_seq = persist_.next_seq();
  send(h.sid, std::move(p), after);
}

void ZabBroadcast::send_to_leader(wire::Body body, bool after_persist) {
  wire::Packet p;
  p.epoch = leader_epoch_;
  p.nonce = nonce_;
  p.body = std::move(body);
  send(leader_id_, std::move(p), after_persist);
}

void ZabBroadcast::append_entry(LogEntry entry) {
  log_.append(entry);
  pending_.entries.push_back(std::move(entry));
}

void ZabBroadcast::truncate_log(LogIndex index) {
  if (index >= log_.last_index()) return;
  log_.truncate_after(index);
  auto& pe = pending_.entries;
  pe.erase(std::remove_if(pe.begin(), pe.end(), [&](const LogEntry& e) { return e.index > index; }),
           pe.end());
  if (index < storage_last_index_) {
    pending_.truncate_after =
        pending_.truncate_after ? std::min(*pending_.truncate_after, index) : index;
    storage_last_index_ = index;
  }
  persist_.on_rewrite(index);
  verified_index_ = std::min(verified_index_, index);
}

void ZabBroadcast::install_snapshot(const Snapshot& snapshot) {
  std::uint64_t epoch = zxid_epoch(snapshot.last_zxid);
  log_.reset(snapshot.last_index, epoch, snapshot.last_zxid);
  pending_.snapshot = snapshot;
  pending_.snapshot->last_epoch = epoch;
  pending_.entries.clear();
  pending_.truncate_after.reset();
  pending_.committed.clear();  // covered by the snapshot, which is at or beyond them
  commit_index_ = snapshot.last_index;
  storage_last_index_ = snapshot.last_index;
  persist_.on_rewrite(snapshot.last_index);
  verified_index_ = snapshot.last_index;
}

std::uint64_t ZabBroadcast::save_hard_state() {
  pending_.hard_state = make_hard_state(current_epoch_, accepted_epoch_);
  return persist_.next_seq();
}

void ZabBroadcast::commit_upto(LogIndex index) {
  index = std::min(index, log_.last_index());
  for (LogIndex i = commit_index_ + 1; i <= index; ++i) {
    const LogEntry& e = log_.at(i);
    pending_.committed.push_back(CommittedTxn{e.index, e.epoch, e.zxid, e.data});
    trace(TraceKind::commit, 0, e.zxid);
  }
  commit_index_ = std::max(commit_index_, index);
}

LogIndex ZabBroadcast::stable_index() const {
  return std::min(persist_.stable_index(), log_.last_index());
}

std::optional<wire::Ack> ZabBroadcast::durable_ack() const {
  LogIndex s = stable_index();
  if (s == 0 || s < log_.base_index()) return std::nullopt;
  return wire::Ack{s, *log_.zxid_at(s)};
}

void ZabBroadcast::trace(TraceKind kind, NodeId peer, Zxid zxid, std::string detail) const {
  QL_TRACE(*ctx_.tracer, TraceEvent{kind, self_, peer, current_epoch_, zxid, std::move(detail)});
}

// ---- Ready -------------------------------------------------------------------------------

bool ZabBroadcast::status_changed() const {
  if (!status_reported_) return true;
  BroadcastStatus s = status();
  const BroadcastStatus& r = reported_status_;
  return s.role != r.role || s.leader != r.leader || s.epoch != r.epoch ||
         s.can_propose != r.can_propose || s.sub_state != r.sub_state;
}

bool ZabBroadcast::has_ready() const {
  return !pending_.empty() || pending_ack_.has_value() || (restored_ && status_changed());
}

Ready ZabBroadcast::ready() {
  if (pending_ack_) {
    send_to_leader(*pending_ack_, /*after_persist=*/true);
    pending_ack_.reset();
  }
  Ready out = std::move(pending_);
  pending_ = Ready{};
  if (out.snapshot || out.truncate_after || !out.entries.empty() || out.hard_state ||
      !out.messages_after_persist.empty()) {
    persist_.on_emit(log_.last_index());
  }
  storage_last_index_ = log_.last_index();
  if (restored_ && status_changed()) {
    reported_status_ = status();
    status_reported_ = true;
    out.status = reported_status_;
  }
  return out;
}

BroadcastStatus ZabBroadcast::status() const {
  BroadcastStatus s;
  switch (state_) {
    case PeerState::looking:
      s.role = Role::looking;
      break;
    case PeerState::leading:
      s.role = established_ ? Role::leader : Role::candidate;
      break;
    case PeerState::following:
      s.role = Role::follower;
      break;
    case PeerState::observing:
      s.role = Role::learner;
      break;
  }
  if ((state_ == PeerState::following || state_ == PeerState::observing) && up_to_date_)
    s.leader = leader_id_;
  if (state_ == PeerState::leading && established_) s.leader = self_;
  s.epoch = current_epoch_;
  s.last_committed_zxid = log_.zxid_at(commit_index_).value_or(0);
  s.commit_index = commit_index_;
  s.last_index = log_.last_index();
  s.can_propose = state_ == PeerState::leading && phase_ == Phase::broadcast;
  s.sub_state = std::string(to_string(state_)) + "/" + phase_name();
  s.read_rounds = read_rounds_;
  s.lease_hits = lease_hits_;
  s.lease_misses = lease_misses_;
  return s;
}

const char* ZabBroadcast::phase_name() const {
  switch (phase_) {
    case Phase::election:
      return "election";
    case Phase::discovery:
      return "discovery";
    case Phase::synchronization:
      return "synchronization";
    case Phase::broadcast:
      return "broadcast";
  }
  return "?";
}

}  // namespace quorumlab::zab
