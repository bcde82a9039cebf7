// Log compaction (thesis 5.3): a follower behind the leader's compaction point is brought up by
// InstallSnapshot, in chunks of at most max_snapshot_chunk_bytes, one chunk in flight; the
// follower acknowledges each chunk with the offset it expects next.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "quorumlab/raft/raft.hpp"

namespace quorumlab::raft {

void RaftBroadcast::send_snapshot(NodeId to, Progress& p) {
  if (!snapshot_source_) {
    logger_->warn("raft {}: peer {} needs a snapshot but there is no snapshot source", self_, to);
    p.mode = Progress::Mode::probe;
    p.probe_sent = true;  // retried on the next heartbeat response
    p.inflight.clear();
    return;
  }
  auto snap = std::make_shared<Snapshot>(snapshot_source_->take_snapshot());
  if (snap->last_index < log_.base_index() || snap->last_index > commit_index_) {
    logger_->warn("raft {}: snapshot source gave index {} outside [{}, {}]", self_,
                  snap->last_index, log_.base_index(), commit_index_);
    p.mode = Progress::Mode::probe;
    p.probe_sent = true;
    p.inflight.clear();
    return;
  }
  if (snap->last_epoch == 0 && snap->last_index > 0) {
    snap->last_epoch = log_.term_at(snap->last_index).value_or(zxid_term(snap->last_zxid));
  }
  p.mode = Progress::Mode::snapshot;
  p.snapshot = std::move(snap);
  p.snapshot_offset = 0;
  p.inflight.clear();
  p.probe_sent = false;
  trace(TraceKind::catch_up, to, p.snapshot->last_zxid,
        "InstallSnapshot at index " + std::to_string(p.snapshot->last_index) + " (" +
            std::to_string(p.snapshot->data.size()) + " bytes)");
  send_snapshot_chunk(to, p);
}

void RaftBroadcast::send_snapshot_chunk(NodeId to, Progress& p) {
  if (!p.snapshot) return;
  const Snapshot& s = *p.snapshot;
  std::uint64_t size = s.data.size();
  std::uint64_t offset = std::min(p.snapshot_offset, size);
  std::uint64_t len = std::min<std::uint64_t>(
      size - offset, static_cast<std::uint64_t>(cfg_.max_snapshot_chunk_bytes));
  wire::Message m;
  m.type = wire::Type::install_snapshot;
  m.snapshot_index = s.last_index;
  m.snapshot_term = s.last_epoch;
  m.snapshot_zxid = s.last_zxid;
  m.offset = offset;
  auto first = s.data.begin() + static_cast<std::ptrdiff_t>(offset);
  m.data.assign(first, first + static_cast<std::ptrdiff_t>(len));
  m.done = offset + len == size;
  send(to, std::move(m));
}

void RaftBroadcast::on_install_snapshot(NodeId from, const wire::Message& m) {
  heard_from_leader(from);
  wire::Message r;
  r.type = wire::Type::install_snapshot_response;
  r.snapshot_index = m.snapshot_index;
  if (m.snapshot_index <= commit_index_) {
    // Nothing to install: we already have everything it covers.
    r.granted = true;
    r.index = commit_index_;
    leader_matched_ = true;
    send(from, r, /*after_persist=*/true);
    return;
  }
  bool same = incoming_ && incoming_->leader == from && incoming_->term == term_ &&
              incoming_->meta.last_index == m.snapshot_index &&
              incoming_->meta.last_zxid == m.snapshot_zxid;
  if (m.offset == 0 && !same) {
    incoming_ = IncomingSnapshot{from, term_,
                                 Snapshot{m.snapshot_index, m.snapshot_term, m.snapshot_zxid, {}}};
    same = true;
  }
  if (!same || m.offset != incoming_->meta.data.size()) {
    // A chunk out of order (lost or duplicated): say which offset we expect.
    r.offset = same ? incoming_->meta.data.size() : 0;
    send(from, r);
    return;
  }
  incoming_->meta.data.insert(incoming_->meta.data.end(), m.data.begin(), m.data.end());
  r.offset = incoming_->meta.data.size();
  if (!m.done) {
    send(from, r);
    return;
  }
  Snapshot snap = std::move(incoming_->meta);
  incoming_.reset();
  auto t = log_.term_at(snap.last_index);
  if (t && *t == snap.last_epoch) {
    // 5.3: our log holds the snapshot's last entry: keep the entries after it, commit up to it.
    commit_to(snap.last_index);
  } else {
    trace(TraceKind::catch_up, from, snap.last_zxid,
          "snapshot installed at index " + std::to_string(snap.last_index));
    install_snapshot(snap);
  }
  leader_matched_ = true;
  r.granted = true;
  r.index = snap.last_index;
  send(from, r, /*after_persist=*/true);  // the leader counts it as matched: durable first
}

void RaftBroadcast::on_install_snapshot_response(NodeId from, const wire::Message& m) {
  if (state_ != State::leader || m.term != term_) return;
  auto it = progress_.find(from);
  if (it == progress_.end()) return;
  Progress& p = it->second;
  p.recent_active = true;
  p.ticks_since_heard = 0;
  if (p.mode != Progress::Mode::snapshot || !p.snapshot ||
      p.snapshot->last_index != m.snapshot_index)
    return;
  if (m.granted) {
    p.match = std::max(p.match, m.index);
    p.next = p.match + 1;
    p.mode = Progress::Mode::probe;
    p.probe_sent = false;
    p.snapshot.reset();
    maybe_commit();
    send_append(from, true);
    return;
  }
  if (m.offset == p.snapshot_offset && m.offset != 0) return;  // duplicate acknowledgement
  p.snapshot_offset = m.offset;
  send_snapshot_chunk(from, p);
}

}  // namespace quorumlab::raft
