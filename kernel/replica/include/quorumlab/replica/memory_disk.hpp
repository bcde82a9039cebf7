// The one in-memory disk model of the project, used by the simulator, the scripted test network
// and tests: DiskImage is what survives a crash, MemoryDisk the storage plugin a replica runs on
// top of it.
//
// Every write (append, truncate, hard state, snapshot) is volatile until an fsync that started
// after it completes. An fsync takes a simulated delay; flushes requested while one runs are
// batched into the next (group commit, as the `wal` plugin does). A crash loses every volatile
// write (or, when the simulator says so, keeps a random prefix of them: data may reach the disk
// without an fsync). A restart recovers exactly what the disk holds.
//
// MemoryDisk does no I/O and keeps no clock: it asks its owner to schedule an fsync
// (`start_fsync`) and is told when that fsync completed (`fsync_done`). The simulator delays the
// completion by a simulated fsync time; the scripted network completes it when the test says so
// (or at once).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "quorumlab/plugin/storage.hpp"
#include "quorumlab/rng.hpp"

namespace quorumlab::replica {

/// The durable state of one replica's disk. Owned by the simulator, outlives node crashes.
struct DiskImage {
  HardState hard_state;
  std::optional<Snapshot> snapshot;
  std::vector<LogEntry> entries;  ///< after the snapshot, dense by index
  std::uint64_t fsyncs = 0;
  std::uint64_t ops_lost_in_crashes = 0;

  LogIndex last_index() const {
    if (!entries.empty()) return entries.back().index;
    return snapshot ? snapshot->last_index : 0;
  }
};

class MemoryDisk final : public Storage {
 public:
  /// `start_fsync` is called whenever an fsync should begin; the owner later calls
  /// fsync_done() exactly once for it (unless the node crashes first).
  /// `ack_before_durable` is the test-only lying disk (the simulator's TestFaults).
  MemoryDisk(DiskImage& disk, std::function<void()> start_fsync, bool ack_before_durable = false);

  // Storage
  StorageRecovery recover() override;
  void append(const std::vector<LogEntry>& entries) override;
  void truncate_after(LogIndex index) override;
  void save_hard_state(const HardState& state) override;
  std::uint64_t flush() override;
  std::uint64_t durable_ticket() const override;
  void set_wakeup(std::function<void()> wakeup) override { wakeup_ = std::move(wakeup); }
  void save_snapshot(Snapshot snapshot) override;
  void install_snapshot(const Snapshot& snapshot) override;
  StorageStats stats() const override { return stats_; }

  /// The fsync started by the last start_fsync call completed: everything submitted before it
  /// started is now on the disk. May start the next fsync.
  void fsync_done();
  /// The node crashed. Volatile writes are lost, except that with probability
  /// `prefix_survives_chance` a random prefix of them (in submission order) reached the disk.
  void crash(Rng& rng, double prefix_survives_chance);

  bool fsync_running() const { return fsync_running_; }
  /// Flush tickets issued and not yet durable.
  std::uint64_t tickets_waiting() const { return issued_ticket_ - durable_ticket_; }
  std::size_t volatile_ops() const { return ops_.size(); }
  /// Log bytes (entry data) the running fsync writes (the simulator's disk bandwidth model).
  std::size_t inflight_bytes() const;

 private:
  struct Op {
    enum class Kind : std::uint8_t { append, truncate, hard_state, snapshot, install };
    Kind kind = Kind::append;
    std::vector<LogEntry> entries;
    LogIndex index = 0;
    HardState hard_state;
    std::optional<Snapshot> snapshot;
  };
  void submit(Op op);
  void start();
  void apply(Op& op);

  DiskImage& disk_;
  std::function<void()> start_fsync_;
  std::function<void()> wakeup_;
  bool ack_before_durable_ = false;

  std::deque<Op> ops_;               ///< volatile writes, oldest first
  LogIndex last_index_ = 0;          ///< last appended index (volatile view)
  std::uint64_t issued_ticket_ = 0;  ///< last ticket returned by flush()
  std::uint64_t durable_ticket_ = 0;
  bool fsync_running_ = false;
  bool fsync_wanted_ = false;     ///< a flush or snapshot arrived while one ran
  std::size_t inflight_ops_ = 0;  ///< ops_ prefix covered by the running fsync
  std::uint64_t inflight_ticket_ = 0;
  StorageStats stats_;
};

}  // namespace quorumlab::replica
