// The WAL's snapshot thread: writes snapshots saved by the kernel in the background, so that a
// large snapshot does not hold up group commit on the log.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include <spdlog/logger.h>

#include "quorumlab/plugin/broadcast.hpp"
#include "wal/io.hpp"

namespace quorumlab::storage::wal {

class SnapshotWriter {
 public:
  /// `on_durable(last_index)` is called on the snapshot thread after each snapshot file is
  /// durable. `before_write` is a test hook called on that thread before each write.
  /// `sync` false leaves out the fsyncs (the `fsync = false` mode).
  SnapshotWriter(std::filesystem::path dir, bool sync, DiskCounters& counters,
                 spdlog::logger& logger, std::function<void(LogIndex)> on_durable,
                 std::function<void()> before_write);
  /// Calls stop().
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  /// Queues a snapshot. At most kMaxWaiting snapshots wait while one is written: a newer one
  /// replaces a waiting older one (ZooKeeper's "too busy to snap", keeping the newest).
  void submit(Snapshot snapshot);

  /// Blocks until no snapshot is waiting or being written.
  void wait_idle();

  /// Writes what is waiting, then joins the thread.
  void stop();

  std::uint64_t superseded() const;  ///< snapshots replaced while waiting
  std::uint64_t failures() const;    ///< snapshots whose write failed (logged)

  static constexpr std::size_t kMaxWaiting = 1;

 private:
  void run();

  const std::filesystem::path dir_;
  const bool sync_;
  DiskCounters& counters_;
  spdlog::logger& logger_;
  const std::function<void(LogIndex)> on_durable_;
  const std::function<void()> before_write_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::optional<Snapshot> waiting_;
  bool busy_ = false;
  bool stop_ = false;
  std::uint64_t superseded_ = 0;
  std::uint64_t failures_ = 0;

  std::thread thread_;  // last: starts after everything above is initialised
};

}  // namespace quorumlab::storage::wal
