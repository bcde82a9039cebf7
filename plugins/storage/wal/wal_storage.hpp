// `wal`: the Storage plugin that keeps the broadcast log in segmented append-only files with
// checksummed records, snapshots beside them, and group-commit fdatasync. On-disk format and
// the reasoning behind it: design.md in this folder.
//
// Threads. Three threads touch a WalStorage:
//   * the reactor (the kernel's thread) calls every Storage method except durable_ticket().
//     It encodes records into a staging buffer and decides segment rolls; flush() hands the
//     staged operations to the log writer and returns at once. It blocks only for
//     backpressure (more than `max_pending_bytes` queued and not yet taken by the writer);
//   * the log writer thread (log_writer.hpp) writes, fdatasyncs, advances durable_ticket()
//     and calls the wake-up; it also deletes obsolete segments and old snapshots;
//   * the snapshot thread (snapshot_writer.hpp) writes snapshots given to save_snapshot().
//
// Tickets. flush() returns ticket t (1, 2, 3, ...). durable_ticket() >= t means every
// append, truncate_after, save_hard_state and install_snapshot called before that flush() is
// on stable storage; recovery after a crash then returns at least that state. The wake-up is
// called after each advance, from the writer thread (or from inside flush() when fsync is
// off). Tickets complete in order; several may complete together (group commit).
//
// Failure. An I/O error on the log stops the writer: durable_ticket() stops advancing, the
// error is logged, the wake-up is called once more, and the next call from the reactor throws
// IoError with the message. The node must stop: whether the failed data reached the disk is
// unknowable (fsync semantics), so retrying an fsync proves nothing.
// A failed snapshot write is only logged (the log still holds everything).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <spdlog/logger.h>

#include "quorumlab/plugin/storage.hpp"
#include "wal/io.hpp"
#include "wal/log_writer.hpp"
#include "wal/snapshot_writer.hpp"

namespace quorumlab::storage {

struct WalOptions {
  std::filesystem::path dir;  ///< the WAL directory (the plugin uses <data_dir>/wal); created
  bool fsync = true;  ///< false: tickets complete once written to the file, nothing is fdatasynced
  std::uint64_t segment_bytes = std::uint64_t{64} << 20;  ///< roll to a new segment beyond this
  bool preallocate = false;         ///< posix_fallocate each new segment to segment_bytes
  std::uint32_t snapshot_keep = 2;  ///< older snapshot files kept besides the newest
  std::uint64_t max_pending_bytes = std::uint64_t{256} << 20;  ///< backpressure bound
  std::uint32_t fsync_delay_ms = 0;  ///< a slow disk: each log sync waits this long first
  /// Test hooks. before_fsync runs on the writer thread before each segment fdatasync,
  /// before_write before it writes a batch of staged operations; before_snapshot_write on the
  /// snapshot thread before each background snapshot write.
  std::function<void()> before_fsync;
  std::function<void()> before_write;
  std::function<void()> before_snapshot_write;
};

/// Figures beyond StorageStats, for tests and diagnostics.
struct WalDebugStats {
  std::uint64_t log_fdatasyncs = 0;      ///< fdatasyncs of segments (StorageStats counts all)
  std::uint64_t backpressure_waits = 0;  ///< times flush() waited for queue space
  std::uint64_t snapshots_superseded = 0;
  std::uint64_t snapshot_failures = 0;
  std::size_t segments = 0;  ///< segment files the writer holds
};

class WalStorage final : public Storage {
 public:
  WalStorage(WalOptions options, std::shared_ptr<spdlog::logger> logger);
  /// Writes what is staged, finishes queued snapshots, fdatasyncs (when fsync is on) and
  /// joins both threads. Errors are logged, not thrown.
  ~WalStorage() override;

  /// Must be called once, first. Creates the directory if needed, repairs it (see
  /// recovery.hpp) and starts the threads. Throws std::runtime_error for files it cannot
  /// trust (not ours, other format version, a hole between snapshot and log).
  StorageRecovery recover() override;

  /// Throws std::logic_error unless the first index is last index + 1 and the indexes are
  /// consecutive (nothing is written then), std::length_error for an entry whose record would
  /// exceed kMaxRecordPayloadBytes.
  void append(const std::vector<LogEntry>& entries) override;

  /// Drops entries after `index`. Throws std::logic_error if `index` is below the last saved or
  /// installed snapshot (those entries are committed).
  void truncate_after(LogIndex index) override;

  void save_hard_state(const HardState& state) override;
  std::uint64_t flush() override;
  std::uint64_t durable_ticket() const override;
  void set_wakeup(std::function<void()> wakeup) override;

  /// Queues the snapshot for the snapshot thread and returns. Once its file is durable,
  /// segments whose entries are all at or below its index are deleted and snapshot files
  /// beyond `snapshot_keep` older ones are removed. A snapshot not newer than the last one is
  /// ignored. A snapshot beyond the last appended index is installed instead (in order with
  /// the log, see install_snapshot).
  void save_snapshot(Snapshot snapshot) override;

  /// Queued in order with the log: the writer thread writes the snapshot file durably, then
  /// starts a new segment with a reset record; durable at the next flush ticket. The next
  /// append must carry snapshot.last_index + 1. The snapshot may be older than one this node
  /// saved (a new leader that has applied less than this follower): once the installed one is
  /// durable, snapshot files above it are removed, so recovery returns the installed one.
  void install_snapshot(const Snapshot& snapshot) override;

  StorageStats stats() const override;

  /// Each later sync of the log (fdatasync, or with fsync off the completion of the write)
  /// waits `ms` first, on the writer thread: tickets complete later and group commit batches
  /// the flushes queued meanwhile. Also before recover() (the writer starts with it).
  std::string set_fsync_delay(std::uint32_t ms) override;

  /// Blocks until all background work submitted so far (snapshots, handed-over writes, the
  /// segment deletions they allow) is done, or the writer has failed (it does not throw for
  /// that). Staged writes are not handed over: flush() first.
  void wait_idle();
  WalDebugStats debug_stats() const;
  const WalOptions& options() const { return options_; }

 private:
  void require_recovered() const;
  std::vector<std::uint8_t>& records_buffer();
  void reserve_room(std::size_t record_bytes);
  void stage_roll(const Snapshot* install);
  void hand_over(std::uint64_t ticket);
  void on_log_durable(std::uint64_t ticket);
  void wake();

  const WalOptions options_;
  const std::shared_ptr<spdlog::logger> logger_;
  wal::DiskCounters counters_;
  std::atomic<std::uint64_t> durable_ticket_{0};
  std::uint32_t fsync_delay_ms_ = 0;  ///< reactor thread; handed to the writer

  mutable std::mutex wakeup_mu_;
  std::shared_ptr<const std::function<void()>> wakeup_;

  // Reactor-thread state.
  bool recovered_ = false;
  LogIndex last_index_ = 0;      ///< the next append must carry last_index_ + 1
  LogIndex snapshot_index_ = 0;  ///< last index of the newest saved or installed snapshot
  HardState hard_state_;         ///< copied into each new segment
  bool has_hard_state_ = false;
  std::uint64_t active_seq_ = 0;
  std::uint64_t active_bytes_ = 0;   ///< size the active segment will have once staged ops land
  bool active_has_records_ = false;  ///< beyond the records every new segment starts with
  std::vector<wal::WriteOp> staged_;
  std::uint64_t staged_bytes_ = 0;
  std::uint64_t last_ticket_ = 0;

  // Declared last: destroyed first, while everything they call back into still exists.
  std::unique_ptr<wal::LogWriter> writer_;
  std::unique_ptr<wal::SnapshotWriter> snapshots_;
};

}  // namespace quorumlab::storage
