// ZAB phase 2, synchronization (LearnerHandler.syncFollower, Learner.syncWithLeader,
// Leader.waitForNewLeaderAck).
//
// For each learner that sent ACKEPOCH the leader finds the common prefix of the two logs and
// sends one packet: DIFF (missing proposals), TRUNC (cut an extra tail), TRUNC+DIFF, or SNAP (a
// snapshot from the SnapshotSource plus the proposals after it), followed by NEWLEADER. The
// learner applies it, makes currentEpoch = the new epoch durable with the log, then ACKs. Once a
// quorum (the leader included, when its own log and currentEpoch are durable) has ACKed
// NEWLEADER, the leader's whole initial history is committed, the leader starts broadcasting
// and sends UPTODATE; learners that finish later get UPTODATE after their own ACK.
//
// The common prefix: every entry of epoch e was proposed by e's only leader at a fixed index,
// so two logs that both hold epoch e agree on its entries up to the shorter run. ACKEPOCH lists
// the learner's epoch runs newest first; the newest run shared with the leader's log gives the
// exact common index (ZooKeeper derives it from the learner's last zxid alone).
#include <sstream>

#include "quorumlab/consensus/quorum.hpp"
#include "quorumlab/zab/zab.hpp"

namespace quorumlab::zab {

SyncPlan plan_sync(const consensus::MemoryLog& leader_log, const wire::AckEpoch& learner,
                   std::int64_t snap_threshold) {
  SyncPlan plan;
  LogIndex common = 0;
  bool found = false;
  for (const auto& seg : learner.segments) {
    auto range = leader_log.epoch_range(seg.epoch);
    if (!range) continue;
    LogIndex c = std::min(seg.last_index, range->last);
    if (c < seg.first_index || c < range->first) continue;
    common = c;
    found = true;
    break;
  }
  if (!found) {
    // No epoch run in common: the learner shares at most its snapshot, a committed point.
    common = learner.base_index;
    if (!learner.segments_complete) plan.need_snapshot = true;  // the summary was cut short
    if (common >= leader_log.base_index()) {
      auto z = leader_log.zxid_at(common);
      if (!z || *z != learner.base_zxid) plan.need_snapshot = true;
    }
  }
  common = std::min({common, leader_log.last_index(), learner.last_index});
  if (common < leader_log.base_index()) plan.need_snapshot = true;
  plan.common_index = common;
  LogIndex missing = leader_log.last_index() > common ? leader_log.last_index() - common : 0;
  if (plan.need_snapshot ||
      (snap_threshold > 0 && missing > static_cast<LogIndex>(snap_threshold))) {
    plan.mode = wire::SyncMode::snap;
  } else if (learner.last_index > common) {
    plan.mode =
        leader_log.last_index() > common ? wire::SyncMode::trunc_diff : wire::SyncMode::trunc;
  } else {
    plan.mode = wire::SyncMode::diff;
  }
  return plan;
}

std::optional<Snapshot> ZabBroadcast::snapshot_for_sync(LogIndex at_least) {
  if (!snapshot_source_) return std::nullopt;
  Snapshot s = snapshot_source_->take_snapshot();
  auto z = log_.zxid_at(s.last_index);
  if (s.last_index < log_.base_index() || s.last_index > commit_index_ || !z || *z != s.last_zxid) {
    logger_->warn(
        "zab {}: snapshot source gave index {} zxid {:#x}, outside the committed log "
        "({}, {}]; not used",
        self_, s.last_index, s.last_zxid, log_.base_index(), commit_index_);
    return std::nullopt;
  }
  if (s.last_index < at_least) return std::nullopt;
  s.last_epoch = zxid_epoch(s.last_zxid);
  return s;
}

void ZabBroadcast::start_sync(LearnerHandler& h) {
  if (h.sync_sent || !h.ack_epoch) return;
  SyncPlan plan = plan_sync(log_, *h.ack_epoch, cfg_.snap_threshold_entries);
  wire::Sync s;
  if (plan.mode == wire::SyncMode::snap) {
    // A forced SNAP needs a snapshot at or beyond our compaction point; an optional one
    // (threshold) is only worth it beyond the common prefix.
    auto snap = snapshot_for_sync(plan.need_snapshot ? log_.base_index() : plan.common_index + 1);
    if (snap) {
      s.mode = wire::SyncMode::snap;
      s.common_index = snap->last_index;
      s.common_zxid = snap->last_zxid;
      s.snapshot = std::move(snap);
    } else if (plan.need_snapshot) {
      logger_->error(
          "zab {}: learner {} is behind the compaction point {} and no usable "
          "snapshot is available; it cannot be synchronized",
          self_, h.sid, log_.base_index());
      return;
    } else {
      plan = plan_sync(log_, *h.ack_epoch, 0);
    }
  }
  if (!s.snapshot) {
    s.mode = plan.mode;
    s.common_index = plan.common_index;
    s.common_zxid = *log_.zxid_at(plan.common_index);
  }
  if (s.common_index < log_.last_index()) s.entries = log_.entries_from(s.common_index + 1);
  s.newleader_index = log_.last_index();
  s.newleader_zxid = log_.last_zxid();
  h.sync_sent = true;
  h.newleader_index = s.newleader_index;
  std::ostringstream detail;
  detail << wire::to_string(s.mode) << " to " << h.sid << " common=" << s.common_index
         << " entries=" << s.entries.size() << " learner_last=" << h.ack_epoch->last_index;
  // Cut the entries into packets of at most sync_packet_bytes of payload (an entry larger than
  // that goes alone): one message of a long DIFF would exceed the receiver's message limit,
  // which drops the connection, and the learner would see a gap in the stream and start over
  // with a longer DIFF each time.
  std::vector<std::vector<LogEntry>> chunks(1);
  std::size_t bytes = 0;
  for (auto& e : s.entries) {
    const std::size_t size = e.data.size() + 64;
    if (!chunks.back().empty() && bytes + size > static_cast<std::size_t>(cfg_.sync_packet_bytes)) {
      chunks.emplace_back();
      bytes = 0;
    }
    bytes += size;
    chunks.back().push_back(std::move(e));
  }
  // A snapshot beyond the budget goes in parts the same way, ahead of the entries: all but the
  // last part in packets of their own, the last with the first entries.
  const auto budget = static_cast<std::size_t>(cfg_.sync_packet_bytes);
  std::vector<wire::Sync> parts;
  if (s.snapshot && s.snapshot->data.size() > budget) {
    const Snapshot& snap = *s.snapshot;
    const std::size_t total = snap.data.size();
    std::size_t offset = 0;
    for (; total - offset > budget; offset += budget) {
      wire::Sync part;
      part.mode = wire::SyncMode::snap;
      part.common_index = s.common_index;
      part.common_zxid = s.common_zxid;
      part.snapshot =
          Snapshot{snap.last_index, snap.last_epoch, snap.last_zxid,
                   Bytes(snap.data.begin() + static_cast<std::ptrdiff_t>(offset),
                         snap.data.begin() + static_cast<std::ptrdiff_t>(offset + budget))};
      part.snapshot_offset = offset;
      part.snapshot_total = total;
      part.newleader_index = s.newleader_index;
      part.newleader_zxid = s.newleader_zxid;
      part.final = false;
      parts.push_back(std::move(part));
    }
    Bytes last_part(snap.data.begin() + static_cast<std::ptrdiff_t>(offset), snap.data.end());
    s.snapshot->data = std::move(last_part);
    s.snapshot_offset = offset;
    s.snapshot_total = total;
    detail << " snapshot_parts=" << parts.size() + 1;
  }
  if (chunks.size() > 1) detail << " packets=" << chunks.size();
  trace(TraceKind::catch_up, h.sid, s.newleader_zxid, detail.str());
  logger_->info("zab {}: sync {}", self_, detail.str());
  for (auto& part : parts)
    send_stream(h, std::move(part));
  LogIndex last = s.common_index;
  Zxid last_zxid = s.common_zxid;
  const Zxid newleader_zxid = s.newleader_zxid;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    wire::Sync packet;
    if (i == 0) {
      packet = std::move(s);
    } else {
      packet.mode = wire::SyncMode::diff;  // continues the log where the last packet ended
      packet.common_index = last;
      packet.common_zxid = last_zxid;
      packet.newleader_index = h.newleader_index;
      packet.newleader_zxid = newleader_zxid;
    }
    packet.entries = std::move(chunks[i]);
    packet.final = i + 1 == chunks.size();
    if (!packet.entries.empty()) {
      last = packet.entries.back().index;
      last_zxid = packet.entries.back().zxid;
    }
    send_stream(h, std::move(packet));
  }
}

void ZabBroadcast::on_newleader_ack(LearnerHandler& h) {
  if (!h.observer) newleader_acks_.insert(h.sid);
  if (phase_ == Phase::broadcast) {
    h.up_to_date_sent = true;
    send_stream(h, wire::UpToDate{commit_index_, *log_.zxid_at(commit_index_)});
    return;
  }
  try_finish_sync();
}

void ZabBroadcast::try_finish_sync() {
  if (state_ != PeerState::leading || phase_ != Phase::synchronization) return;
  // Our own ACK of NEWLEADER: currentEpoch and the initial history are durable.
  if (persist_.durable_seq() < current_seq_ || stable_index() < newleader_index_) return;
  consensus::QuorumCounter q(ctx_.membership);
  q.add(self_);
  for (NodeId id : newleader_acks_)
    q.add(id);
  if (!q.has_quorum()) return;
  phase_ = Phase::broadcast;
  next_counter_ = 1;
  commit_upto(newleader_index_);  // the initial history is committed
  for (auto& [sid, h] : handlers_) {
    if (h.newleader_acked && !h.up_to_date_sent) {
      h.up_to_date_sent = true;
      send_stream(h, wire::UpToDate{commit_index_, *log_.zxid_at(commit_index_)});
    }
  }
  trace(TraceKind::catch_up, 0, log_.last_zxid(), "quorum acked NEWLEADER; broadcast");
  logger_->info("zab {}: leading epoch {} with {} voters synced; commit index {}", self_,
                current_epoch_, q.count(), commit_index_);
}

void ZabBroadcast::on_sync(const wire::Sync& m) {
  auto fail = [&](const std::string& why) { lose_leader("bad SYNC from the leader: " + why); };
  if (m.mode == wire::SyncMode::snap && m.snapshot && m.snapshot_total > 0) {
    // A snapshot in parts: collect them; it is installed with the last one.
    auto& p = partial_snapshot_;
    if (m.snapshot_offset == 0) {
      p = Snapshot{*m.snapshot};
    } else if (!p || m.snapshot_offset != p->data.size() ||
               m.snapshot->last_index != p->last_index || m.snapshot->last_zxid != p->last_zxid) {
      return fail("snapshot part at offset " + std::to_string(m.snapshot_offset) +
                  " does not continue the parts received");
    } else {
      p->data.insert(p->data.end(), m.snapshot->data.begin(), m.snapshot->data.end());
    }
    if (p->data.size() > m.snapshot_total) return fail("snapshot parts exceed its size");
    if (p->data.size() < m.snapshot_total) return;  // more parts follow
    wire::Sync whole = m;
    whole.snapshot = std::move(*p);
    whole.snapshot_offset = whole.snapshot_total = 0;
    partial_snapshot_.reset();
    return on_sync(whole);
  }
  if (m.mode == wire::SyncMode::snap) {
    if (!m.snapshot) return fail("SNAP without a snapshot");
    if (m.snapshot->last_index < commit_index_) return fail("snapshot behind our commit point");
    if (m.snapshot->last_index != m.common_index || m.snapshot->last_zxid != m.common_zxid) {
      return fail("snapshot does not match the common point");
    }
    install_snapshot(*m.snapshot);
  } else {
    if (m.common_index > log_.last_index() || m.common_index < log_.base_index()) {
      return fail("common index " + std::to_string(m.common_index) + " outside our log");
    }
    if (*log_.zxid_at(m.common_index) != m.common_zxid) {
      return fail("our entry at the common index " + std::to_string(m.common_index) + " differs");
    }
    if (m.common_index < commit_index_) return fail("TRUNC below our commit point");
    truncate_log(m.common_index);
  }
  for (const auto& e : m.entries) {
    if (e.index != log_.last_index() + 1 || e.zxid <= log_.last_zxid() ||
        e.epoch != zxid_epoch(e.zxid)) {
      return fail("DIFF entry " + std::to_string(e.index) + " does not extend our log");
    }
    append_entry(e);
  }
  if (!m.final) return;  // the DIFF continues in the next SYNC packet
  if (log_.last_index() != m.newleader_index || log_.last_zxid() != m.newleader_zxid) {
    return fail("our log does not end at NEWLEADER");
  }
  current_epoch_ = leader_epoch_;  // NEWLEADER: durable with the log, before the ACK
  save_hard_state();
  synced_ = true;
  vote_.peer_epoch = current_epoch_;
  pending_ack_ = wire::Ack{log_.last_index(), log_.last_zxid()};
  trace(TraceKind::catch_up, leader_id_, m.newleader_zxid,
        std::string("received ") + wire::to_string(m.mode));
}

void ZabBroadcast::on_up_to_date(const wire::UpToDate& m) {
  up_to_date_ = true;
  phase_ = Phase::broadcast;
  leader_commit_ = std::max(leader_commit_, m.commit_index);
  learner_commit();
}

}  // namespace quorumlab::zab
