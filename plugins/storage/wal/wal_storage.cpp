#include "wal/wal_storage.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "wal/format.hpp"
#include "wal/recovery.hpp"

namespace quorumlab::storage {
namespace fs = std::filesystem;
using wal::WriteOp;

namespace {
// Staged records are handed to the writer without a ticket beyond this size, so a long run
// of appends without flush() neither grows the staging buffer without bound nor leaves the
// disk idle.
constexpr std::uint64_t kStageHandOverBytes = std::uint64_t{4} << 20;
}  // namespace

WalStorage::WalStorage(WalOptions options, std::shared_ptr<spdlog::logger> logger)
    : options_(std::move(options)), logger_(std::move(logger)) {
  if (!logger_) throw std::invalid_argument("wal: a logger is required");
  if (options_.dir.empty()) throw std::invalid_argument("wal: no directory given");
  if (options_.segment_bytes < 4096) throw std::invalid_argument("wal: segment_bytes < 4096");
  fsync_delay_ms_ = options_.fsync_delay_ms;
}

WalStorage::~WalStorage() {
  try {
    snapshots_.reset();  // finishes waiting snapshots; they report to the writer
    if (writer_ && !staged_.empty() && !writer_->failure()) hand_over(0);
    writer_.reset();  // writes the queue, fdatasyncs, joins
  } catch (const std::exception& e) {
    logger_->error("wal: error while closing '{}': {}", options_.dir.string(), e.what());
  }
}

StorageRecovery WalStorage::recover() {
  if (recovered_) throw std::logic_error("wal: recover() called twice");
  if (!fs::exists(options_.dir)) {
    fs::create_directories(options_.dir);
    if (options_.fsync) wal::fsync_dir(options_.dir.parent_path());
  }
  wal::WalRecoveryResult r = wal::recover_wal_dir(options_.dir, *logger_, counters_);

  last_index_ = r.last_index;
  snapshot_index_ = r.recovery.snapshot ? r.recovery.snapshot->last_index : 0;
  hard_state_ = r.recovery.hard_state;
  has_hard_state_ = !(hard_state_ == HardState{});

  wal::LogWriterOptions wo;
  wo.dir = options_.dir;
  wo.fsync = options_.fsync;
  wo.segment_bytes = options_.segment_bytes;
  wo.preallocate = options_.preallocate;
  wo.snapshot_keep = options_.snapshot_keep;
  wo.max_pending_bytes = options_.max_pending_bytes;
  wo.fsync_delay_ms = fsync_delay_ms_;
  wo.before_fsync = options_.before_fsync;
  wo.before_write = options_.before_write;
  const bool fresh = r.segments.empty();
  if (!fresh) {
    active_seq_ = r.segments.back().seq;
    active_bytes_ = r.active_end_bytes;
    active_has_records_ = r.active_end_bytes > wal::kSegmentHeaderBytes;
  }
  writer_ = std::make_unique<wal::LogWriter>(
      std::move(wo), std::move(r.segments), r.active_end_bytes, counters_, *logger_,
      [this](std::uint64_t ticket) { on_log_durable(ticket); }, [this] { wake(); });
  snapshots_ = std::make_unique<wal::SnapshotWriter>(
      options_.dir, options_.fsync, counters_, *logger_,
      [this](LogIndex index) { writer_->snapshot_durable(index); }, options_.before_snapshot_write);

  if (fresh) {
    active_seq_ = r.next_seq - 1;
    stage_roll(nullptr);
  } else if (r.needs_reset) {
    // The snapshot is ahead of the log on disk; the next entry follows the snapshot.
    const Snapshot& s = *r.recovery.snapshot;
    reserve_room(wal::kResetRecordBytes);
    wal::append_reset_record(records_buffer(), s.last_index, s.last_epoch, s.last_zxid);
    active_bytes_ += wal::kResetRecordBytes;
    staged_bytes_ += wal::kResetRecordBytes;
  }
  recovered_ = true;
  logger_->info("wal: recovered '{}': snapshot at {}, {} entries, last index {}",
                options_.dir.string(), snapshot_index_, r.recovery.entries.size(), last_index_);
  return std::move(r.recovery);
}

void WalStorage::append(const std::vector<LogEntry>& entries) {
  require_recovered();
  LogIndex expected = last_index_ + 1;
  for (const LogEntry& e : entries) {
    if (e.index != expected) {
      throw std::logic_error("wal: append of index " + std::to_string(e.index) +
                             " does not follow index " + std::to_string(expected - 1));
    }
    if (wal::kEntryFixedBytes + e.data.size() > wal::kMaxRecordPayloadBytes) {
      throw std::length_error("wal: entry " + std::to_string(e.index) + " has " +
                              std::to_string(e.data.size()) +
                              " data bytes, more than a record holds");
    }
    ++expected;
  }
  for (const LogEntry& e : entries) {
    const std::size_t n = wal::entry_record_bytes(e);
    reserve_room(n);
    wal::append_entry_record(records_buffer(), e);
    staged_.back().max_index = e.index;
    last_index_ = e.index;  // before the next roll, which starts at last_index_ + 1
    active_bytes_ += n;
    staged_bytes_ += n;
    active_has_records_ = true;
  }
  counters_.entries_appended.fetch_add(entries.size(), std::memory_order_relaxed);
  if (staged_bytes_ >= kStageHandOverBytes) hand_over(0);
}

void WalStorage::truncate_after(LogIndex index) {
  require_recovered();
  if (index < snapshot_index_) {
    throw std::logic_error("wal: truncate_after(" + std::to_string(index) +
                           ") reaches below the snapshot at index " +
                           std::to_string(snapshot_index_));
  }
  if (index >= last_index_) return;  // nothing to drop
  reserve_room(wal::kTruncateRecordBytes);
  wal::append_truncate_record(records_buffer(), index);
  active_bytes_ += wal::kTruncateRecordBytes;
  staged_bytes_ += wal::kTruncateRecordBytes;
  active_has_records_ = true;
  last_index_ = index;
}

void WalStorage::save_hard_state(const HardState& state) {
  require_recovered();
  const std::size_t n = wal::hard_state_record_bytes(state);
  if (n - wal::kRecordOverheadBytes > wal::kMaxRecordPayloadBytes) {
    throw std::length_error("wal: hard state too large");
  }
  hard_state_ = state;  // before a roll, so that the new segment's copy is this state
  has_hard_state_ = true;
  if (active_has_records_ && active_bytes_ + n > options_.segment_bytes) {
    stage_roll(nullptr);  // the new segment starts with a copy of `state`: nothing more to do
    return;
  }
  wal::append_hard_state_record(records_buffer(), state);
  active_bytes_ += n;
  staged_bytes_ += n;
  active_has_records_ = true;
}

std::string WalStorage::set_fsync_delay(std::uint32_t ms) {
  fsync_delay_ms_ = ms;
  if (writer_) writer_->set_fsync_delay(ms);
  return "";
}

std::uint64_t WalStorage::flush() {
  require_recovered();
  const std::uint64_t ticket = ++last_ticket_;
  // Without fsync the writer thread completes the ticket once the bytes are written to the
  // file (the page cache): an acknowledged write survives a crash of the process, as with
  // ZooKeeper's forceSync=no, and only a crash of the machine can lose it. (Completing it here,
  // before the write, lost acknowledged writes to a kill -9.)
  hand_over(ticket);
  return ticket;
}

std::uint64_t WalStorage::durable_ticket() const {
  return durable_ticket_.load(std::memory_order_acquire);
}

void WalStorage::set_wakeup(std::function<void()> wakeup) {
  auto fn = std::make_shared<const std::function<void()>>(std::move(wakeup));
  std::lock_guard lk(wakeup_mu_);
  wakeup_ = std::move(fn);
}

void WalStorage::save_snapshot(Snapshot snapshot) {
  require_recovered();
  if (snapshot.last_index <= snapshot_index_) {
    logger_->debug("wal: ignored snapshot at {}: not newer than the one at {}", snapshot.last_index,
                   snapshot_index_);
    return;
  }
  if (snapshot.last_index > last_index_) {
    // Written in the background, such a snapshot could leave a hole between the log on disk
    // and a later append if the process stopped first; in order with the log it cannot.
    install_snapshot(snapshot);
    return;
  }
  snapshot_index_ = snapshot.last_index;
  snapshots_->submit(std::move(snapshot));
}

void WalStorage::install_snapshot(const Snapshot& snapshot) {
  require_recovered();
  last_index_ = snapshot.last_index;
  snapshot_index_ = snapshot.last_index;
  stage_roll(&snapshot);
}

StorageStats WalStorage::stats() const {
  StorageStats s;
  s.fsyncs = counters_.fsyncs.load(std::memory_order_relaxed);
  s.bytes_written = counters_.bytes_written.load(std::memory_order_relaxed);
  s.entries_appended = counters_.entries_appended.load(std::memory_order_relaxed);
  s.snapshots_written = counters_.snapshots_written.load(std::memory_order_relaxed);
  return s;
}

void WalStorage::wait_idle() {
  if (!recovered_) throw std::logic_error("wal: recover() must be called first");
  snapshots_->wait_idle();
  writer_->wait_idle();
}

WalDebugStats WalStorage::debug_stats() const {
  WalDebugStats d;
  d.log_fdatasyncs = counters_.log_fdatasyncs.load(std::memory_order_relaxed);
  if (writer_) {
    d.backpressure_waits = writer_->backpressure_waits();
    d.segments = writer_->segment_count();
  }
  if (snapshots_) {
    d.snapshots_superseded = snapshots_->superseded();
    d.snapshot_failures = snapshots_->failures();
  }
  return d;
}

void WalStorage::require_recovered() const {
  if (!recovered_) throw std::logic_error("wal: recover() must be called first");
  if (auto failure = writer_->failure()) throw wal::IoError("wal: storage failed: " + *failure);
}

std::vector<std::uint8_t>& WalStorage::records_buffer() {
  if (staged_.empty() || staged_.back().kind != WriteOp::Kind::records) {
    staged_.emplace_back();
  }
  return staged_.back().bytes;
}

void WalStorage::reserve_room(std::size_t record_bytes) {
  // A record larger than a segment gets a segment of its own rather than no segment at all.
  if (active_has_records_ && active_bytes_ + record_bytes > options_.segment_bytes) {
    stage_roll(nullptr);
  }
}

void WalStorage::stage_roll(const Snapshot* install) {
  WriteOp op;
  op.kind = install ? WriteOp::Kind::install : WriteOp::Kind::roll;
  op.seq = ++active_seq_;
  op.first_index = last_index_ + 1;
  wal::SegmentHeader h;
  h.seq = op.seq;
  h.first_index = op.first_index;
  h.flags = options_.preallocate ? wal::kSegmentFlagPreallocated : 0;
  wal::append_segment_header(op.bytes, h);
  if (install) {
    wal::append_reset_record(op.bytes, install->last_index, install->last_epoch,
                             install->last_zxid);
    op.snapshot = std::make_shared<const Snapshot>(*install);
  }
  // Every segment starts with the current hard state, so deleting older segments never loses it.
  if (has_hard_state_) wal::append_hard_state_record(op.bytes, hard_state_);
  active_bytes_ = op.bytes.size();
  active_has_records_ = false;
  staged_bytes_ += op.bytes.size() + (install ? install->data.size() : 0);
  staged_.push_back(std::move(op));
}

void WalStorage::hand_over(std::uint64_t ticket) {
  std::vector<WriteOp> ops;
  ops.swap(staged_);
  const std::uint64_t bytes = staged_bytes_;
  staged_bytes_ = 0;
  writer_->submit(std::move(ops), bytes, ticket);
}

void WalStorage::on_log_durable(std::uint64_t ticket) {
  durable_ticket_.store(ticket, std::memory_order_release);
  wake();
}

void WalStorage::wake() {
  std::shared_ptr<const std::function<void()>> fn;
  {
    std::lock_guard lk(wakeup_mu_);
    fn = wakeup_;
  }
  if (fn && *fn) (*fn)();
}

}  // namespace quorumlab::storage
