// The WAL's I/O thread: writes queued records to segment files and makes them durable with one
// fdatasync per batch (group commit).
//
// The reactor thread encodes records and decides where segments roll; it hands the resulting
// operations over with `submit()`. This thread is the only one that writes segment files, so
// a ticket is reported durable only after the fdatasync that followed the write of every
// operation submitted with or before it. While one fdatasync runs, everything submitted meanwhile
// waits and goes out together in the next one.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "quorumlab/plugin/broadcast.hpp"
#include "wal/io.hpp"
#include "wal/recovery.hpp"

namespace quorumlab::storage::wal {

/// One operation for the writer, executed in submission order.
struct WriteOp {
  enum class Kind : std::uint8_t {
    records,  ///< append `bytes` (whole records) to the current segment
    roll,     ///< fdatasync the current segment, then start segment `seq` with `bytes`
    install,  ///< write `snapshot` durably, then roll; segments before `seq` become obsolete
  };
  Kind kind = Kind::records;
  Bytes bytes;               ///< records, or header + initial records of the new segment
  LogIndex max_index = 0;    ///< records: highest entry index in `bytes` (0 when none)
  std::uint64_t seq = 0;     ///< roll, install
  LogIndex first_index = 0;  ///< roll, install
  std::shared_ptr<const Snapshot> snapshot;  ///< install
};

struct LogWriterOptions {
  std::filesystem::path dir;
  bool fsync = true;                ///< false: never fdatasync (tickets complete once written)
  std::uint64_t segment_bytes = 0;  ///< preallocation size
  bool preallocate = false;
  std::uint32_t snapshot_keep = 2;      ///< older snapshot files kept besides the newest
  std::uint64_t max_pending_bytes = 0;  ///< submit() blocks while more than this is queued
  std::function<void()> before_fsync;   ///< test hook, called on this thread before each
                                        ///< fdatasync of a segment
  std::function<void()> before_write;   ///< test hook, called on this thread before it writes
                                        ///< a batch of staged operations
  std::uint32_t fsync_delay_ms = 0;     ///< initial set_fsync_delay()
};

class LogWriter {
 public:
  /// `segments` are the kept segments after recovery (appends continue at `active_end_bytes`
  /// of the last one; empty: the first submitted op must be a roll). `on_durable(ticket)` is
  /// called on this thread after each fdatasync that completes a ticket; `on_failure()` once,
  /// after an I/O error stopped the writer.
  LogWriter(LogWriterOptions options, std::vector<SegmentInfo> segments,
            std::uint64_t active_end_bytes, DiskCounters& counters, spdlog::logger& logger,
            std::function<void(std::uint64_t)> on_durable, std::function<void()> on_failure);
  /// Calls stop().
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  /// Queues `ops` (`bytes` is their total size, for the bound). When `ticket` is nonzero it
  /// becomes durable once every op submitted so far is on stable storage. Blocks while the
  /// queue holds more than max_pending_bytes (backpressure). Throws IoError if the writer has
  /// failed.
  void submit(std::vector<WriteOp>&& ops, std::uint64_t bytes, std::uint64_t ticket);

  /// A snapshot with this last index is durable: segments wholly at or below it may go.
  /// Called by the snapshot thread.
  void snapshot_durable(LogIndex index);

  /// Blocks until everything submitted so far is written, synced and cleaned up (or failed).
  void wait_idle();

  /// Finishes the queued work (including a final fdatasync) and joins the thread.
  void stop();

  /// Set once an I/O error stopped the writer; nothing becomes durable after that.
  std::optional<std::string> failure() const;

  /// A slow disk (fault injection): each later sync of written log records (an fdatasync, or
  /// with fsync off the completion of the write) waits `ms` first. Any thread.
  void set_fsync_delay(std::uint32_t ms) { fsync_delay_ms_.store(ms, std::memory_order_relaxed); }

  std::uint64_t backpressure_waits() const;
  std::size_t segment_count() const;

 private:
  void run();
  void execute(WriteOp& op);
  void start_segment(const WriteOp& op);
  void sync_if_needed();
  void delete_obsolete(LogIndex durable_snapshot_index, bool snapshots_changed);
  void prune_snapshots();
  void remove_snapshots_above(LogIndex index);
  void sync_dir();

  // Immutable after construction.
  const LogWriterOptions options_;
  DiskCounters& counters_;
  spdlog::logger& logger_;
  const std::function<void(std::uint64_t)> on_durable_;
  std::atomic<std::uint32_t> fsync_delay_ms_{0};
  const std::function<void()> on_failure_;

  // Owned by the writer thread.
  std::deque<SegmentInfo> segments_;
  File active_;
  std::uint64_t active_end_ = 0;
  bool unsynced_ = false;   ///< bytes written since the last fdatasync
  bool dir_dirty_ = false;  ///< a file was created since the last directory fsync
  std::uint64_t delete_before_seq_ = 0;
  std::uint64_t published_ticket_ = 0;

  // Shared, guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable work_cv_;   ///< writer waits for work
  std::condition_variable space_cv_;  ///< submitters wait for queue space
  std::condition_variable idle_cv_;   ///< wait_idle waits
  std::vector<WriteOp> queue_;
  std::uint64_t queued_bytes_ = 0;
  std::uint64_t requested_ticket_ = 0;
  std::uint64_t taken_ticket_ = 0;
  LogIndex durable_snapshot_index_ = 0;
  bool snapshot_notice_ = false;
  bool busy_ = false;
  bool stop_ = false;
  std::optional<std::string> failure_;
  std::uint64_t backpressure_waits_ = 0;

  std::atomic<std::size_t> segment_count_{0};  ///< segments_.size(), for debug_stats()

  std::thread thread_;  // last: starts after everything above is initialised
};

}  // namespace quorumlab::storage::wal
