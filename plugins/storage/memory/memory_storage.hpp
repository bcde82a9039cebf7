// `memory`: a Storage plugin that keeps the log, the hard state and the snapshot in RAM, for
// experiments that exclude the disk. Nothing survives the object.
//
// Contract differences from a durable plugin:
//   * flush() completes its ticket at once and calls the wake-up from inside flush() (on the
//     reactor thread).
//   * recover() returns what the object holds: empty for a fresh object.
//   * save_snapshot() drops covered entries at once.
// Preconditions (std::logic_error when violated) are the same as for `wal`, so that a protocol
// tested on `memory` behaves the same on disk.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "quorumlab/plugin/storage.hpp"

namespace quorumlab::storage {

class MemoryStorage final : public Storage {
 public:
  MemoryStorage() = default;

  /// Returns the current content (the snapshot, entries after it, the hard state). Unlike a
  /// disk plugin it may be called again, which tests use to inspect the state.
  StorageRecovery recover() override;

  /// Throws std::logic_error unless the first index is last index + 1 and the indexes are
  /// consecutive; nothing is appended then.
  void append(const std::vector<LogEntry>& entries) override;

  /// Throws std::logic_error if `index` is below the last snapshot (those entries are
  /// committed).
  void truncate_after(LogIndex index) override;
  void save_hard_state(const HardState& state) override;
  std::uint64_t flush() override;
  std::uint64_t durable_ticket() const override;
  void set_wakeup(std::function<void()> wakeup) override;

  /// Keeps the snapshot and drops entries at or below its index. An older snapshot than the
  /// current one is ignored.
  void save_snapshot(Snapshot snapshot) override;

  /// Drops every entry and the current snapshot, keeps this one (even when it is older).
  void install_snapshot(const Snapshot& snapshot) override;
  StorageStats stats() const override;

  LogIndex last_index() const { return last_index_; }

 private:
  void drop_through(LogIndex index);

  std::vector<LogEntry> entries_;  ///< dense, first index snapshot index + 1 (or after drops)
  LogIndex last_index_ = 0;
  HardState hard_state_;
  std::optional<Snapshot> snapshot_;
  std::function<void()> wakeup_;
  std::atomic<std::uint64_t> durable_{0};
  std::uint64_t last_ticket_ = 0;
  StorageStats stats_;
};

}  // namespace quorumlab::storage
