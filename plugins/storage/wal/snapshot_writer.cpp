#include "wal/snapshot_writer.hpp"

#include "wal/snapshot_file.hpp"

namespace quorumlab::storage::wal {

SnapshotWriter::SnapshotWriter(std::filesystem::path dir, bool sync, DiskCounters& counters,
                               spdlog::logger& logger, std::function<void(LogIndex)> on_durable,
                               std::function<void()> before_write)
    : dir_(std::move(dir)),
      sync_(sync),
      counters_(counters),
      logger_(logger),
      on_durable_(std::move(on_durable)),
      before_write_(std::move(before_write)) {
  thread_ = std::thread([this] { run(); });
}

SnapshotWriter::~SnapshotWriter() {
  stop();
}

void SnapshotWriter::submit(Snapshot snapshot) {
  {
    std::lock_guard lk(mu_);
    if (waiting_) {
      logger_.info("wal: snapshot at index {} replaced by a newer one at {} before it was written",
                   waiting_->last_index, snapshot.last_index);
      ++superseded_;
    }
    waiting_ = std::move(snapshot);
  }
  work_cv_.notify_one();
}

void SnapshotWriter::wait_idle() {
  std::unique_lock lk(mu_);
  idle_cv_.wait(lk, [&] { return !busy_ && !waiting_; });
}

void SnapshotWriter::stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  work_cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t SnapshotWriter::superseded() const {
  std::lock_guard lk(mu_);
  return superseded_;
}

std::uint64_t SnapshotWriter::failures() const {
  std::lock_guard lk(mu_);
  return failures_;
}

void SnapshotWriter::run() {
  for (;;) {
    Snapshot snapshot;
    {
      std::unique_lock lk(mu_);
      work_cv_.wait(lk, [&] { return stop_ || waiting_.has_value(); });
      if (!waiting_) break;
      snapshot = std::move(*waiting_);
      waiting_.reset();
      busy_ = true;
    }
    try {
      if (before_write_) before_write_();
      write_snapshot_file(dir_, snapshot, "save", sync_, counters_);
      on_durable_(snapshot.last_index);
    } catch (const std::exception& e) {
      // The log still holds everything, so a failed snapshot loses nothing; it only keeps old
      // segments around until a later snapshot succeeds.
      logger_.error("wal: writing snapshot at index {} failed: {}", snapshot.last_index, e.what());
      std::lock_guard lk(mu_);
      ++failures_;
    }
    {
      std::lock_guard lk(mu_);
      busy_ = false;
    }
    idle_cv_.notify_all();
  }
}

}  // namespace quorumlab::storage::wal
