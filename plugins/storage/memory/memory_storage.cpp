#include "memory/memory_storage.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace quorumlab::storage {

StorageRecovery MemoryStorage::recover() {
  StorageRecovery r;
  r.hard_state = hard_state_;
  r.snapshot = snapshot_;
  r.entries = entries_;
  return r;
}

void MemoryStorage::append(const std::vector<LogEntry>& entries) {
  LogIndex expected = last_index_ + 1;
  for (const LogEntry& e : entries) {
    if (e.index != expected) {
      throw std::logic_error("memory: append of index " + std::to_string(e.index) +
                             " does not follow index " + std::to_string(expected - 1));
    }
    ++expected;
  }
  entries_.insert(entries_.end(), entries.begin(), entries.end());
  last_index_ = expected - 1;
  stats_.entries_appended += entries.size();
}

void MemoryStorage::truncate_after(LogIndex index) {
  const LogIndex snapshot_index = snapshot_ ? snapshot_->last_index : 0;
  if (index < snapshot_index) {
    throw std::logic_error("memory: truncate_after(" + std::to_string(index) +
                           ") reaches below the snapshot at index " +
                           std::to_string(snapshot_index));
  }
  if (index >= last_index_) return;
  const auto keep = std::count_if(entries_.begin(), entries_.end(),
                                  [&](const LogEntry& e) { return e.index <= index; });
  entries_.resize(static_cast<std::size_t>(keep));
  last_index_ = index;
}

void MemoryStorage::save_hard_state(const HardState& state) {
  hard_state_ = state;
}

std::uint64_t MemoryStorage::flush() {
  const std::uint64_t ticket = ++last_ticket_;
  durable_.store(ticket, std::memory_order_release);
  if (wakeup_) wakeup_();
  return ticket;
}

std::uint64_t MemoryStorage::durable_ticket() const {
  return durable_.load(std::memory_order_acquire);
}

void MemoryStorage::set_wakeup(std::function<void()> wakeup) {
  wakeup_ = std::move(wakeup);
}

void MemoryStorage::save_snapshot(Snapshot snapshot) {
  if (snapshot_ && snapshot.last_index <= snapshot_->last_index) return;
  drop_through(snapshot.last_index);
  last_index_ = std::max(last_index_, snapshot.last_index);
  snapshot_ = std::move(snapshot);
  ++stats_.snapshots_written;
}

void MemoryStorage::install_snapshot(const Snapshot& snapshot) {
  entries_.clear();
  last_index_ = snapshot.last_index;
  snapshot_ = snapshot;
  ++stats_.snapshots_written;
}

StorageStats MemoryStorage::stats() const {
  return stats_;
}

void MemoryStorage::drop_through(LogIndex index) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const LogEntry& e) { return e.index <= index; }),
                 entries_.end());
}

}  // namespace quorumlab::storage
