// MemoryDisk: writes are volatile until an fsync completes; crashes lose them; group commit.
#include <gtest/gtest.h>

#include "quorumlab/replica/memory_disk.hpp"

using namespace quorumlab;
using namespace quorumlab::replica;

namespace {

LogEntry entry(LogIndex i, std::uint64_t epoch = 1) {
  return LogEntry{i, epoch, (epoch << 32) | i, Bytes{static_cast<std::uint8_t>(i)}};
}

struct Fixture {
  DiskImage disk;
  int fsyncs_started = 0;
  std::unique_ptr<MemoryDisk> storage;
  explicit Fixture(bool lie = false) { restart(lie); }
  void restart(bool lie = false) {
    storage = std::make_unique<MemoryDisk>(
        disk, [this] { ++fsyncs_started; }, lie);
    storage->recover();
  }
};

}  // namespace

TEST(MemoryDisk, WritesAreVolatileUntilTheFsyncCompletes) {
  Fixture f;
  f.storage->append({entry(1), entry(2)});
  HardState hs;
  hs.term = 7;
  f.storage->save_hard_state(hs);
  const auto ticket = f.storage->flush();
  EXPECT_EQ(f.fsyncs_started, 1);
  EXPECT_LT(f.storage->durable_ticket(), ticket);
  EXPECT_TRUE(f.disk.entries.empty());
  f.storage->fsync_done();
  EXPECT_EQ(f.storage->durable_ticket(), ticket);
  ASSERT_EQ(f.disk.entries.size(), 2u);
  EXPECT_EQ(f.disk.hard_state.term, 7u);
}

TEST(MemoryDisk, CrashLosesUnsyncedWritesAndRecoveryReturnsExactlyTheDurableState) {
  Fixture f;
  f.storage->append({entry(1), entry(2)});
  f.storage->flush();
  f.storage->fsync_done();
  f.storage->append({entry(3)});
  f.storage->flush();  // fsync started, not finished
  Rng rng(1);
  f.storage->crash(rng, 0.0);
  f.restart();
  auto rec = MemoryDisk(f.disk, [] {}).recover();
  ASSERT_EQ(rec.entries.size(), 2u);
  EXPECT_EQ(rec.entries.back().index, 2u);
  EXPECT_EQ(f.disk.ops_lost_in_crashes, 1u);
  f.storage->append({entry(3, 2)});  // the log continues after the durable index
}

TEST(MemoryDisk, ACrashMayKeepAPrefixOfTheUnsyncedWrites) {
  Fixture f;
  for (LogIndex i = 1; i <= 20; ++i)
    f.storage->append({entry(i)});
  Rng rng(42);
  f.storage->crash(rng, 1.0);
  const auto kept = f.disk.entries.size();
  EXPECT_LE(kept, 20u);
  for (std::size_t i = 0; i < kept; ++i)
    EXPECT_EQ(f.disk.entries[i].index, i + 1);  // a prefix
  EXPECT_EQ(kept + f.disk.ops_lost_in_crashes, 20u);
}

TEST(MemoryDisk, FlushesDuringAnFsyncAreGroupedIntoTheNext) {
  Fixture f;
  f.storage->append({entry(1)});
  const auto t1 = f.storage->flush();
  f.storage->append({entry(2)});
  const auto t2 = f.storage->flush();
  f.storage->append({entry(3)});
  const auto t3 = f.storage->flush();
  EXPECT_EQ(f.fsyncs_started, 1);
  f.storage->fsync_done();  // covers entry 1 only
  EXPECT_EQ(f.storage->durable_ticket(), t1);
  EXPECT_EQ(f.disk.entries.size(), 1u);
  EXPECT_EQ(f.fsyncs_started, 2);  // the next one covers both waiting flushes
  f.storage->fsync_done();
  EXPECT_EQ(f.storage->durable_ticket(), t3);
  EXPECT_GT(t3, t2);
  EXPECT_EQ(f.disk.entries.size(), 3u);
  EXPECT_FALSE(f.storage->fsync_running());
}

TEST(MemoryDisk, TruncateAndSnapshotsCompactTheDurableLog) {
  Fixture f;
  f.storage->append({entry(1), entry(2), entry(3), entry(4)});
  f.storage->truncate_after(2);
  f.storage->append({entry(3, 2)});
  f.storage->flush();
  f.storage->fsync_done();
  ASSERT_EQ(f.disk.entries.size(), 3u);
  EXPECT_EQ(f.disk.entries.back().epoch, 2u);
  f.storage->save_snapshot(Snapshot{2, 1, (1ull << 32) | 2, Bytes{9}});
  f.storage->fsync_done();
  ASSERT_TRUE(f.disk.snapshot.has_value());
  ASSERT_EQ(f.disk.entries.size(), 1u);
  EXPECT_EQ(f.disk.entries.front().index, 3u);
  f.storage->install_snapshot(Snapshot{10, 3, (3ull << 32) | 1, Bytes{1, 2}});
  f.storage->append({entry(11, 3)});
  f.storage->flush();
  f.storage->fsync_done();
  auto rec = MemoryDisk(f.disk, [] {}).recover();
  ASSERT_TRUE(rec.snapshot.has_value());
  EXPECT_EQ(rec.snapshot->last_index, 10u);
  ASSERT_EQ(rec.entries.size(), 1u);
  EXPECT_EQ(rec.entries.front().index, 11u);
}

TEST(MemoryDisk, AppendWithAGapIsALogicError) {
  Fixture f;
  f.storage->append({entry(1)});
  EXPECT_THROW(f.storage->append({entry(3)}), std::logic_error);
}

TEST(MemoryDisk, TheTestOnlyLyingDiskAcknowledgesBeforeItIsDurable) {
  Fixture f(/*lie=*/true);
  f.storage->append({entry(1)});
  const auto ticket = f.storage->flush();
  EXPECT_EQ(f.storage->durable_ticket(), ticket);  // claims durability at once
  Rng rng(1);
  f.storage->crash(rng, 0.0);
  EXPECT_TRUE(f.disk.entries.empty());  // but the crash loses the entry
}
