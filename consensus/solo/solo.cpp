#include "solo.hpp"

#include <sstream>

namespace quorumlab::solo {

Solo::Solo(PluginContext& ctx) : ctx_(ctx) {}

void Solo::restore(const RecoveredLog& log) {
  // Everything durable was committed: a one-member ensemble has a quorum of itself.
  std::uint64_t epoch = log.hard_state.term;
  if (log.snapshot) {
    last_index_ = commit_index_ = durable_index_ = log.snapshot->last_index;
    last_committed_zxid_ = log.snapshot->last_zxid;
  }
  for (const auto& e : log.entries) {
    last_index_ = commit_index_ = durable_index_ = e.index;
    last_committed_zxid_ = e.zxid;
    pending_.committed.push_back({e.index, e.epoch, e.zxid, e.data});
  }
  if (zxid_epoch(last_committed_zxid_) > epoch) epoch = zxid_epoch(last_committed_zxid_);
  epoch_ = static_cast<std::uint32_t>(epoch + 1);
  counter_ = 0;
  HardState hs;
  hs.term = epoch_;
  pending_.hard_state = hs;
  pending_.status = status();
  prev_commit_index_ = commit_index_;
  prev_committed_zxid_ = last_committed_zxid_;
  QL_TRACE(*ctx_.tracer, TraceEvent{TraceKind::became_leader, ctx_.self, 0, epoch_, 0, "solo"});
}

void Solo::step(const PeerMessage& message) {
  ctx_.logger->warn("solo has no peers; dropped a message from {}", message.from);
}

ProposeResult Solo::propose(const std::vector<Bytes>& txns) {
  ProposeResult result{true, ctx_.self, 0};
  for (const auto& data : txns) {
    if (counter_ == 0xffffffffu) {  // next epoch, as ZAB does when the counter runs out
      epoch_++;
      counter_ = 0;
      HardState hs;
      hs.term = epoch_;
      pending_.hard_state = hs;
      pending_.status = status();
    }
    LogEntry e{++last_index_, epoch_, make_zxid(epoch_, ++counter_), data};
    if (result.first_zxid == 0) result.first_zxid = e.zxid;
    QL_TRACE(*ctx_.tracer, TraceEvent{TraceKind::proposal, ctx_.self, 0, epoch_, e.zxid, {}});
    pending_.entries.push_back(e);
    uncommitted_.push_back(std::move(e));
  }
  return result;
}

void Solo::persisted(LogIndex index) {
  if (index <= durable_index_) return;
  durable_index_ = index;
  commit_upto(index);
}

void Solo::commit_upto(LogIndex index) {
  while (!uncommitted_.empty() && uncommitted_.front().index <= index) {
    auto& e = uncommitted_.front();
    commit_index_ = e.index;
    last_committed_zxid_ = e.zxid;
    QL_TRACE(*ctx_.tracer, TraceEvent{TraceKind::commit, ctx_.self, 0, epoch_, e.zxid, {}});
    pending_.committed.push_back({e.index, e.epoch, e.zxid, std::move(e.data)});
    uncommitted_.pop_front();
  }
  while (!barriers_.empty() && barriers_.front().index <= commit_index_) {
    const auto& b = barriers_.front();
    pending_.barriers.push_back({b.id, true, b.zxid, b.index});
    barriers_.pop_front();
  }
}

void Solo::request_barrier(std::uint64_t id, BarrierKind) {
  // Every kind resolves once everything proposed before the barrier is committed (solo.hpp).
  Zxid zxid = uncommitted_.empty() ? last_committed_zxid_ : uncommitted_.back().zxid;
  barriers_.push_back({id, last_index_, zxid});
  commit_upto(commit_index_);
}

Ready Solo::ready() {
  Ready out = std::move(pending_);
  pending_ = Ready{};
  return out;
}

BroadcastStatus Solo::status() const {
  BroadcastStatus s;
  s.role = Role::leader;
  s.leader = ctx_.self;
  s.epoch = epoch_;
  s.last_committed_zxid = last_committed_zxid_;
  s.commit_index = commit_index_;
  s.last_index = last_index_;
  s.can_propose = epoch_ != 0;
  s.sub_state = "solo";
  return s;
}

std::string Solo::check_invariants() {
  std::ostringstream err;
  if (commit_index_ > durable_index_) err << "committed index " << commit_index_ << " not durable";
  if (commit_index_ > last_index_) err << "commit index beyond last index";
  if (commit_index_ < prev_commit_index_) err << "commit index went back";
  if (last_committed_zxid_ < prev_committed_zxid_) err << "committed zxid went back";
  for (std::size_t i = 1; i < uncommitted_.size(); ++i) {
    if (uncommitted_[i].zxid <= uncommitted_[i - 1].zxid) err << "zxids not increasing";
  }
  prev_commit_index_ = commit_index_;
  prev_committed_zxid_ = last_committed_zxid_;
  return err.str();
}

}  // namespace quorumlab::solo
