// ZAB phase 3, broadcast (Leader.propose / processAck / tryToCommit, Follower.processPacket),
// plus the packet dispatch of both sides and the liveness checks.
//
// The leader appends a proposal with zxid = epoch << 32 | counter and sends PROPOSAL to its
// followers at once; its own ACK is counted when persisted() says the entry is durable.
// Followers ACK from messages_after_persist. An ACK(i) acknowledges everything up to i: a
// learner processes the leader's stream in order, so its log up to i equals the leader's (this
// also makes ACKs robust to loss: PING replies repeat the durable point). The leader commits
// the longest prefix a quorum acknowledged, strictly in zxid order, sends COMMIT to followers and
// INFORM (the committed proposals) to observers.
#include "quorumlab/consensus/quorum.hpp"
#include "quorumlab/zab/zab.hpp"

namespace quorumlab::zab {

// ---- dispatch ----------------------------------------------------------------------------

void ZabBroadcast::on_learner_packet(NodeId from, const wire::Packet& p) {
  if (state_ != PeerState::leading) return;  // we are not leading (any more)
  if (p.kind() == wire::Kind::learner_info) {
    on_learner_info(from, p, std::get<wire::LearnerInfo>(p.body));
    return;
  }
  auto it = handlers_.find(from);
  if (it == handlers_.end() || it->second.nonce != p.nonce) return;  // a closed connection
  if (new_epoch_ == 0 || p.epoch != new_epoch_) return;
  LearnerHandler& h = it->second;
  h.last_heard_tick = tick_count_;
  switch (p.kind()) {
    case wire::Kind::ack_epoch:
      on_ack_epoch(h, std::get<wire::AckEpoch>(p.body));
      break;
    case wire::Kind::ack: {
      const auto& a = std::get<wire::Ack>(p.body);
      on_ack(h, a.index, a.zxid);
      break;
    }
    case wire::Kind::ping_reply: {
      const auto& r = std::get<wire::PingReply>(p.body);
      h.round_acked = std::max(h.round_acked, std::min(r.round, read_round_));
      if (r.ack_index > 0) on_ack(h, r.ack_index, r.ack_zxid);
      if (state_ == PeerState::leading) check_read_rounds();
      break;
    }
    case wire::Kind::request:
      on_request(h, std::get<wire::Request>(p.body));
      break;
    default:
      break;
  }
}

void ZabBroadcast::on_leader_packet(NodeId from, const wire::Packet& p) {
  if (state_ != PeerState::following && state_ != PeerState::observing) return;
  if (from != leader_id_ || p.nonce != nonce_) return;  // another leader or an old connection
  if (p.seq < expected_seq_) return;                    // a duplicate
  if (p.seq > expected_seq_) {
    lose_leader("gap in the leader's stream (expected packet " + std::to_string(expected_seq_) +
                ", got " + std::to_string(p.seq) + ")");
    return;
  }
  const wire::Kind kind = p.kind();
  if ((expected_seq_ == 1) != (kind == wire::Kind::leader_info)) {
    lose_leader(std::string("unexpected ") + wire::to_string(kind) + " at stream position " +
                std::to_string(p.seq));
    return;
  }
  if (kind != wire::Kind::leader_info && p.epoch != leader_epoch_) {
    lose_leader("packet of epoch " + std::to_string(p.epoch) + " in the stream of epoch " +
                std::to_string(leader_epoch_));
    return;
  }
  expected_seq_++;
  ticks_since_leader_ = 0;
  auto protocol_error = [&] {
    lose_leader(std::string("unexpected ") + wire::to_string(kind) + " in phase " + phase_name());
  };
  switch (kind) {
    case wire::Kind::leader_info:
      on_leader_info(std::get<wire::LeaderInfo>(p.body));
      break;
    case wire::Kind::sync:
      if (phase_ != Phase::synchronization || synced_) return protocol_error();
      on_sync(std::get<wire::Sync>(p.body));
      break;
    case wire::Kind::proposal:
      if (!synced_ || observer_) return protocol_error();
      on_proposal(std::get<wire::Proposal>(p.body));
      break;
    case wire::Kind::commit:
      if (!synced_ || observer_) return protocol_error();
      on_commit(std::get<wire::Commit>(p.body));
      break;
    case wire::Kind::inform:
      if (!synced_ || !observer_) return protocol_error();
      on_inform(std::get<wire::Inform>(p.body));
      break;
    case wire::Kind::up_to_date:
      if (!synced_ || up_to_date_) return protocol_error();
      on_up_to_date(std::get<wire::UpToDate>(p.body));
      break;
    case wire::Kind::ping:
      on_ping(std::get<wire::Ping>(p.body));
      break;
    case wire::Kind::sync_reply:
      on_sync_reply(std::get<wire::SyncReply>(p.body));
      break;
    case wire::Kind::close:
      lose_leader("the leader closed the connection");
      break;
    default:
      protocol_error();
      break;
  }
}

// ---- leader ------------------------------------------------------------------------------

ProposeResult ZabBroadcast::propose(const std::vector<Bytes>& txns) {
  ProposeResult r;
  if (state_ != PeerState::leading || phase_ != Phase::broadcast) {
    if (state_ == PeerState::following || state_ == PeerState::observing)
      r.leader_hint = leader_id_;
    if (state_ == PeerState::leading && established_) r.leader_hint = self_;  // retry here soon
    return r;
  }
  r.leader_hint = self_;
  if (txns.empty()) {
    r.accepted = true;
    return r;
  }
  if (next_counter_ + txns.size() - 1 > 0xffffffffu) {
    // ZOOKEEPER-1277: the counter would roll over into the epoch bits. Give up leadership; the
    // next election starts a new epoch with the counter back at 1.
    r.leader_hint = 0;
    become_looking("zxid counter exhausted in epoch " + std::to_string(current_epoch_) +
                   ", forcing a new epoch");
    return r;
  }
  std::vector<LogEntry> batch;
  batch.reserve(txns.size());
  for (const auto& data : txns) {
    LogEntry e{log_.last_index() + 1, current_epoch_,
               make_zxid(static_cast<std::uint32_t>(current_epoch_),
                         static_cast<std::uint32_t>(next_counter_++)),
               data};
    trace(TraceKind::proposal, 0, e.zxid);
    append_entry(e);
    batch.push_back(std::move(e));
  }
  r.accepted = true;
  r.first_zxid = batch.front().zxid;
  for (auto& [sid, h] : handlers_) {
    if (h.sync_sent && !h.observer) send_stream(h, wire::Proposal{batch});
  }
  try_commit();
  return r;
}

void ZabBroadcast::on_ack(LearnerHandler& h, LogIndex index, Zxid zxid) {
  if (!h.sync_sent) return;
  if (index > log_.last_index()) {
    logger_->warn("zab {}: {} acked index {} beyond our log", self_, h.sid, index);
    return;
  }
  if (index >= log_.base_index()) {
    auto z = log_.zxid_at(index);
    if (!z || *z != zxid) {
      logger_->warn("zab {}: {} acked zxid {:#x} at index {}, which is not ours", self_, h.sid,
                    zxid, index);
      return;
    }
  }
  if (index > h.acked_index) {
    h.acked_index = index;
    trace(TraceKind::ack, h.sid, zxid);
  }
  if (!h.newleader_acked && h.acked_index >= h.newleader_index) {
    h.newleader_acked = true;
    on_newleader_ack(h);
  }
  try_commit();
}

void ZabBroadcast::try_commit() {
  if (state_ != PeerState::leading || phase_ != Phase::broadcast) return;
  const LogIndex last = log_.last_index();
  LogIndex n = consensus::quorum_value(ctx_.membership, [&](NodeId id) -> std::uint64_t {
    if (id == self_) return stable_index();
    auto it = handlers_.find(id);
    if (it == handlers_.end() || !it->second.sync_sent) return 0;
    return std::min(it->second.acked_index, last);
  });
  if (n <= commit_index_) return;
  LogIndex from = commit_index_ + 1;
  commit_upto(n);
  Zxid zxid = *log_.zxid_at(n);
  for (auto& [sid, h] : handlers_) {
    if (!h.sync_sent) continue;
    if (h.observer) {
      send_stream(h, wire::Inform{log_.entries_from(from, static_cast<std::size_t>(n - from + 1))});
    } else {
      send_stream(h, wire::Commit{n, zxid});
    }
  }
  resolve_barriers();
}

void ZabBroadcast::send_pings() {
  const bool lease_round = lease_ticks_ > 0 && phase_ == Phase::broadcast;
  if (lease_round) next_read_round();  // with a lease every PING is a round
  for (auto& [sid, h] : handlers_) {
    if (h.leader_info_sent) send_stream(h, wire::Ping{read_round_});
  }
  if (lease_round) check_read_rounds();  // a one-voter ensemble is its own quorum
}

void ZabBroadcast::leader_tick() {
  const auto sync_limit = static_cast<std::uint64_t>(cfg_.sync_limit_ticks);
  const auto init_limit = static_cast<std::uint64_t>(cfg_.init_limit_ticks);
  if (phase_ != Phase::broadcast && tick_count_ - lead_start_tick_ > init_limit) {
    become_looking(std::string("leader still in ") + phase_name() + " after init_limit_ticks");
    return;
  }
  if (tick_count_ % static_cast<std::uint64_t>(cfg_.ping_interval_ticks) == 0) send_pings();
  if (phase_ == Phase::broadcast) {
    consensus::QuorumCounter synced(ctx_.membership);
    synced.add(self_);
    for (const auto& [sid, h] : handlers_) {
      if (h.newleader_acked && tick_count_ - h.last_heard_tick <= sync_limit) synced.add(sid);
    }
    if (!synced.has_quorum()) {
      become_looking("not sufficient followers synced");
      return;
    }
  }
  // Learners that went silent lose their connection, as a TCP timeout would end it.
  const auto limit = phase_ == Phase::broadcast ? sync_limit : init_limit;
  for (auto it = handlers_.begin(); it != handlers_.end();) {
    if (tick_count_ - it->second.last_heard_tick > limit) {
      close_handler(it->second);
      it = handlers_.erase(it);
    } else {
      ++it;
    }
  }
}

void ZabBroadcast::close_handler(LearnerHandler& h) {
  for (auto it = barriers_.begin(); it != barriers_.end();) {
    if (it->origin == h.sid) {
      it = barriers_.erase(it);  // the learner fails them itself when its connection ends
    } else {
      ++it;
    }
  }
  if (h.leader_info_sent) send_stream(h, wire::Close{});
}

// ---- learner -----------------------------------------------------------------------------

void ZabBroadcast::on_proposal(const wire::Proposal& m) {
  for (const auto& e : m.entries) {
    if (e.index <= log_.last_index()) {
      auto z = log_.zxid_at(e.index);
      if (z && *z == e.zxid) continue;  // already have it
      return lose_leader("PROPOSAL " + std::to_string(e.index) + " conflicts with our log");
    }
    if (e.index != log_.last_index() + 1 || e.zxid <= log_.last_zxid() ||
        e.epoch != leader_epoch_ || zxid_epoch(e.zxid) != e.epoch) {
      return lose_leader("PROPOSAL " + std::to_string(e.index) + " does not extend our log");
    }
    append_entry(e);
    trace(TraceKind::ack, leader_id_, e.zxid);
  }
  pending_ack_ = wire::Ack{log_.last_index(), log_.last_zxid()};
}

void ZabBroadcast::on_commit(const wire::Commit& m) {
  if (m.index > log_.last_index()) return lose_leader("COMMIT beyond our log");
  if (m.index >= log_.base_index()) {
    auto z = log_.zxid_at(m.index);
    if (!z || *z != m.zxid) return lose_leader("COMMIT of a zxid we do not have");
  }
  leader_commit_ = std::max(leader_commit_, m.index);
  if (up_to_date_) learner_commit();
}

void ZabBroadcast::on_inform(const wire::Inform& m) {
  for (const auto& e : m.entries) {
    if (e.index <= log_.last_index()) {
      if (e.index < log_.base_index()) continue;
      auto z = log_.zxid_at(e.index);
      if (z && *z == e.zxid) continue;
      return lose_leader("INFORM " + std::to_string(e.index) + " conflicts with our log");
    }
    if (e.index != log_.last_index() + 1 || e.zxid <= log_.last_zxid() ||
        e.epoch != zxid_epoch(e.zxid)) {
      return lose_leader("INFORM " + std::to_string(e.index) + " does not extend our log");
    }
    append_entry(e);
  }
  if (!m.entries.empty()) leader_commit_ = std::max(leader_commit_, m.entries.back().index);
  if (up_to_date_) learner_commit();
}

void ZabBroadcast::on_ping(const wire::Ping& m) {
  max_round_seen_ = std::max(max_round_seen_, m.round);
  wire::PingReply r;
  r.round = max_round_seen_;
  if (synced_ && !observer_) {
    if (auto ack = durable_ack()) {
      r.ack_index = ack->index;
      r.ack_zxid = ack->zxid;
    }
  }
  send_to_leader(r);
}

void ZabBroadcast::learner_commit() {
  LogIndex target = std::min(leader_commit_, log_.last_index());
  if (target > commit_index_) commit_upto(target);
}

void ZabBroadcast::learner_tick() {
  // Registration and synchronization must finish within initLimit even while the leader pings:
  // a lost FOLLOWERINFO/ACKEPOCH/ACK would otherwise leave us waiting forever.
  if (!up_to_date_ && ++ticks_since_connect_ > static_cast<std::uint64_t>(cfg_.init_limit_ticks)) {
    lose_leader("not synchronized with leader " + std::to_string(leader_id_) + " within " +
                std::to_string(cfg_.init_limit_ticks) + " ticks");
    return;
  }
  if (phase_ == Phase::discovery && leader_epoch_ == 0) {
    // No LEADERINFO yet. ZooKeeper's learner retries connectToLeader until the leader listens;
    // our FOLLOWERINFO may likewise have reached the prospective leader before it left LOOKING
    // (or been dropped by the transport), so we repeat it every tick. The leader takes a repeat
    // with the same nonce as a duplicate.
    send_to_leader(wire::LearnerInfo{accepted_epoch_, observer_, wire::kProtocolVersion});
  }
  auto limit = phase_ == Phase::broadcast ? cfg_.sync_limit_ticks : cfg_.init_limit_ticks;
  if (ticks_since_leader_ > static_cast<std::uint64_t>(limit)) {
    lose_leader("no packet from leader " + std::to_string(leader_id_) + " for " +
                std::to_string(ticks_since_leader_) + " ticks");
  }
}

void ZabBroadcast::peer_disconnected(NodeId peer) {
  if (!restored_) return;
  // Learner.readPacket throws on a closed leader socket and followLeader() returns: the learner
  // goes LOOKING now rather than after syncLimit. The leader keeps its LearnerHandler state:
  // a restarted learner may already be registering again, and the quorum check of leader_tick
  // catches learners that stay silent.
  if ((state_ == PeerState::following || state_ == PeerState::observing) && peer == leader_id_) {
    lose_leader("lost the connection to leader " + std::to_string(peer));
  }
}

void ZabBroadcast::lose_leader(const std::string& reason) {
  become_looking(reason);
}

}  // namespace quorumlab::zab
