#include "quorumlab/replica/memory_disk.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace quorumlab::replica {

MemoryDisk::MemoryDisk(DiskImage& disk, std::function<void()> start_fsync, bool ack_before_durable)
    : disk_(disk), start_fsync_(std::move(start_fsync)), ack_before_durable_(ack_before_durable) {}

StorageRecovery MemoryDisk::recover() {
  StorageRecovery r;
  r.hard_state = disk_.hard_state;
  r.snapshot = disk_.snapshot;
  const LogIndex after = disk_.snapshot ? disk_.snapshot->last_index : 0;
  for (const auto& e : disk_.entries) {
    if (e.index > after) r.entries.push_back(e);
  }
  last_index_ = disk_.last_index();
  return r;
}

void MemoryDisk::append(const std::vector<LogEntry>& entries) {
  if (entries.empty()) return;
  LogIndex expect = last_index_ + 1;
  for (const auto& e : entries) {
    if (e.index != expect) {
      throw std::logic_error("MemoryDisk::append: entry index " + std::to_string(e.index) +
                             " does not follow the last index " + std::to_string(expect - 1));
    }
    ++expect;
  }
  last_index_ = entries.back().index;
  stats_.entries_appended += entries.size();
  for (const auto& e : entries)
    stats_.bytes_written += e.data.size() + 32;
  Op op;
  op.kind = Op::Kind::append;
  op.entries = entries;
  submit(std::move(op));
}

void MemoryDisk::truncate_after(LogIndex index) {
  last_index_ = std::min(last_index_, index);
  Op op;
  op.kind = Op::Kind::truncate;
  op.index = index;
  submit(std::move(op));
}

void MemoryDisk::save_hard_state(const HardState& state) {
  Op op;
  op.kind = Op::Kind::hard_state;
  op.hard_state = state;
  submit(std::move(op));
}

std::uint64_t MemoryDisk::flush() {
  ++issued_ticket_;
  if (fsync_running_) {
    fsync_wanted_ = true;  // group commit: the next fsync covers this ticket
  } else {
    start();
  }
  return issued_ticket_;
}

std::uint64_t MemoryDisk::durable_ticket() const {
  return ack_before_durable_ ? issued_ticket_ : durable_ticket_;
}

void MemoryDisk::save_snapshot(Snapshot snapshot) {
  stats_.snapshots_written++;
  stats_.bytes_written += snapshot.data.size();
  Op op;
  op.kind = Op::Kind::snapshot;
  op.snapshot = std::move(snapshot);
  submit(std::move(op));
  // Written in the background: it becomes durable with the next fsync, requested now.
  if (fsync_running_)
    fsync_wanted_ = true;
  else
    start();
}

void MemoryDisk::install_snapshot(const Snapshot& snapshot) {
  last_index_ = snapshot.last_index;
  stats_.bytes_written += snapshot.data.size();
  Op op;
  op.kind = Op::Kind::install;
  op.snapshot = snapshot;
  submit(std::move(op));
}

void MemoryDisk::submit(Op op) {
  ops_.push_back(std::move(op));
}

void MemoryDisk::start() {
  fsync_running_ = true;
  fsync_wanted_ = false;
  inflight_ops_ = ops_.size();
  inflight_ticket_ = issued_ticket_;
  start_fsync_();
}

std::size_t MemoryDisk::inflight_bytes() const {
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < inflight_ops_ && i < ops_.size(); ++i) {
    for (const auto& e : ops_[i].entries)
      bytes += e.data.size();
    if (ops_[i].snapshot) bytes += ops_[i].snapshot->data.size();
  }
  return bytes;
}

void MemoryDisk::fsync_done() {
  if (!fsync_running_) throw std::logic_error("MemoryDisk::fsync_done without a running fsync");
  for (std::size_t i = 0; i < inflight_ops_; ++i) {
    apply(ops_.front());
    ops_.pop_front();
  }
  disk_.fsyncs++;
  stats_.fsyncs++;
  durable_ticket_ = std::max(durable_ticket_, inflight_ticket_);
  fsync_running_ = false;
  inflight_ops_ = 0;
  if (fsync_wanted_ || durable_ticket_ < issued_ticket_) start();
  if (wakeup_) wakeup_();
}

void MemoryDisk::crash(Rng& rng, double prefix_survives_chance) {
  if (!ops_.empty() && rng.chance(prefix_survives_chance)) {
    auto keep = static_cast<std::size_t>(rng.uniform(ops_.size() + 1));
    for (std::size_t i = 0; i < keep; ++i) {
      apply(ops_.front());
      ops_.pop_front();
    }
  }
  disk_.ops_lost_in_crashes += ops_.size();
  ops_.clear();
  fsync_running_ = false;
}

void MemoryDisk::apply(Op& op) {
  auto drop_from = [&](LogIndex first) {  // entries with index >= first
    auto& v = disk_.entries;
    v.erase(std::find_if(v.begin(), v.end(), [&](const LogEntry& e) { return e.index >= first; }),
            v.end());
  };
  switch (op.kind) {
    case Op::Kind::append:
      drop_from(op.entries.front().index);
      for (auto& e : op.entries)
        disk_.entries.push_back(std::move(e));
      break;
    case Op::Kind::truncate:
      drop_from(op.index + 1);
      break;
    case Op::Kind::hard_state:
      disk_.hard_state = op.hard_state;
      break;
    case Op::Kind::snapshot: {
      const LogIndex upto = op.snapshot->last_index;
      if (disk_.snapshot && disk_.snapshot->last_index >= upto) break;
      disk_.snapshot = std::move(op.snapshot);
      auto& v = disk_.entries;
      v.erase(v.begin(),
              std::find_if(v.begin(), v.end(), [&](const LogEntry& e) { return e.index > upto; }));
      break;
    }
    case Op::Kind::install:
      disk_.snapshot = std::move(op.snapshot);
      disk_.entries.clear();
      break;
  }
}

}  // namespace quorumlab::replica
