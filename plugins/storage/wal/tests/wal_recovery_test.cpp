// Recovery from damaged directories: torn tails, corrupt bytes at the end and in the middle,
// garbage, unknown files and versions, damaged snapshots, holes.
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "test_util.hpp"
#include "wal/crc32c.hpp"
#include "wal/format.hpp"
#include "wal/io.hpp"
#include "wal/snapshot_file.hpp"
#include "wal/wal_storage.hpp"

namespace quorumlab::storage {
namespace {

namespace fs = std::filesystem;
using test::DurableWaiter;
using test::make_entries;
using test::same_entry;
using test::TempDir;

void expect_entries(const std::vector<LogEntry>& got, const std::vector<LogEntry>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(same_entry(got[i], want[i])) << "entry " << i << " index " << got[i].index;
  }
}

/// Writes entries first..last durably (each append a separate record) and closes the WAL.
void write_log(const WalOptions& o, LogIndex first, LogIndex last, std::size_t size = 100) {
  WalStorage wal(o, test::quiet_logger());
  wal.recover();
  DurableWaiter waiter(wal);
  wal.append(make_entries(first, last, 1, size));
  ASSERT_TRUE(waiter.wait(wal.flush()));
}

struct RecordPos {
  std::size_t offset;
  std::size_t bytes;
};

/// Record boundaries of a segment file (after its header).
std::vector<RecordPos> records_of(const fs::path& file) {
  const Bytes data = wal::read_file(file);
  std::vector<RecordPos> out;
  std::size_t off = wal::kSegmentHeaderBytes;
  wal::RawRecord r;
  while (wal::parse_record(data.data() + off, data.size() - off, r) == wal::ParseStatus::ok) {
    out.push_back({off, r.total_bytes});
    off += r.total_bytes;
  }
  return out;
}

void flip_byte(const fs::path& file, std::uint64_t offset) {
  wal::File f = wal::File::open(file, O_RDWR);
  std::uint8_t b = 0;
  ASSERT_EQ(::pread(f.fd(), &b, 1, static_cast<off_t>(offset)), 1);
  b ^= 0x40;
  f.pwrite_all(&b, 1, offset);
}

void append_bytes(const fs::path& file, const Bytes& bytes) {
  wal::File f = wal::File::open(file, O_RDWR);
  f.pwrite_all(bytes.data(), bytes.size(), f.size());
}

void write_whole_file(const fs::path& file, const Bytes& bytes) {
  wal::File f = wal::File::open(file, O_WRONLY | O_CREAT | O_TRUNC);
  f.pwrite_all(bytes.data(), bytes.size(), 0);
}

Bytes garbage(std::size_t n, std::uint64_t seed) {
  Bytes b(n);
  for (auto& x : b) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<std::uint8_t>(seed >> 56);
  }
  return b;
}

/// Recovers, then appends `extra` after the recovered log and recovers again: the repaired
/// directory must accept appends that later recover intact.
void expect_appendable_after(const WalOptions& o, const std::vector<LogEntry>& recovered) {
  const LogIndex next = recovered.empty() ? 1 : recovered.back().index + 1;
  const auto extra = make_entries(next, next + 4, 9, 77);
  {
    WalStorage wal(o, test::quiet_logger());
    StorageRecovery r = wal.recover();
    EXPECT_TRUE(r.notes.empty()) << "second recovery has nothing to repair: " << test::all_notes(r);
    DurableWaiter waiter(wal);
    wal.append(extra);
    ASSERT_TRUE(waiter.wait(wal.flush()));
  }
  WalStorage wal(o, test::quiet_logger());
  StorageRecovery r = wal.recover();
  EXPECT_TRUE(r.notes.empty()) << test::all_notes(r);
  std::vector<LogEntry> want = recovered;
  want.insert(want.end(), extra.begin(), extra.end());
  expect_entries(r.entries, want);
}

TEST(WalRecovery, TornTailIsCutAndReported) {
  TempDir dir;
  const WalOptions o = test::options_for(dir);
  write_log(o, 1, 20);
  const fs::path seg = test::segment_files(dir.wal()).back();
  const auto recs = records_of(seg);
  ASSERT_EQ(recs.size(), 20u);
  // The crash tore the last record: only part of it reached the disk.
  fs::resize_file(seg, recs.back().offset + recs.back().bytes - 5);

  std::vector<LogEntry> recovered;
  {
    WalStorage wal(o, test::quiet_logger());
    StorageRecovery r = wal.recover();
    expect_entries(r.entries, make_entries(1, 19, 1, 100));
    ASSERT_EQ(r.notes.size(), 1u) << test::all_notes(r);
    EXPECT_TRUE(test::any_note_contains(r, "cut torn tail")) << test::all_notes(r);
    EXPECT_TRUE(test::any_note_contains(r, "+" + std::to_string(recs.back().offset)));
    recovered = r.entries;
  }
  EXPECT_EQ(fs::file_size(seg), recs.back().offset);  // cut at the last whole record
  expect_appendable_after(o, recovered);
}

TEST(WalRecovery, TornRecordHeaderIsCut) {
  TempDir dir;
  const WalOptions o = test::options_for(dir);
  write_log(o, 1, 5);
  const fs::path seg = test::segment_files(dir.wal()).back();
  append_bytes(seg, {0x10, 0x00});  // two bytes of the next record's length field
  WalStorage wal(o, test::quiet_logger());
  StorageRecovery r = wal.recover();
  expect_entries(r.entries, make_entries(1, 5, 1, 100));
  EXPECT_TRUE(test::any_note_contains(r, "cut torn tail")) << test::all_notes(r);
}

TEST(WalRecovery, CorruptByteInTheLastRecord) {
  TempDir dir;
  const WalOptions o = test::options_for(dir);
  write_log(o, 1, 20);
  const fs::path seg = test::segment_files(dir.wal()).back();
  const auto recs = records_of(seg);
  flip_byte(seg, recs.back().offset + 40);  // inside the entry's data
  std::vector<LogEntry> recovered;
  {
    WalStorage wal(o, test::quiet_logger());
    StorageRecovery r = wal.recover();
    expect_entries(r.entries, make_entries(1, 19, 1, 100));
    EXPECT_TRUE(test::any_note_contains(r, "cut torn tail")) << test::all_notes(r);
    EXPECT_TRUE(test::any_note_contains(r, "checksum")) << test::all_notes(r);
    recovered = r.entries;
  }
  expect_appendable_after(o, recovered);
}

// A damaged record followed by good ones: the log stops at the damage (no skipping over a
// hole), the note says so loudly, and the dropped bytes are kept aside.
TEST(WalRecovery, CorruptByteInAMiddleRecordStopsTheLogThere) {
  TempDir dir;
  const WalOptions o = test::options_for(dir);
  write_log(o, 1, 20);
  const fs::path seg = test::segment_files(dir.wal()).back();
  const auto recs = records_of(seg);
  flip_byte(seg, recs[9].offset + 30);  // entry 10
  std::vector<LogEntry> recovered;
  {
    WalStorage wal(o, test::quiet_logger());
    StorageRecovery r = wal.recover();
    expect_entries(r.entries, make_entries(1, 9, 1, 100));
    EXPECT_TRUE(test::any_note_contains(r, "CORRUPTION IN THE MIDDLE OF THE LOG"))
        << test::all_notes(r);
    EXPECT_TRUE(test::any_note_contains(r, "10 valid-looking record(s)")) << test::all_notes(r);
    EXPECT_TRUE(test::any_note_contains(r, "the log ends at index 9")) << test::all_notes(r);
    recovered = r.entries;
  }
  const auto saved = test::files_ending(dir.wal(), ".corrupt");
  ASSERT_EQ(saved.size(), 1u);
  const auto dropped = recs.back().offset + recs.back().bytes - recs[9].offset;
  EXPECT_LE(fs::file_size(saved[0]), dropped);  // trailing zero bytes are not saved
  EXPECT_GT(fs::file_size(saved[0]), dropped - 8);
  expect_appendable_after(o, recovered);
}

// Damage in an older segment: every later segment is moved aside, never replayed over the hole.
TEST(WalRecovery, CorruptionInAnOlderSegmentMovesLaterSegmentsAside) {
  TempDir dir;
  WalOptions o = test::options_for(dir);
  o.segment_bytes = 4096;
  write_log(o, 1, 100, 200);
  const auto segs = test::segment_files(dir.wal());
  ASSERT_GT(segs.size(), 4u);
  const auto recs = records_of(segs[1]);
  ASSERT_GT(recs.size(), 3u);
  flip_byte(segs[1], recs[2].offset + 50);
  const auto first_of_1 = wal::parse_segment_file_name(segs[1].filename().string())->second;
  std::vector<LogEntry> recovered;
  {
    WalStorage wal(o, test::quiet_logger());
    StorageRecovery r = wal.recover();
    expect_entries(r.entries, make_entries(1, first_of_1 + 1, 1, 200));
    EXPECT_TRUE(test::any_note_contains(r, "CORRUPTION IN THE MIDDLE OF THE LOG"))
        << test::all_notes(r);
    EXPECT_TRUE(test::any_note_contains(
        r, std::to_string(segs.size() - 2) + " later segment(s) moved aside"))
        << test::all_notes(r);
    recovered = r.entries;
  }
  EXPECT_EQ(test::segment_files(dir.wal()).size(), 2u);
  expect_appendable_after(o, recovered);
}

TEST(WalRecovery, GarbageAfterTheLastRecordIsCut) {
  TempDir dir;
  const WalOptions o = test::options_for(dir);
  write_log(o, 1, 10);
  const fs::path seg = test::segment_files(dir.wal()).back();
  const auto end = fs::file_size(seg);
  append_bytes(seg, garbage(3000, 42));
  std::vector<LogEntry> recovered;
  {
    WalStorage wal(o, test::quiet_logger());
    StorageRecovery r = wal.recover();
    expect_entries(r.entries, make_entries(1, 10, 1, 100));
    EXPECT_TRUE(test::any_note_contains(r, "cut torn tail")) << test::all_notes(r);
    EXPECT_TRUE(test::any_note_contains(r, "3000 bytes dropped")) << test::all_notes(r);
    recovered = r.entries;
  }
  EXPECT_EQ(fs::file_size(seg), end);
  expect_appendable_after(o, recovered);
}

TEST(WalRecovery, ZeroFilledTailIsCut) {
  TempDir dir;
  const WalOptions o = test::options_for(dir);
  write_log(o, 1, 10);
  const fs::path seg = test::segment_files(dir.wal()).back();
  append_bytes(seg, Bytes(8192, 0));  // size grew, data never arrived (ext4 after a crash)
  WalStorage wal(o, test::quiet_logger());
  StorageRecovery r = wal.recover();
  expect_entries(r.entries, make_entries(1, 10, 1, 100));
  EXPECT_TRUE(test::any_note_contains(r, "zero-filled tail")) << test::all_notes(r);
}

TEST(WalRecovery, TornTailInAPreallocatedSegment) {
  TempDir dir;
  WalOptions o = test::options_for(dir);
  o.preallocate = true;
  o.segment_bytes = 65536;
  write_log(o, 1, 10);
  const fs::path seg = test::segment_files(dir.wal()).back();
  const auto recs = records_of(seg);
  // Half of an eleventh record in the padding.
  Bytes partial;
  wal::append_entry_record(partial, test::make_entry(11, 1, 100));
  partial.resize(partial.size() / 2);
  {
    wal::File f = wal::File::open(seg, O_RDWR);
    f.pwrite_all(partial.data(), partial.size(), recs.back().offset + recs.back().bytes);
  }
  std::vector<LogEntry> recovered;
  {
    WalStorage wal(o, test::quiet_logger());
    StorageRecovery r = wal.recover();
    expect_entries(r.entries, make_entries(1, 10, 1, 100));
    EXPECT_TRUE(test::any_note_contains(r, "cut torn tail")) << test::all_notes(r);
    recovered = r.entries;
  }
  EXPECT_EQ(fs::file_size(seg), o.segment_bytes);  // padding restored
  expect_appendable_after(o, recovered);
}

// A file named like a segment that holds something else: recovery refuses to guess.
TEST(WalRecovery, GarbageSegmentFileIsAClearError) {
  TempDir dir;
  const WalOptions o = test::options_for(dir);
  write_log(o, 1, 3);
  const fs::path bogus = dir.wal() / wal::segment_file_name(2, 4);
  write_whole_file(bogus, garbage(5000, 1));
  WalStorage wal(o, test::quiet_logger());
  try {
    wal.recover();
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(bogus.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a quorumlab WAL segment"), std::string::npos)
        << e.what();
  }
}

TEST(WalRecovery, UnknownFormatVersionIsAClearError) {
  TempDir dir;
  const WalOptions o = test::options_for(dir);
  write_log(o, 1, 3);
  const fs::path seg = test::segment_files(dir.wal()).back();
  {
    wal::File f = wal::File::open(seg, O_RDWR);
    std::uint8_t v[4];
    wal::put_u32(v, 7);
    f.pwrite_all(v, 4, 8);
  }
  WalStorage wal(o, test::quiet_logger());
  try {
    wal.recover();
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(seg.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("format version 7"), std::string::npos) << e.what();
  }
}

/// Every file of a directory with its bytes (for "nothing was changed").
std::map<std::string, Bytes> dir_contents(const fs::path& dir) {
  std::map<std::string, Bytes> out;
  for (const auto& de : fs::directory_iterator(dir))
    out[de.path().filename().string()] = wal::read_file(de.path());
  return out;
}

TEST(WalRecovery, DirectoryOfThePreviousFormatIsRefusedAndLeftUntouched) {
  TempDir dir;
  const WalOptions o = test::options_for(dir);
  write_log(o, 1, 3);
  write_log(o, 4, 6);
  // Make it a format-1 directory: every segment header says version 1 (with a valid header
  // checksum, as format 1 wrote it), the last segment ends in a torn record, and an unfinished
  // temporary file lies beside them. A format-2 recovery would cut the tail and remove the
  // temporary file; refusing must do neither.
  for (const auto& seg : test::segment_files(dir.wal())) {
    wal::File f = wal::File::open(seg, O_RDWR);
    Bytes h = wal::read_file_prefix(seg, wal::kSegmentHeaderBytes);
    wal::put_u32(h.data() + 8, 1);
    wal::put_u32(h.data() + 44, wal::crc32c(h.data(), 44));
    f.pwrite_all(h.data(), h.size(), 0);
  }
  {
    std::ofstream tail(test::segment_files(dir.wal()).back(), std::ios::app | std::ios::binary);
    tail << "torn";
    std::ofstream tmp(dir.wal() / "snapshot-00000000000000000009.snap.tmp", std::ios::binary);
    tmp << "unfinished";
  }
  const auto before = dir_contents(dir.wal());
  WalStorage wal(o, test::quiet_logger());
  try {
    wal.recover();
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("data directory '" + dir.wal().string() + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("format version 1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("this build reads format version 2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("Nothing in it was changed"), std::string::npos) << msg;
  }
  EXPECT_EQ(dir_contents(dir.wal()), before) << "a refused directory must be left as it was";
}

TEST(WalRecovery, GarbageSnapshotFileIsAClearError) {
  TempDir dir;
  const WalOptions o = test::options_for(dir);
  write_log(o, 1, 3);
  write_whole_file(dir.wal() / wal::snapshot_file_name(2), garbage(100, 5));
  WalStorage wal(o, test::quiet_logger());
  EXPECT_THROW(wal.recover(), std::runtime_error);
}

// A segment created just before the crash whose header never reached the disk.
TEST(WalRecovery, LastSegmentWithTornHeaderIsRemoved) {
  TempDir dir;
  const WalOptions o = test::options_for(dir);
  write_log(o, 1, 5);
  write_whole_file(dir.wal() / wal::segment_file_name(2, 6), Bytes(20, 0));
  std::vector<LogEntry> recovered;
  {
    WalStorage wal(o, test::quiet_logger());
    StorageRecovery r = wal.recover();
    expect_entries(r.entries, make_entries(1, 5, 1, 100));
    EXPECT_TRUE(test::any_note_contains(r, "torn header")) << test::all_notes(r);
    recovered = r.entries;
  }
  EXPECT_FALSE(fs::exists(dir.wal() / wal::segment_file_name(2, 6)));
  expect_appendable_after(o, recovered);
}

TEST(WalRecovery, DamagedNewestSnapshotFallsBackToAnOlderOne) {
  TempDir dir;
  const WalOptions o = test::options_for(dir);
  {
    WalStorage wal(o, test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    wal.append(make_entries(1, 50));
    ASSERT_TRUE(waiter.wait(wal.flush()));
    wal.save_snapshot(Snapshot{20, 1, 20, Bytes(100, 2)});
    wal.wait_idle();
    wal.save_snapshot(Snapshot{40, 1, 40, Bytes(100, 4)});
    wal.wait_idle();
  }
  flip_byte(dir.wal() / wal::snapshot_file_name(40), wal::kSnapshotHeaderBytes + 10);
  WalStorage wal(o, test::quiet_logger());
  StorageRecovery r = wal.recover();
  ASSERT_TRUE(r.snapshot);
  EXPECT_EQ(r.snapshot->last_index, 20u);
  EXPECT_EQ(r.snapshot->data, Bytes(100, 2));
  expect_entries(r.entries, make_entries(21, 50));
  EXPECT_TRUE(test::any_note_contains(r, "data checksum mismatch")) << test::all_notes(r);
}

// Segments were deleted after a snapshot that is now gone: the entries in between are lost, and
// recovery must say so rather than return a log with a hole.
TEST(WalRecovery, HoleBetweenSnapshotAndLogIsAnError) {
  TempDir dir;
  WalOptions o = test::options_for(dir);
  o.segment_bytes = 4096;
  {
    WalStorage wal(o, test::quiet_logger());
    wal.recover();
    DurableWaiter waiter(wal);
    wal.append(make_entries(1, 100, 1, 200));
    ASSERT_TRUE(waiter.wait(wal.flush()));
    wal.save_snapshot(Snapshot{90, 1, 90, {}});
    wal.wait_idle();
  }
  fs::remove(dir.wal() / wal::snapshot_file_name(90));
  WalStorage wal(o, test::quiet_logger());
  try {
    wal.recover();
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("are lost"), std::string::npos) << e.what();
  }
}

TEST(WalRecovery, MissingSegmentInTheMiddleStopsTheLog) {
  TempDir dir;
  WalOptions o = test::options_for(dir);
  o.segment_bytes = 4096;
  write_log(o, 1, 100, 200);
  const auto segs = test::segment_files(dir.wal());
  ASSERT_GT(segs.size(), 4u);
  fs::remove(segs[2]);
  const auto last_of_1 = wal::parse_segment_file_name(segs[2].filename().string())->second - 1;
  WalStorage wal(o, test::quiet_logger());
  StorageRecovery r = wal.recover();
  expect_entries(r.entries, make_entries(1, last_of_1, 1, 200));
  EXPECT_TRUE(test::any_note_contains(r, "seq 3 is missing")) << test::all_notes(r);
}

TEST(WalRecovery, LeftoverTemporaryFilesAreRemoved) {
  TempDir dir;
  const WalOptions o = test::options_for(dir);
  write_log(o, 1, 3);
  const fs::path tmp = dir.wal() / (wal::snapshot_file_name(3) + ".save.tmp");
  write_whole_file(tmp, garbage(10, 3));
  WalStorage wal(o, test::quiet_logger());
  StorageRecovery r = wal.recover();
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_TRUE(test::any_note_contains(r, "temporary file")) << test::all_notes(r);
  EXPECT_EQ(r.entries.size(), 3u);
}

// The snapshot reached the disk, the log entries it covers did not: the log on disk ends below
// the snapshot, and the next append follows the snapshot.
TEST(WalRecovery, SnapshotAheadOfTheLogOnDisk) {
  TempDir dir;
  const WalOptions o = test::options_for(dir);
  write_log(o, 1, 5);
  wal::DiskCounters counters;
  wal::write_snapshot_file(dir.wal(), Snapshot{8, 1, 8, {8}}, "save", true, counters);
  {
    WalStorage wal(o, test::quiet_logger());
    StorageRecovery r = wal.recover();
    ASSERT_TRUE(r.snapshot);
    EXPECT_EQ(r.snapshot->last_index, 8u);
    EXPECT_TRUE(r.entries.empty());
    DurableWaiter waiter(wal);
    EXPECT_THROW(wal.append(make_entries(6, 6)), std::logic_error);
    wal.append(make_entries(9, 12));
    ASSERT_TRUE(waiter.wait(wal.flush()));
  }
  WalStorage wal(o, test::quiet_logger());
  StorageRecovery r = wal.recover();
  EXPECT_TRUE(r.notes.empty()) << test::all_notes(r);
  ASSERT_TRUE(r.snapshot);
  expect_entries(r.entries, make_entries(9, 12));
}

/// Builds what install_snapshot leaves on disk when the process stops between its steps:
/// the synced temporary snapshot file and, if `with_reset`, the new segment with the reset.
void interrupted_install(const TempDir& dir, LogIndex index, bool with_reset) {
  wal::DiskCounters counters;
  wal::write_snapshot_temp(dir.wal(), Snapshot{index, 2, index, Bytes(10, 1)}, wal::kInstallTag,
                           true, counters);
  if (!with_reset) return;
  const auto last =
      wal::parse_segment_file_name(test::segment_files(dir.wal()).back().filename().string());
  Bytes seg;
  wal::append_segment_header(seg, {last->first + 1, index + 1, 0});
  wal::append_reset_record(seg, index, 2, index);
  write_whole_file(dir.wal() / wal::segment_file_name(last->first + 1, index + 1), seg);
}

TEST(WalRecovery, InstallInterruptedAfterItsResetRecordIsCompleted) {
  TempDir dir;
  const WalOptions o = test::options_for(dir);
  write_log(o, 1, 10);
  interrupted_install(dir, 50, true);
  {
    WalStorage wal(o, test::quiet_logger());
    StorageRecovery r = wal.recover();
    ASSERT_TRUE(r.snapshot);
    EXPECT_EQ(r.snapshot->last_index, 50u);
    EXPECT_EQ(r.snapshot->data, Bytes(10, 1));
    EXPECT_TRUE(r.entries.empty());
    EXPECT_TRUE(test::any_note_contains(r, "completed the installation")) << test::all_notes(r);
  }
  EXPECT_TRUE(fs::exists(dir.wal() / wal::snapshot_file_name(50)));
  EXPECT_TRUE(test::files_ending(dir.wal(), ".tmp").empty());
  WalStorage wal(o, test::quiet_logger());
  StorageRecovery r = wal.recover();
  EXPECT_TRUE(r.notes.empty()) << test::all_notes(r);
  DurableWaiter waiter(wal);
  wal.append(make_entries(51, 52));
  ASSERT_TRUE(waiter.wait(wal.flush()));
}

TEST(WalRecovery, InstallInterruptedBeforeItsResetRecordLeavesTheOldState) {
  TempDir dir;
  const WalOptions o = test::options_for(dir);
  write_log(o, 1, 10);
  interrupted_install(dir, 50, false);
  WalStorage wal(o, test::quiet_logger());
  StorageRecovery r = wal.recover();
  EXPECT_FALSE(r.snapshot);
  expect_entries(r.entries, make_entries(1, 10, 1, 100));
  EXPECT_TRUE(test::any_note_contains(r, "removed unfinished temporary file"))
      << test::all_notes(r);
  EXPECT_TRUE(test::files_ending(dir.wal(), ".tmp").empty());
}

}  // namespace
}  // namespace quorumlab::storage
