// Storage plugins: durability for the broadcast log, hard state and snapshots.
//
// Writes are buffered and made durable asynchronously. The kernel calls `flush()` after
// submitting the writes of one Ready and gets a ticket; `durable_ticket()` later reaches that
// ticket once everything submitted before the flush is on stable storage. A plugin batches
// all flushes queued while one fsync runs into the next fsync (group commit).
//
// Recovery returns what was durable and nothing else. A torn or corrupt tail (checksum
// mismatch, short record) is detected, cut and reported in `notes`, never returned.
//
// Threading: all methods except `durable_ticket()` are called from the kernel's reactor
// thread. The wake-up callback may be called from any thread and must only wake the reactor.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/config.hpp>

#include "quorumlab/plugin/broadcast.hpp"

namespace quorumlab {

struct StorageRecovery {
  HardState hard_state;
  std::optional<Snapshot> snapshot;  ///< the newest complete snapshot, with its data
  std::vector<LogEntry> entries;     ///< durable entries after the snapshot, dense by index
  std::vector<std::string> notes;    ///< what recovery did ("cut torn tail at segment 3 +812")
};

struct StorageStats {
  std::uint64_t fsyncs = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t entries_appended = 0;
  std::uint64_t snapshots_written = 0;
};

class BOOST_SYMBOL_VISIBLE Storage {
 public:
  virtual ~Storage() = default;

  /// Called once, before any write. Reads what is durable in the data directory.
  virtual StorageRecovery recover() = 0;

  /// Appends entries. Their indexes must follow the last appended (or kept after truncation)
  /// index without gaps; a violation throws std::logic_error.
  virtual void append(const std::vector<LogEntry>& entries) = 0;

  /// Drops every entry with index > `index` (durable or not).
  virtual void truncate_after(LogIndex index) = 0;

  virtual void save_hard_state(const HardState& state) = 0;

  /// Requests durability of everything submitted so far; returns a ticket (strictly
  /// increasing). With durability turned off (`fsync = false`) tickets complete at once.
  virtual std::uint64_t flush() = 0;

  /// Highest ticket known durable. Safe to call from any thread.
  virtual std::uint64_t durable_ticket() const = 0;

  /// Called (from any thread) whenever durable_ticket() advances.
  virtual void set_wakeup(std::function<void()> wakeup) = 0;

  /// Writes a snapshot (in the background where the plugin can) and, once it is durable,
  /// discards log entries with index <= snapshot.last_index.
  virtual void save_snapshot(Snapshot snapshot) = 0;

  /// Replaces the whole log by a snapshot received from a leader (ZAB SNAP, Raft
  /// InstallSnapshot): drops every entry, keeps the snapshot. Durable at the next flush ticket.
  virtual void install_snapshot(const Snapshot& snapshot) = 0;

  virtual StorageStats stats() const = 0;

  /// Fault injection (a slow disk, issue 19): from now on each fsync that makes log writes
  /// durable takes `ms` longer (0: no delay), so every flush ticket completes later and group
  /// commit batches more, as on a slow device. Called from the reactor thread at any time
  /// after recover(). Returns "" when taken, else why not; the default: the plugin has no
  /// fsync to slow down.
  virtual std::string set_fsync_delay(std::uint32_t ms) {
    (void)ms;
    return "this storage plugin has no fsync to slow down";
  }
};

}  // namespace quorumlab
