// Core of the raft plugin: parameters, construction, restore, input dispatch, the Ready batch
// and status. The protocol itself is split by thesis section: election.cpp, replication.cpp,
// snapshot.cpp, read_only.cpp; invariants.cpp holds check_invariants().
#include <algorithm>

#include <spdlog/spdlog.h>

#include "quorumlab/raft/raft.hpp"

namespace quorumlab::raft {

// ---- parameters --------------------------------------------------------------------------

std::vector<ParamSpec> param_schema(const RaftConfig& d) {
  return {
      int_param("election_timeout_min_ticks", d.election_timeout_min_ticks, 1, 1e6,
                "A follower that hears from no leader for a random number of ticks in "
                "[min, max] starts an election (3.4); with check_quorum a follower that heard "
                "from its leader within min ticks ignores RequestVote (4.2.3)."),
      int_param("election_timeout_max_ticks", d.election_timeout_max_ticks, 1, 1e6,
                "Upper bound of the randomized election timeout (a value below the minimum is "
                "raised to it: min == max gives no randomness, Figure 16's 150-150 ms)."),
      int_param("heartbeat_interval_ticks", d.heartbeat_interval_ticks, 1, 1e6,
                "The leader sends an empty AppendEntries (heartbeat) to every peer this often."),
      bool_param("prevote", d.prevote,
                 "PreVote (9.6): a server first asks at term+1 without raising its own term, "
                 "and becomes a candidate only if a quorum would vote for it."),
      bool_param("check_quorum", d.check_quorum,
                 "CheckQuorum (6.2, 4.2.3): a leader that has not heard from a quorum within an "
                 "election timeout steps down, and followers that heard from a leader within "
                 "the minimum election timeout ignore RequestVote."),
      int_param("candidate_timeout_min_ticks", d.candidate_timeout_min_ticks, 0, 1e6,
                "Raft Refloated: a pre-candidate or candidate times out after a random number of "
                "ticks in [min, max] of this range instead of the election timeout's (0: the "
                "election timeout; a shorter range retries split votes sooner)."),
      int_param("candidate_timeout_max_ticks", d.candidate_timeout_max_ticks, 0, 1e6,
                "Upper bound of the candidate timeout (raised to its minimum)."),
      bool_param("candidate_backoff", d.candidate_backoff,
                 "Raft Refloated: each election a server starts without having heard from a "
                 "leader doubles its candidate timeout range (at most 32 times)."),
      bool_param("higher_term_resets_timer", d.higher_term_resets_timer,
                 "A follower or candidate that learns a higher term from a RequestVote or a vote "
                 "response restarts its election timer (etcd-raft). false: the timer runs on "
                 "(Figure 2: only the current leader or a granted vote restarts it), so a "
                 "candidate that cannot win does not hold the others back."),
      int_param("max_inflight_msgs", d.max_inflight_msgs, 1, 1e6,
                "Replicate state: at most this many AppendEntries in flight to one follower."),
      int_param("max_entries_per_msg", d.max_entries_per_msg, 1, 1e6,
                "At most this many entries in one AppendEntries."),
      int_param("max_bytes_per_msg", d.max_bytes_per_msg, 4096, 1e9,
                "At most this many payload bytes in one AppendEntries (one entry always goes), "
                "so no peer message exceeds the transport's size limit."),
      int_param("max_snapshot_chunk_bytes", d.max_snapshot_chunk_bytes, 1, 1e9,
                "InstallSnapshot sends the snapshot in chunks of at most this many bytes."),
  };
}

std::string barrier_unavailable(const Params& params, BarrierKind kind) {
  if (kind != BarrierKind::lease) return {};
  if (params.contains("check_quorum") && params.get_bool("check_quorum")) return {};
  return "provides only with check_quorum=true (thesis 6.4.1: the lease rests on followers "
         "refusing votes while they hear from a leader); set broadcast.check_quorum=true or use "
         "raft-cq or raft-prevote-cq";
}

RaftConfig RaftConfig::from(const Params& params, const RaftConfig& defaults) {
  RaftConfig c = defaults;
  auto get = [&](const char* key, std::int64_t& field) {
    if (params.contains(key)) field = params.get_int(key);
  };
  auto get_bool = [&](const char* key, bool& field) {
    if (params.contains(key)) field = params.get_bool(key);
  };
  get("election_timeout_min_ticks", c.election_timeout_min_ticks);
  get("election_timeout_max_ticks", c.election_timeout_max_ticks);
  get("heartbeat_interval_ticks", c.heartbeat_interval_ticks);
  get_bool("prevote", c.prevote);
  get_bool("check_quorum", c.check_quorum);
  get("candidate_timeout_min_ticks", c.candidate_timeout_min_ticks);
  get("candidate_timeout_max_ticks", c.candidate_timeout_max_ticks);
  get_bool("candidate_backoff", c.candidate_backoff);
  get_bool("higher_term_resets_timer", c.higher_term_resets_timer);
  get("max_inflight_msgs", c.max_inflight_msgs);
  get("max_entries_per_msg", c.max_entries_per_msg);
  get("max_bytes_per_msg", c.max_bytes_per_msg);
  get("max_snapshot_chunk_bytes", c.max_snapshot_chunk_bytes);
  c.election_timeout_min_ticks = std::max<std::int64_t>(1, c.election_timeout_min_ticks);
  c.election_timeout_max_ticks =
      std::max(c.election_timeout_min_ticks, c.election_timeout_max_ticks);
  c.heartbeat_interval_ticks = std::max<std::int64_t>(1, c.heartbeat_interval_ticks);
  c.candidate_timeout_min_ticks = std::max<std::int64_t>(0, c.candidate_timeout_min_ticks);
  c.candidate_timeout_max_ticks =
      std::max(c.candidate_timeout_min_ticks, c.candidate_timeout_max_ticks);
  c.max_inflight_msgs = std::max<std::int64_t>(1, c.max_inflight_msgs);
  c.max_entries_per_msg = std::max<std::int64_t>(1, c.max_entries_per_msg);
  c.max_snapshot_chunk_bytes = std::max<std::int64_t>(1, c.max_snapshot_chunk_bytes);
  return c;
}

std::unique_ptr<Broadcast> make_raft(PluginContext& ctx, const RaftConfig& defaults) {
  return std::make_unique<RaftBroadcast>(ctx, defaults);
}

const char* to_string(Progress::Mode m) {
  switch (m) {
    case Progress::Mode::probe:
      return "probe";
    case Progress::Mode::replicate:
      return "replicate";
    case Progress::Mode::snapshot:
      return "snapshot";
  }
  return "?";
}

const char* RaftBroadcast::to_string(State s) {
  switch (s) {
    case State::follower:
      return "follower";
    case State::pre_candidate:
      return "pre-candidate";
    case State::candidate:
      return "candidate";
    case State::leader:
      return "leader";
  }
  return "?";
}

// ---- construction and restore ------------------------------------------------------------

RaftBroadcast::RaftBroadcast(PluginContext& ctx, const RaftConfig& defaults)
    : ctx_(ctx),
      cfg_(RaftConfig::from(ctx.params, defaults)),
      self_(ctx.self),
      learner_(ctx.membership.is_observer(ctx.self)) {
  logger_ =
      ctx.logger ? ctx.logger : std::make_shared<spdlog::logger>("raft", spdlog::sinks_init_list{});
  if (!ctx.membership.is_voter(self_) && !learner_) {
    throw ConfigError("broadcast plugin 'raft': server " + std::to_string(self_) +
                      " is neither a voter nor an observer of the ensemble");
  }
  if (!ctx.rng || !ctx.tracer) {
    throw ConfigError("broadcast plugin 'raft': the context has no rng or no tracer");
  }
  lease_ticks_ = cfg_.check_quorum ? consensus::lease_period_ticks(cfg_.election_timeout_min_ticks,
                                                                   ctx.clock_drift_ppm)
                                   : 0;
}

RaftBroadcast::~RaftBroadcast() = default;

void RaftBroadcast::restore(const RecoveredLog& rec) {
  if (restored_) {
    logger_->error("raft {}: restore called twice; ignored", self_);
    return;
  }
  restored_ = true;
  term_ = rec.hard_state.term;
  vote_ = rec.hard_state.vote;
  if (rec.snapshot) {
    const Snapshot& s = *rec.snapshot;
    log_.reset(s.last_index, s.last_epoch ? s.last_epoch : zxid_term(s.last_zxid), s.last_zxid);
  }
  for (const auto& e : rec.entries) {
    if (e.index <= log_.last_index()) continue;  // covered by the snapshot
    if (e.index != log_.last_index() + 1 || e.epoch < log_.last_epoch() ||
        e.zxid != make_zxid(e.epoch, e.index)) {
      // Storage promises a clean log; cut at the first entry that breaks the shape rather
      // than build on a log that never existed.
      logger_->warn("raft {}: recovered log cut at index {} (inconsistent entry)", self_, e.index);
      break;
    }
    log_.append(e);
  }
  // A recovered term below the log's last term cannot come from this plugin; never let the
  // current term fall below a term the log holds.
  term_ = std::max(term_, log_.last_epoch());
  commit_index_ = log_.base_index();  // the kernel restored the state machine to the snapshot
  storage_last_index_ = log_.last_index();
  persist_.reset(log_.last_index());
  verified_index_ = log_.base_index();
  logger_->info("raft {}: restored term={} vote={} log ({}, {}]", self_, term_, vote_,
                log_.base_index(), log_.last_index());
  state_ = State::follower;
  // check_quorum: we may have acknowledged a leader's lease just before a crash; as if we had
  // just heard from it, refuse votes for a minimum election timeout (lease_period_ticks).
  if (cfg_.check_quorum) ticks_since_leader_ = 0;
  reset_election_timer();
  remember_for_delta();
}

// ---- inputs ------------------------------------------------------------------------------

void RaftBroadcast::step(const PeerMessage& message) {
  if (!restored_) return;
  NodeId from = message.from;
  if (from == self_ || !ctx_.membership.is_member(from)) {
    logger_->warn("raft {}: dropped a message from {}, not a peer", self_, from);
    return;
  }
  std::string error;
  auto m = wire::decode(message.payload, &error);
  if (!m) {
    logger_->warn("raft {}: dropped a malformed message from {}: {}", self_, from, error);
    return;
  }
  try {
    dispatch(from, *m);
  } catch (const std::exception& e) {
    // A bug, never a peer's fault: keep running and make check_invariants() report it.
    internal_errors_++;
    last_internal_error_ =
        std::string(wire::to_string(m->type)) + " from " + std::to_string(from) + ": " + e.what();
    logger_->error("raft {}: internal error handling {}", self_, last_internal_error_);
  }
}

void RaftBroadcast::dispatch(NodeId from, const wire::Message& m) {
  if (m.type == wire::Type::barrier_request) return on_barrier_request(from, m);
  if (m.type == wire::Type::barrier_response) return on_barrier_response(from, m);
  if (ignore_for_term(from, m)) return;
  switch (m.type) {
    case wire::Type::request_vote:
      return on_request_vote(from, m);
    case wire::Type::request_vote_response:
      return on_vote_response(from, m);
    case wire::Type::append_entries:
      return on_append_entries(from, m);
    case wire::Type::append_entries_response:
      return on_append_response(from, m);
    case wire::Type::heartbeat:
      return on_heartbeat(from, m);
    case wire::Type::heartbeat_response:
      return on_heartbeat_response(from, m);
    case wire::Type::install_snapshot:
      return on_install_snapshot(from, m);
    case wire::Type::install_snapshot_response:
      return on_install_snapshot_response(from, m);
    case wire::Type::timeout_now:
      return on_timeout_now(from, m);
    default:
      return;
  }
}

void RaftBroadcast::tick() {
  if (!restored_) return;
  ticks_++;
  if (ticks_since_leader_ < (1 << 30)) ticks_since_leader_++;
  barrier_tick();
  if (state_ == State::leader) {
    transfer_tick();
    leader_tick();
  } else {
    election_tick();
  }
  maybe_compact();
}

ProposeResult RaftBroadcast::propose(const std::vector<Bytes>& txns) {
  ProposeResult r;
  if (!restored_ || state_ != State::leader) {
    r.leader_hint = leader_id_ == self_ ? 0 : leader_id_;
    return r;
  }
  if (transfer_target_ != 0) {
    // 3.10: no new entries while the leadership moves (the target must catch up with a log
    // that stops growing). Leader unknown: the kernel keeps the txns for the next leader.
    return r;
  }
  if (log_.last_index() + txns.size() > kMaxIndex) {
    logger_->error("raft {}: log index would pass 2^{}; proposal refused", self_, kZxidIndexBits);
    return r;
  }
  r.accepted = true;
  for (const Bytes& data : txns) {
    LogIndex index = log_.last_index() + 1;
    Zxid zxid = make_zxid(term_, index);
    if (r.first_zxid == 0) r.first_zxid = zxid;
    append_entry(LogEntry{index, term_, zxid, data});
    trace(TraceKind::proposal, 0, zxid);
  }
  broadcast_append(false);
  maybe_commit();  // a single voter commits once its own write is durable
  return r;
}

void RaftBroadcast::persisted(LogIndex index) {
  if (!persist_.on_persisted(index)) {
    logger_->debug("raft {}: persisted({}) matches no pending batch", self_, index);
  }
  if (state_ == State::leader) maybe_commit();
}

void RaftBroadcast::compacted(const Snapshot& meta) {
  if (meta.last_index <= log_.base_index()) return;
  if (std::string why = log_.compaction_refused(meta, commit_index_); !why.empty()) {
    logger_->warn("raft {}: {}; ignored", self_, why);
    return;
  }
  compact_pending_ = std::max(compact_pending_, meta.last_index);
  maybe_compact();
}

// 5.3: the leader keeps the entries a live peer still needs (one heard from within an election
// timeout, not being sent a snapshot), as etcd keeps catch-up entries: a follower that is only
// behind (its AppendEntries window was full when the kernel snapshotted) then catches up with
// AppendEntries instead of a whole InstallSnapshot (which also restarts its state machine and
// closes its clients' connections). A peer that is down or cut off does not hold compaction
// back: it gets a snapshot. The rest is compacted on a later tick, once peers have moved on.
void RaftBroadcast::maybe_compact() {
  if (compact_pending_ <= log_.base_index()) return;
  LogIndex upto = std::min(compact_pending_, commit_index_);
  if (state_ == State::leader) {
    for (const auto& [id, p] : progress_) {
      if (p.mode == Progress::Mode::snapshot) continue;
      if (p.ticks_since_heard >= cfg_.election_timeout_max_ticks) continue;
      upto = std::min(upto, p.match);
    }
  }
  if (upto > log_.base_index()) log_.compact(upto);
}

// ---- helpers -----------------------------------------------------------------------------

void RaftBroadcast::send(NodeId to, wire::Message m, bool after_persist) {
  if (m.term == 0) m.term = term_;
  PeerMessage pm{self_, to, wire::encode(m)};
  if (after_persist) {
    pending_.messages_after_persist.push_back(std::move(pm));
  } else {
    pending_.messages.push_back(std::move(pm));
  }
}

void RaftBroadcast::append_entry(LogEntry entry) {
  log_.append(entry);
  pending_.entries.push_back(std::move(entry));
}

void RaftBroadcast::truncate_log(LogIndex index) {
  if (index >= log_.last_index()) return;
  if (index < commit_index_) {
    throw std::logic_error("truncation to " + std::to_string(index) + " below the commit index " +
                           std::to_string(commit_index_));
  }
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

void RaftBroadcast::install_snapshot(const Snapshot& snapshot) {
  log_.reset(snapshot.last_index, snapshot.last_epoch, snapshot.last_zxid);
  pending_.snapshot = snapshot;
  pending_.entries.clear();
  pending_.truncate_after.reset();
  pending_.committed.clear();  // covered by the snapshot, which is beyond them
  commit_index_ = snapshot.last_index;
  storage_last_index_ = snapshot.last_index;
  persist_.on_rewrite(snapshot.last_index);
  verified_index_ = snapshot.last_index;
}

void RaftBroadcast::save_hard_state() {
  HardState hs;
  hs.term = term_;
  hs.vote = vote_;
  pending_.hard_state = hs;
}

void RaftBroadcast::commit_to(LogIndex index) {
  index = std::min(index, log_.last_index());
  for (LogIndex i = commit_index_ + 1; i <= index; ++i) {
    const LogEntry& e = log_.at(i);
    pending_.committed.push_back(CommittedTxn{e.index, e.epoch, e.zxid, e.data});
    trace(TraceKind::commit, 0, e.zxid);
  }
  if (index > commit_index_) {
    commit_index_ = index;
    if (state_ == State::leader) resolve_barriers();
  }
}

LogIndex RaftBroadcast::stable_index() const {
  return std::min(persist_.stable_index(), log_.last_index());
}

bool RaftBroadcast::committed_in_term() const {
  auto t = log_.term_at(commit_index_);
  return t && *t == term_;
}

void RaftBroadcast::trace(TraceKind kind, NodeId peer, Zxid zxid, std::string detail) const {
  QL_TRACE(*ctx_.tracer, TraceEvent{kind, self_, peer, term_, zxid, std::move(detail)});
}

const Progress* RaftBroadcast::progress(NodeId peer) const {
  auto it = progress_.find(peer);
  return it == progress_.end() ? nullptr : &it->second;
}

// ---- Ready -------------------------------------------------------------------------------

bool RaftBroadcast::status_changed() const {
  if (!status_reported_) return true;
  BroadcastStatus s = status();
  const BroadcastStatus& r = reported_status_;
  return s.role != r.role || s.leader != r.leader || s.epoch != r.epoch ||
         s.can_propose != r.can_propose || s.sub_state != r.sub_state;
}

bool RaftBroadcast::has_ready() const {
  return !pending_.empty() || (restored_ && status_changed());
}

Ready RaftBroadcast::ready() {
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

BroadcastStatus RaftBroadcast::status() const {
  BroadcastStatus s;
  switch (state_) {
    case State::follower:
      s.role = learner_ ? Role::learner : Role::follower;
      s.leader = leader_matched_ ? leader_id_ : 0;
      break;
    case State::pre_candidate:
    case State::candidate:
      s.role = Role::candidate;
      break;
    case State::leader:
      s.role = Role::leader;
      s.leader = self_;
      s.can_propose = committed_in_term();
      break;
  }
  s.epoch = term_;
  s.last_committed_zxid = log_.zxid_at(commit_index_).value_or(0);
  s.commit_index = commit_index_;
  s.last_index = log_.last_index();
  s.sub_state = learner_ ? "learner" : to_string(state_);
  s.read_rounds = read_rounds_;
  s.lease_hits = lease_hits_;
  s.lease_misses = lease_misses_;
  if (transfer_target_ != 0) s.sub_state += "/transfer to " + std::to_string(transfer_target_);
  return s;
}

}  // namespace quorumlab::raft
