#include "wal/log_writer.hpp"

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <stdexcept>
#include <thread>

#include "wal/format.hpp"
#include "wal/snapshot_file.hpp"

namespace quorumlab::storage::wal {
namespace fs = std::filesystem;

LogWriter::LogWriter(LogWriterOptions options, std::vector<SegmentInfo> segments,
                     std::uint64_t active_end_bytes, DiskCounters& counters, spdlog::logger& logger,
                     std::function<void(std::uint64_t)> on_durable,
                     std::function<void()> on_failure)
    : options_(std::move(options)),
      counters_(counters),
      logger_(logger),
      on_durable_(std::move(on_durable)),
      on_failure_(std::move(on_failure)),
      segments_(segments.begin(), segments.end()),
      active_end_(active_end_bytes),
      segment_count_(segments.size()) {
  if (!segments_.empty()) active_ = File::open(segments_.back().path, O_WRONLY);
  fsync_delay_ms_.store(options_.fsync_delay_ms, std::memory_order_relaxed);
  thread_ = std::thread([this] { run(); });
}

LogWriter::~LogWriter() {
  stop();
}

void LogWriter::submit(std::vector<WriteOp>&& ops, std::uint64_t bytes, std::uint64_t ticket) {
  std::unique_lock lk(mu_);
  // Backpressure: wait until the writer has taken the queue, unless the queue is empty (a
  // batch larger than the bound must still be accepted).
  while (!failure_ && queued_bytes_ > 0 && queued_bytes_ + bytes > options_.max_pending_bytes) {
    ++backpressure_waits_;
    space_cv_.wait(lk);
  }
  if (failure_) throw IoError(*failure_);
  for (WriteOp& op : ops) {
    if (op.kind == WriteOp::Kind::records && !queue_.empty() &&
        queue_.back().kind == WriteOp::Kind::records) {
      WriteOp& tail = queue_.back();
      tail.bytes.insert(tail.bytes.end(), op.bytes.begin(), op.bytes.end());
      tail.max_index = std::max(tail.max_index, op.max_index);
    } else {
      queue_.push_back(std::move(op));
    }
  }
  queued_bytes_ += bytes;
  if (ticket != 0) requested_ticket_ = std::max(requested_ticket_, ticket);
  lk.unlock();
  work_cv_.notify_one();
}

void LogWriter::snapshot_durable(LogIndex index) {
  {
    std::lock_guard lk(mu_);
    durable_snapshot_index_ = std::max(durable_snapshot_index_, index);
    snapshot_notice_ = true;
  }
  work_cv_.notify_one();
}

void LogWriter::wait_idle() {
  std::unique_lock lk(mu_);
  idle_cv_.wait(lk, [&] {
    return failure_ ||
           (!busy_ && queue_.empty() && requested_ticket_ == taken_ticket_ && !snapshot_notice_);
  });
}

void LogWriter::stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  work_cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

std::optional<std::string> LogWriter::failure() const {
  std::lock_guard lk(mu_);
  return failure_;
}

std::uint64_t LogWriter::backpressure_waits() const {
  std::lock_guard lk(mu_);
  return backpressure_waits_;
}

std::size_t LogWriter::segment_count() const {
  return segment_count_.load(std::memory_order_relaxed);
}

void LogWriter::run() {
  std::vector<WriteOp> batch;
  for (;;) {
    std::uint64_t target = 0;
    LogIndex durable_snapshot = 0;
    bool notice = false;
    {
      std::unique_lock lk(mu_);
      work_cv_.wait(lk, [&] {
        return stop_ || !queue_.empty() || requested_ticket_ > taken_ticket_ || snapshot_notice_;
      });
      if (queue_.empty() && requested_ticket_ == taken_ticket_ && !snapshot_notice_) break;
      batch.swap(queue_);
      queued_bytes_ = 0;
      target = requested_ticket_;
      taken_ticket_ = target;
      notice = snapshot_notice_;
      snapshot_notice_ = false;
      durable_snapshot = durable_snapshot_index_;
      busy_ = true;
    }
    space_cv_.notify_all();
    bool snapshots_changed = notice;
    try {
      if (options_.before_write && !batch.empty()) options_.before_write();
      for (WriteOp& op : batch) {
        snapshots_changed |= op.kind == WriteOp::Kind::install;
        execute(op);
      }
      batch.clear();
      sync_if_needed();
      if (target > published_ticket_) {
        published_ticket_ = target;
        on_durable_(target);
      }
      delete_obsolete(durable_snapshot, snapshots_changed);
    } catch (const std::exception& e) {
      logger_.critical("wal: log writer stopped: {}", e.what());
      {
        std::lock_guard lk(mu_);
        failure_ = e.what();
        busy_ = false;
      }
      space_cv_.notify_all();
      idle_cv_.notify_all();
      if (on_failure_) on_failure_();  // the reactor's next storage call throws
      return;
    }
    {
      std::lock_guard lk(mu_);
      busy_ = false;
    }
    idle_cv_.notify_all();
  }
  try {
    sync_if_needed();
  } catch (const std::exception& e) {
    logger_.critical("wal: final fdatasync failed: {}", e.what());
  }
}

void LogWriter::execute(WriteOp& op) {
  switch (op.kind) {
    case WriteOp::Kind::records:
      if (!active_.is_open()) throw std::logic_error("wal: records submitted before any segment");
      active_.pwrite_all(op.bytes.data(), op.bytes.size(), active_end_);
      active_end_ += op.bytes.size();
      counters_.bytes_written.fetch_add(op.bytes.size(), std::memory_order_relaxed);
      segments_.back().max_index = std::max(segments_.back().max_index, op.max_index);
      unsynced_ = true;
      return;
    case WriteOp::Kind::roll:
      start_segment(op);
      return;
    case WriteOp::Kind::install: {
      // Crash-safe order: (1) the snapshot, complete and synced, under a temporary name;
      // (2) the new segment starting with the reset record, synced; (3) the rename. A crash
      // before (2) is durable leaves the old state (recovery removes the temporary file); a
      // crash between (2) and (3) leaves a log that starts at the snapshot, and recovery
      // completes the rename. The snapshot is never visible beside a log that still holds
      // the entries it replaced, and the reset record never refers to a missing snapshot.
      const fs::path tmp =
          write_snapshot_temp(options_.dir, *op.snapshot, kInstallTag, options_.fsync, counters_);
      start_segment(op);
      sync_if_needed();
      publish_snapshot(tmp, op.snapshot->last_index, options_.fsync, counters_);
      remove_snapshots_above(op.snapshot->last_index);
      delete_before_seq_ = op.seq;
      return;
    }
  }
}

void LogWriter::start_segment(const WriteOp& op) {
  // Every segment but the newest is complete on disk: recovery treats damage in an older one
  // as corruption in the middle of the log, not as a torn tail.
  sync_if_needed();
  if (active_.is_open()) active_.close();
  const fs::path path = options_.dir / segment_file_name(op.seq, op.first_index);
  active_ = File::open(path, O_WRONLY | O_CREAT | O_EXCL);
  if (options_.preallocate) active_.allocate(0, options_.segment_bytes);
  active_.pwrite_all(op.bytes.data(), op.bytes.size(), 0);
  active_end_ = op.bytes.size();
  counters_.bytes_written.fetch_add(op.bytes.size(), std::memory_order_relaxed);
  SegmentInfo info;
  info.seq = op.seq;
  info.first_index = op.first_index;
  info.flags = options_.preallocate ? kSegmentFlagPreallocated : 0;
  info.path = path;
  segments_.push_back(std::move(info));
  segment_count_.store(segments_.size(), std::memory_order_relaxed);
  unsynced_ = true;
  dir_dirty_ = true;
}

void LogWriter::sync_if_needed() {
  if (const std::uint32_t delay = fsync_delay_ms_.load(std::memory_order_relaxed);
      delay > 0 && unsynced_ && active_.is_open()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));  // the slow disk's latency
  }
  if (!options_.fsync) {
    unsynced_ = dir_dirty_ = false;
    return;
  }
  if (unsynced_ && active_.is_open()) {
    if (options_.before_fsync) options_.before_fsync();
    active_.datasync();
    counters_.fsyncs.fetch_add(1, std::memory_order_relaxed);
    counters_.log_fdatasyncs.fetch_add(1, std::memory_order_relaxed);
  }
  unsynced_ = false;
  if (dir_dirty_) sync_dir();
}

void LogWriter::sync_dir() {
  if (options_.fsync) {
    fsync_dir(options_.dir);
    counters_.fsyncs.fetch_add(1, std::memory_order_relaxed);
  }
  dir_dirty_ = false;
}

// Runs right after a sync, so the newest segment (which carries a copy of the hard state) is
// durable before anything older disappears. Only a prefix of the segments is deleted, one at a
// time with a directory fsync in between, so the kept seqs stay consecutive after a crash.
void LogWriter::delete_obsolete(LogIndex durable_snapshot_index, bool snapshots_changed) {
  while (segments_.size() > 1) {
    const SegmentInfo& s = segments_.front();
    const bool superseded = s.seq < delete_before_seq_;
    const bool covered = durable_snapshot_index > 0 && s.max_index <= durable_snapshot_index;
    if (!superseded && !covered) break;
    fs::remove(s.path);
    logger_.debug("wal: deleted segment {} (max index {}, snapshot {})", s.path.filename().string(),
                  s.max_index, durable_snapshot_index);
    segments_.pop_front();
    segment_count_.store(segments_.size(), std::memory_order_relaxed);
    sync_dir();
  }
  if (snapshots_changed) prune_snapshots();
}

// An installed snapshot may be older than one this node saved itself. The newer files are
// consistent with it (both hold committed state only), but recovery must return what was
// installed; they go once the install is durable, which it is here.
void LogWriter::remove_snapshots_above(LogIndex index) {
  bool removed = false;
  for (const auto& de : fs::directory_iterator(options_.dir)) {
    auto i = parse_snapshot_file_name(de.path().filename().string());
    if (i && *i > index) {
      fs::remove(de.path());
      logger_.info("wal: removed snapshot {} above the installed one at {}",
                   de.path().filename().string(), index);
      removed = true;
    }
  }
  if (removed) sync_dir();
}

void LogWriter::prune_snapshots() {
  std::map<LogIndex, fs::path> snapshots;
  for (const auto& de : fs::directory_iterator(options_.dir)) {
    if (auto index = parse_snapshot_file_name(de.path().filename().string())) {
      snapshots.emplace(*index, de.path());
    }
  }
  std::size_t excess = snapshots.size() > options_.snapshot_keep + std::size_t{1}
                           ? snapshots.size() - options_.snapshot_keep - 1
                           : 0;
  if (excess == 0) return;
  for (auto it = snapshots.begin(); excess > 0; ++it, --excess) {
    fs::remove(it->second);
    logger_.debug("wal: deleted old snapshot {}", it->second.filename().string());
  }
  sync_dir();
}

}  // namespace quorumlab::storage::wal
