// WalStorage behaviour through the Storage interface: round trips, truncation, hard state,
// group commit, snapshots, segment rollover, fsync off, backpressure, the fsync delay fault.
#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "test_util.hpp"
#include "wal/wal_storage.hpp"

namespace quorumlab::storage {
namespace {

using test::DurableWaiter;
using test::EventCounter;
using test::Latch;
using test::make_entries;
using test::make_entry;
using test::same_entry;
using test::TempDir;

void expect_entries(const std::vector<LogEntry>& got, const std::vector<LogEntry>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(same_entry(got[i], want[i])) << "entry " << i << " index " << got[i].index;
  }
}

/// Appends, flushes and waits until durable.
void append_durably(WalStorage& wal, DurableWaiter& waiter, const std::vector<LogEntry>& entries) {
  wal.append(entries);
  ASSERT_TRUE(waiter.wait(wal.flush()));
}

StorageRecovery reopen(const WalOptions& o) {
  WalStorage wal(o, test::quiet_logger());
  return wal.recover();
}

TEST(WalStorage, FreshDirectoryRecoversEmpty) {
  TempDir dir;
  WalStorage wal(test::options_for(dir), test::quiet_logger());
  StorageRecovery r = wal.recover();
  EXPECT_TRUE(r.entries.empty());
  EXPECT_FALSE(r.snapshot);
  EXPECT_EQ(r.hard_state, HardState{});
  EXPECT_TRUE(r.notes.empty()) << test::all_notes(r);
  EXPECT_TRUE(std::filesystem::is_directory(dir.wal()));
}

TEST(WalStorage, AppendFlushRecoverRoundTrip) {
  TempDir dir;
  std::vector<LogEntry> all;
  for (LogIndex i = 1; i <= 200; ++i)
    all.push_back(make_entry(i, 1 + i / 50, (i * 37) % 3000));
  {
    WalStorage wal(test::options_for(dir), test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    append_durably(wal, waiter, {all.begin(), all.begin() + 120});
    append_durably(wal, waiter, {all.begin() + 120, all.end()});
    EXPECT_EQ(wal.stats().entries_appended, 200u);
    EXPECT_GE(wal.stats().fsyncs, 2u);
    EXPECT_GT(wal.stats().bytes_written, 200u * 36);
  }
  StorageRecovery r = reopen(test::options_for(dir));
  EXPECT_TRUE(r.notes.empty()) << test::all_notes(r);
  expect_entries(r.entries, all);
}

TEST(WalStorage, RecoveryContinuesWhereTheLogEnds) {
  TempDir dir;
  for (int round = 0; round < 3; ++round) {
    WalStorage wal(test::options_for(dir), test::quiet_logger());
    StorageRecovery r = wal.recover();
    ASSERT_EQ(r.entries.size(), static_cast<std::size_t>(round * 10));
    DurableWaiter waiter(wal);
    const LogIndex first = static_cast<LogIndex>(round * 10 + 1);
    append_durably(wal, waiter, make_entries(first, first + 9));
  }
  expect_entries(reopen(test::options_for(dir)).entries, make_entries(1, 30));
}

TEST(WalStorage, PreconditionsAreChecked) {
  TempDir dir;
  WalStorage wal(test::options_for(dir), test::quiet_logger());
  EXPECT_THROW(wal.append(make_entries(1, 1)), std::logic_error);  // before recover()
  wal.recover();
  EXPECT_THROW(wal.recover(), std::logic_error);
  EXPECT_THROW(wal.append(make_entries(2, 3)), std::logic_error);  // gap at the start
  std::vector<LogEntry> holey = make_entries(1, 3);
  holey[2].index = 4;
  EXPECT_THROW(wal.append(holey), std::logic_error);  // gap inside: nothing is appended
  wal.append(make_entries(1, 3));
  EXPECT_THROW(wal.append(make_entries(3, 3)), std::logic_error);  // repeat
  EXPECT_EQ(wal.stats().entries_appended, 3u);
}

TEST(WalStorage, TruncateThenAppendThenRecover) {
  TempDir dir;
  {
    WalStorage wal(test::options_for(dir), test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    append_durably(wal, waiter, make_entries(1, 10, 1));
    wal.truncate_after(5);
    wal.append(make_entries(6, 8, 2));
    ASSERT_TRUE(waiter.wait(wal.flush()));
    wal.truncate_after(100);  // beyond the end: nothing to drop
    wal.append(make_entries(9, 9, 2));
    ASSERT_TRUE(waiter.wait(wal.flush()));
  }
  std::vector<LogEntry> want = make_entries(1, 5, 1);
  for (auto& e : make_entries(6, 9, 2))
    want.push_back(e);
  StorageRecovery r = reopen(test::options_for(dir));
  EXPECT_TRUE(r.notes.empty()) << test::all_notes(r);
  expect_entries(r.entries, want);
}

// Truncation across segment boundaries, then more segments: the seq in the file name keeps
// the replay order even though the newer segments start at lower indexes.
TEST(WalStorage, TruncateAcrossSegmentsThenRestartAndAppend) {
  TempDir dir;
  WalOptions o = test::options_for(dir);
  o.segment_bytes = 4096;
  {
    WalStorage wal(o, test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    append_durably(wal, waiter, make_entries(1, 100, 1, 200));
    ASSERT_GT(test::segment_files(dir.wal()).size(), 4u);
    wal.truncate_after(10);
    append_durably(wal, waiter, make_entries(11, 60, 2, 200));
  }
  {
    WalStorage wal(o, test::quiet_logger());
    StorageRecovery r = wal.recover();
    std::vector<LogEntry> want = make_entries(1, 10, 1, 200);
    for (auto& e : make_entries(11, 60, 2, 200))
      want.push_back(e);
    expect_entries(r.entries, want);
    DurableWaiter waiter(wal);
    wal.truncate_after(30);
    append_durably(wal, waiter, make_entries(31, 40, 3, 200));
  }
  std::vector<LogEntry> want = make_entries(1, 10, 1, 200);
  for (auto& e : make_entries(11, 30, 2, 200))
    want.push_back(e);
  for (auto& e : make_entries(31, 40, 3, 200))
    want.push_back(e);
  StorageRecovery r = reopen(o);
  EXPECT_TRUE(r.notes.empty()) << test::all_notes(r);
  expect_entries(r.entries, want);
}

TEST(WalStorage, HardStateSurvivesAndTheLatestWins) {
  TempDir dir;
  HardState hs;
  hs.term = 7;
  hs.vote = 2;
  hs.plugin_data = {0xde, 0xad};
  {
    WalStorage wal(test::options_for(dir), test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    HardState old;
    old.term = 1;
    wal.save_hard_state(old);
    wal.append(make_entries(1, 3));
    wal.save_hard_state(hs);
    ASSERT_TRUE(waiter.wait(wal.flush()));
  }
  StorageRecovery r = reopen(test::options_for(dir));
  EXPECT_EQ(r.hard_state, hs);
  EXPECT_EQ(r.entries.size(), 3u);
}

// The hard state was saved once, long ago; its segment is deleted after a snapshot. The copy
// that starts every segment keeps it.
TEST(WalStorage, HardStateSurvivesDeletionOfItsSegment) {
  TempDir dir;
  WalOptions o = test::options_for(dir);
  o.segment_bytes = 4096;
  HardState hs;
  hs.term = 3;
  hs.vote = 1;
  {
    WalStorage wal(o, test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    wal.save_hard_state(hs);
    append_durably(wal, waiter, make_entries(1, 100, 1, 200));
    wal.save_snapshot(Snapshot{90, 1, 90, {1, 2, 3}});
    wal.wait_idle();
    const auto first =
        wal::parse_segment_file_name(test::segment_files(dir.wal()).front().filename().string());
    EXPECT_GT(first->first, 1u) << "the segment holding the hard-state record is gone";
  }
  StorageRecovery r = reopen(o);
  EXPECT_EQ(r.hard_state, hs);
  ASSERT_TRUE(r.snapshot);
  EXPECT_EQ(r.snapshot->last_index, 90u);
  expect_entries(r.entries, make_entries(91, 100, 1, 200));
}

// Group commit, made deterministic: the first fdatasync blocks in the test hook until the
// test has queued ten more flushes; all ten must then go out in one fdatasync.
TEST(WalStorage, GroupCommitBatchesFlushesQueuedDuringAnFsync) {
  TempDir dir;
  EventCounter fsync_entered;
  Latch release;
  WalOptions o = test::options_for(dir);
  o.before_fsync = [&] {
    fsync_entered.hit();
    if (fsync_entered.count() == 1) release.wait();
  };
  WalStorage wal(o, test::quiet_logger());
  wal.recover();
  DurableWaiter waiter(wal);
  const std::uint64_t syncs_before = wal.debug_stats().log_fdatasyncs;

  wal.append(make_entries(1, 1));
  const std::uint64_t first = wal.flush();
  ASSERT_TRUE(fsync_entered.wait_for_count(1));
  std::uint64_t last = first;
  for (LogIndex i = 2; i <= 11; ++i) {
    wal.append(make_entries(i, i));
    last = wal.flush();
    EXPECT_LT(wal.durable_ticket(), first);  // nothing completes while the fsync is held
  }
  release.open();
  ASSERT_TRUE(waiter.wait(last));
  EXPECT_EQ(last - first, 10u);
  EXPECT_EQ(wal.debug_stats().log_fdatasyncs - syncs_before, 2u);  // 11 flushes, 2 fdatasyncs
  EXPECT_EQ(fsync_entered.count(), 2u);
  EXPECT_GE(waiter.wakeups(), 2u);
}

TEST(WalStorage, AnFsyncDelayHoldsEachTicketAndGroupCommitBatchesWhatQueuesMeanwhile) {
  for (const bool fsync : {true, false}) {
    TempDir dir;
    WalOptions o = test::options_for(dir);
    o.fsync = fsync;
    WalStorage wal(o, test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    EXPECT_EQ(wal.set_fsync_delay(60), "");  // a slow disk, set on the running storage
    const auto start = std::chrono::steady_clock::now();
    wal.append(make_entries(1, 1));
    const std::uint64_t first = wal.flush();
    std::uint64_t last = first;
    for (LogIndex i = 2; i <= 11; ++i) {  // queued while the first sync waits
      wal.append(make_entries(i, i));
      last = wal.flush();
    }
    ASSERT_TRUE(waiter.wait(last));
    const auto took = std::chrono::steady_clock::now() - start;
    // The first sync waited 60 ms; the other ten flushes share one or a few later syncs.
    EXPECT_GE(took, std::chrono::milliseconds(60)) << "fsync " << fsync;
    EXPECT_LT(took, std::chrono::milliseconds(11 * 60)) << "fsync " << fsync;
    EXPECT_EQ(wal.set_fsync_delay(0), "");  // cleared: the next ticket is not held
    wal.append(make_entries(12, 12));
    ASSERT_TRUE(waiter.wait(wal.flush()));
  }
}

TEST(WalStorage, TicketsIncreaseAndEmptyFlushCompletes) {
  TempDir dir;
  WalStorage wal(test::options_for(dir), test::quiet_logger());
  wal.recover();
  DurableWaiter waiter(wal);
  const std::uint64_t a = wal.flush();
  const std::uint64_t b = wal.flush();
  EXPECT_LT(a, b);
  ASSERT_TRUE(waiter.wait(b));
  EXPECT_GE(wal.durable_ticket(), b);
}

TEST(WalStorage, SnapshotDeletesCoveredSegmentsAndRecoveryUsesIt) {
  TempDir dir;
  WalOptions o = test::options_for(dir);
  o.segment_bytes = 4096;
  const Snapshot snap{150, 2, 0x200000096, Bytes(5000, 0x5a)};
  {
    WalStorage wal(o, test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    append_durably(wal, waiter, make_entries(1, 200, 2, 200));
    const auto before = test::segment_files(dir.wal());
    ASSERT_GT(before.size(), 8u);
    wal.save_snapshot(snap);
    wal.wait_idle();
    EXPECT_EQ(wal.stats().snapshots_written, 1u);
    const auto after = test::segment_files(dir.wal());
    EXPECT_LT(after.size(), before.size());
    // Every kept segment holds an entry above the snapshot: the first kept one starts at or
    // below 151 and the one before it (deleted) ended at or below 150.
    const auto first_kept = wal::parse_segment_file_name(after.front().filename().string());
    EXPECT_LE(first_kept->second, 151u);
    EXPECT_GT(first_kept->second, 100u);
    EXPECT_TRUE(std::filesystem::exists(dir.wal() / wal::snapshot_file_name(150)));
    wal.append(make_entries(201, 210, 2, 200));
    ASSERT_TRUE(waiter.wait(wal.flush()));
  }
  StorageRecovery r = reopen(o);
  EXPECT_TRUE(r.notes.empty()) << test::all_notes(r);
  ASSERT_TRUE(r.snapshot);
  EXPECT_EQ(r.snapshot->last_index, snap.last_index);
  EXPECT_EQ(r.snapshot->last_epoch, snap.last_epoch);
  EXPECT_EQ(r.snapshot->last_zxid, snap.last_zxid);
  EXPECT_EQ(r.snapshot->data, snap.data);
  expect_entries(r.entries, make_entries(151, 210, 2, 200));
}

TEST(WalStorage, OldSnapshotsArePrunedBeyondSnapshotKeep) {
  TempDir dir;
  WalOptions o = test::options_for(dir);
  o.snapshot_keep = 2;
  WalStorage wal(o, test::quiet_logger());
  wal.recover();
  DurableWaiter waiter(wal);
  append_durably(wal, waiter, make_entries(1, 50));
  for (LogIndex s = 10; s <= 50; s += 10) {
    wal.save_snapshot(Snapshot{s, 1, s, Bytes(10, static_cast<std::uint8_t>(s))});
    wal.wait_idle();
  }
  wal.save_snapshot(Snapshot{30, 1, 30, {}});  // older than the newest: ignored
  wal.wait_idle();
  EXPECT_EQ(wal.stats().snapshots_written, 5u);
  const auto snaps = test::files_ending(dir.wal(), ".snap");
  ASSERT_EQ(snaps.size(), 3u);
  EXPECT_EQ(snaps[0].filename(), wal::snapshot_file_name(30));
  EXPECT_EQ(snaps[2].filename(), wal::snapshot_file_name(50));
  EXPECT_THROW(wal.truncate_after(49), std::logic_error);  // below the snapshot: committed
}

// A newer snapshot replaces one still waiting for the snapshot thread.
TEST(WalStorage, WaitingSnapshotIsReplacedByANewerOne) {
  TempDir dir;
  EventCounter writes;
  Latch release;
  WalOptions o = test::options_for(dir);
  o.before_snapshot_write = [&] {
    writes.hit();
    if (writes.count() == 1) release.wait();
  };
  WalStorage wal(o, test::quiet_logger());
  wal.recover();
  DurableWaiter waiter(wal);
  append_durably(wal, waiter, make_entries(1, 30));
  wal.save_snapshot(Snapshot{10, 1, 10, {}});
  ASSERT_TRUE(writes.wait_for_count(1));       // 10 is being written, blocked
  wal.save_snapshot(Snapshot{20, 1, 20, {}});  // waits
  wal.save_snapshot(Snapshot{30, 1, 30, {}});  // replaces 20
  release.open();
  wal.wait_idle();
  EXPECT_EQ(wal.debug_stats().snapshots_superseded, 1u);
  EXPECT_TRUE(std::filesystem::exists(dir.wal() / wal::snapshot_file_name(10)));
  EXPECT_FALSE(std::filesystem::exists(dir.wal() / wal::snapshot_file_name(20)));
  EXPECT_TRUE(std::filesystem::exists(dir.wal() / wal::snapshot_file_name(30)));
}

TEST(WalStorage, InstallSnapshotReplacesTheLog) {
  TempDir dir;
  WalOptions o = test::options_for(dir);
  o.segment_bytes = 4096;
  const Snapshot snap{500, 4, 0x4000001f4, Bytes(3000, 0x11)};
  {
    WalStorage wal(o, test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    append_durably(wal, waiter, make_entries(1, 80, 1, 200));
    wal.append(make_entries(81, 90, 1, 200));  // not yet flushed: dropped as well
    wal.install_snapshot(snap);
    EXPECT_THROW(wal.append(make_entries(91, 91)), std::logic_error);
    wal.append(make_entries(501, 505, 4, 200));
    ASSERT_TRUE(waiter.wait(wal.flush()));
    wal.wait_idle();
    EXPECT_EQ(test::segment_files(dir.wal()).size(), 1u);  // the older ones are superseded
    EXPECT_EQ(wal.stats().snapshots_written, 1u);
  }
  StorageRecovery r = reopen(o);
  EXPECT_TRUE(r.notes.empty()) << test::all_notes(r);
  ASSERT_TRUE(r.snapshot);
  EXPECT_EQ(r.snapshot->last_index, 500u);
  EXPECT_EQ(r.snapshot->data, snap.data);
  expect_entries(r.entries, make_entries(501, 505, 4, 200));
}

// A process that stops after install_snapshot's flush but before appending recovers the
// snapshot with an empty log and continues after it.
TEST(WalStorage, InstallSnapshotThenRestartContinuesAfterIt) {
  TempDir dir;
  {
    WalStorage wal(test::options_for(dir), test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    append_durably(wal, waiter, make_entries(1, 10));
    wal.install_snapshot(Snapshot{40, 2, 40, {1}});
    ASSERT_TRUE(waiter.wait(wal.flush()));
  }
  {
    WalStorage wal(test::options_for(dir), test::quiet_logger());
    StorageRecovery r = wal.recover();
    ASSERT_TRUE(r.snapshot);
    EXPECT_EQ(r.snapshot->last_index, 40u);
    EXPECT_TRUE(r.entries.empty());
    DurableWaiter waiter(wal);
    append_durably(wal, waiter, make_entries(41, 45, 2));
  }
  expect_entries(reopen(test::options_for(dir)).entries, make_entries(41, 45, 2));
}

TEST(WalStorage, SaveSnapshotBeyondTheLogIsInstalled) {
  TempDir dir;
  {
    WalStorage wal(test::options_for(dir), test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    append_durably(wal, waiter, make_entries(1, 5));
    wal.save_snapshot(Snapshot{20, 1, 20, {7}});
    wal.append(make_entries(21, 22));
    ASSERT_TRUE(waiter.wait(wal.flush()));
  }
  StorageRecovery r = reopen(test::options_for(dir));
  ASSERT_TRUE(r.snapshot);
  EXPECT_EQ(r.snapshot->last_index, 20u);
  expect_entries(r.entries, make_entries(21, 22));
}

TEST(WalStorage, SegmentsRollOverAtSegmentBytes) {
  TempDir dir;
  WalOptions o = test::options_for(dir);
  o.segment_bytes = 8192;
  std::vector<LogEntry> all;
  for (LogIndex i = 1; i <= 300; ++i)
    all.push_back(make_entry(i, 1, 100 + (i % 7) * 50));
  all.push_back(make_entry(301, 1, 20000));  // larger than a segment: a segment of its own
  all.push_back(make_entry(302, 1, 10));
  {
    WalStorage wal(o, test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    append_durably(wal, waiter, all);
    EXPECT_EQ(wal.debug_stats().segments, test::segment_files(dir.wal()).size());
  }
  const auto files = test::segment_files(dir.wal());
  ASSERT_GT(files.size(), 10u);
  LogIndex previous_first = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto name = wal::parse_segment_file_name(files[i].filename().string());
    ASSERT_TRUE(name);
    EXPECT_EQ(name->first, i + 1) << "consecutive seqs";
    EXPECT_GT(name->second, previous_first) << "first indexes grow without truncation";
    previous_first = name->second;
    const auto size = std::filesystem::file_size(files[i]);
    if (name->second != 301) {
      EXPECT_LE(size, o.segment_bytes);
    } else {
      EXPECT_GT(size, 20000u);
    }
  }
  StorageRecovery r = reopen(o);
  EXPECT_TRUE(r.notes.empty()) << test::all_notes(r);
  expect_entries(r.entries, all);
}

TEST(WalStorage, PreallocatedSegmentsRecoverAndRollOver) {
  TempDir dir;
  WalOptions o = test::options_for(dir);
  o.segment_bytes = 16384;
  o.preallocate = true;
  {
    WalStorage wal(o, test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    append_durably(wal, waiter, make_entries(1, 100, 1, 300));
  }
  const auto files = test::segment_files(dir.wal());
  ASSERT_GT(files.size(), 1u);
  EXPECT_EQ(std::filesystem::file_size(files.back()), o.segment_bytes);  // zero padding
  {
    WalStorage wal(o, test::quiet_logger());
    StorageRecovery r = wal.recover();
    EXPECT_TRUE(r.notes.empty()) << test::all_notes(r);
    expect_entries(r.entries, make_entries(1, 100, 1, 300));
    DurableWaiter waiter(wal);
    append_durably(wal, waiter, make_entries(101, 120, 1, 300));
  }
  expect_entries(reopen(o).entries, make_entries(1, 120, 1, 300));
}

// Without fsync a ticket completes once its records are written to the file, not before: an
// acknowledged write must survive a kill -9 (found by a restart test that lost its session one
// run in sixty under load, when the ticket completed before the writer thread wrote).
TEST(WalStorage, FsyncOffCompletesTicketsOnceWrittenToTheFile) {
  TempDir dir;
  WalOptions o = test::options_for(dir);
  o.fsync = false;
  {
    WalStorage wal(o, test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    for (LogIndex i = 1; i <= 50; ++i) {
      wal.append(make_entries(i, i));
      ASSERT_TRUE(waiter.wait(wal.flush())) << i;
    }
    // As after a kill -9: the object is alive (nothing flushed by a destructor), and another
    // process reading the directory finds every acknowledged entry.
    expect_entries(reopen(o).entries, make_entries(1, 50));
    wal.save_snapshot(Snapshot{20, 1, 20, {}});
    wal.wait_idle();
    EXPECT_EQ(wal.stats().fsyncs, 0u);
    EXPECT_EQ(wal.stats().snapshots_written, 1u);
  }
  StorageRecovery r = reopen(o);
  ASSERT_TRUE(r.snapshot);
  expect_entries(r.entries, make_entries(21, 50));
}

TEST(WalStorage, FsyncOffDoesNotCompleteATicketBeforeItsRecordsAreWritten) {
  TempDir dir;
  Latch release;
  WalOptions o = test::options_for(dir);
  o.fsync = false;
  o.before_write = [&] { release.wait(); };  // the writer thread holds before writing
  WalStorage wal(o, test::quiet_logger());
  wal.recover();
  DurableWaiter waiter(wal);
  wal.append(make_entries(1, 3));
  const std::uint64_t t = wal.flush();
  EXPECT_LT(wal.durable_ticket(), t) << "acknowledged before the records reached the file";
  release.open();
  ASSERT_TRUE(waiter.wait(t));
  expect_entries(reopen(o).entries, make_entries(1, 3));
}

// A reactor that outruns the disk blocks in flush() once max_pending_bytes are queued.
TEST(WalStorage, BackpressureBlocksFlushWhileTheQueueIsFull) {
  TempDir dir;
  EventCounter fsync_entered;
  Latch release;
  WalOptions o = test::options_for(dir);
  o.max_pending_bytes = 64 * 1024;
  o.before_fsync = [&] {
    fsync_entered.hit();
    if (fsync_entered.count() == 1) release.wait();
  };
  {
    WalStorage wal(o, test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    wal.append(make_entries(1, 1));
    wal.flush();
    ASSERT_TRUE(fsync_entered.wait_for_count(1));  // the writer is stuck in its first fsync
    std::atomic<std::uint64_t> last{0};
    std::thread reactor([&] {
      for (LogIndex i = 2; i <= 40; ++i) {  // 39 x ~4 KiB: more than the bound
        wal.append({make_entry(i, 1, 4000)});
        last = wal.flush();
      }
    });
    // Bounded spin with yield until the reactor thread is held by the bound.
    for (long spins = 0; wal.debug_stats().backpressure_waits == 0 && spins < 100'000'000;
         ++spins) {
      std::this_thread::yield();
    }
    EXPECT_GT(wal.debug_stats().backpressure_waits, 0u);
    EXPECT_LT(last.load(), 40u);  // it has not finished: it is blocked
    release.open();
    reactor.join();
    ASSERT_TRUE(waiter.wait(last));
  }
  std::vector<LogEntry> want = make_entries(1, 1);
  for (LogIndex i = 2; i <= 40; ++i)
    want.push_back(make_entry(i, 1, 4000));
  expect_entries(reopen(o).entries, want);
}

// Appends without flush() are handed to the writer once kStageHandOverBytes are staged: they
// reach the file, but no ticket completes.
TEST(WalStorage, LongRunsWithoutFlushAreWrittenButNotDurable) {
  TempDir dir;
  WalStorage wal(test::options_for(dir), test::quiet_logger());
  wal.recover();
  for (LogIndex i = 1; i <= 100; ++i)
    wal.append({make_entry(i, 1, 64 * 1024)});  // 6.4 MiB
  wal.wait_idle();
  EXPECT_GT(std::filesystem::file_size(test::segment_files(dir.wal()).back()), 4u << 20);
  EXPECT_EQ(wal.durable_ticket(), 0u);
}

TEST(WalStorage, OversizedEntryIsRefused) {
  TempDir dir;
  WalStorage wal(test::options_for(dir), test::quiet_logger());
  wal.recover();
  LogEntry huge{1, 1, 1, Bytes(wal::kMaxRecordPayloadBytes)};  // + 24 fixed bytes: too large
  EXPECT_THROW(wal.append({huge}), std::length_error);
  wal.append(make_entries(1, 1));  // nothing was appended by the refused call
}

// An fdatasync failure (injected through the hook) stops the writer for good: the ticket never
// completes and the next call from the reactor throws.
TEST(WalStorage, AnIoErrorStopsTheWriterAndTheNextCallThrows) {
  TempDir dir;
  int fsync_calls = 0;  // writer thread only
  WalOptions o = test::options_for(dir);
  o.before_fsync = [&] {
    if (++fsync_calls == 2) throw wal::IoError("injected fdatasync failure");
  };
  WalStorage wal(o, test::quiet_logger());
  wal.recover();
  DurableWaiter waiter(wal);
  append_durably(wal, waiter, make_entries(1, 1));
  wal.append(make_entries(2, 2));
  const std::uint64_t doomed = wal.flush();
  wal.wait_idle();  // returns once the writer has failed
  EXPECT_LT(wal.durable_ticket(), doomed);
  try {
    wal.append(make_entries(3, 3));
    FAIL() << "expected wal::IoError";
  } catch (const wal::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("injected fdatasync failure"), std::string::npos);
  }
  EXPECT_THROW(wal.flush(), wal::IoError);
}

// A new leader that has applied less than this follower sends an older snapshot than the one
// the follower saved: the installed one wins, now and after a restart.
TEST(WalStorage, InstallingAnOlderSnapshotThanTheSavedOneReplacesIt) {
  TempDir dir;
  {
    WalStorage wal(test::options_for(dir), test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    append_durably(wal, waiter, make_entries(1, 100));
    wal.save_snapshot(Snapshot{90, 1, 90, {9}});
    wal.wait_idle();
    wal.install_snapshot(Snapshot{70, 2, 70, {7}});
    wal.append(make_entries(71, 75, 2));
    ASSERT_TRUE(waiter.wait(wal.flush()));
    wal.wait_idle();
    EXPECT_FALSE(std::filesystem::exists(dir.wal() / wal::snapshot_file_name(90)));
  }
  StorageRecovery r = reopen(test::options_for(dir));
  EXPECT_TRUE(r.notes.empty()) << test::all_notes(r);
  ASSERT_TRUE(r.snapshot);
  EXPECT_EQ(r.snapshot->last_index, 70u);
  EXPECT_EQ(r.snapshot->data, Bytes{7});
  expect_entries(r.entries, make_entries(71, 75, 2));
}

}  // namespace
}  // namespace quorumlab::storage
