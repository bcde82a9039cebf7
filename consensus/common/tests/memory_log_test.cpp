// MemoryLog: dense indexes, epoch/zxid lookups across the compaction base, checked preconditions.
#include <gtest/gtest.h>

#include "quorumlab/consensus/epoch_zxid.hpp"
#include "quorumlab/consensus/memory_log.hpp"

using namespace quorumlab;
using quorumlab::consensus::make_zxid;
using quorumlab::consensus::MemoryLog;

namespace {

LogEntry entry(LogIndex i, std::uint32_t epoch, std::uint32_t counter) {
  return LogEntry{i, epoch, make_zxid(epoch, counter), Bytes{static_cast<std::uint8_t>(i)}};
}

MemoryLog sample() {
  // index: 1   2   3   4   5   6
  // epoch: 1   1   2   2   2   4
  MemoryLog log;
  log.append(entry(1, 1, 1));
  log.append(entry(2, 1, 2));
  log.append(entry(3, 2, 1));
  log.append(entry(4, 2, 2));
  log.append(entry(5, 2, 3));
  log.append(entry(6, 4, 1));
  return log;
}

}  // namespace

TEST(MemoryLog, AppendIsDenseAndChecked) {
  MemoryLog log = sample();
  EXPECT_EQ(log.last_index(), 6u);
  EXPECT_EQ(log.last_zxid(), make_zxid(4, 1));
  EXPECT_THROW(log.append(entry(8, 4, 2)), std::logic_error);
  EXPECT_THROW(log.at(7), std::logic_error);
  EXPECT_EQ(*log.epoch_at(0), 0u);
  EXPECT_EQ(*log.zxid_at(3), make_zxid(2, 1));
  EXPECT_FALSE(log.zxid_at(7));
}

TEST(MemoryLog, TruncateAndEntriesFrom) {
  MemoryLog log = sample();
  log.truncate_after(4);
  EXPECT_EQ(log.last_index(), 4u);
  auto tail = log.entries_from(3);
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_EQ(tail[0].index, 3u);
  EXPECT_EQ(log.entries_from(2, 1).size(), 1u);
  log.append(entry(5, 3, 1));
  EXPECT_EQ(log.last_epoch(), 3u);
}

TEST(MemoryLog, CompactionKeepsTheBaseForLookups) {
  MemoryLog log = sample();
  log.compact(4);
  EXPECT_EQ(log.base_index(), 4u);
  EXPECT_EQ(log.base_zxid(), make_zxid(2, 2));
  EXPECT_EQ(log.size(), 2u);
  EXPECT_EQ(*log.epoch_at(4), 2u);
  EXPECT_FALSE(log.epoch_at(3)) << "compacted away";
  EXPECT_THROW(log.truncate_after(3), std::logic_error);
  EXPECT_THROW(log.entries_from(4), std::logic_error);
  EXPECT_EQ(*log.find_zxid(make_zxid(2, 2)), 4u);
  EXPECT_EQ(*log.find_zxid(make_zxid(4, 1)), 6u);
  EXPECT_FALSE(log.find_zxid(make_zxid(2, 1)));
  log.reset(10, 5, make_zxid(5, 7));
  EXPECT_EQ(log.last_index(), 10u);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(log.last_zxid(), make_zxid(5, 7));
}

TEST(MemoryLog, EpochRanges) {
  MemoryLog log = sample();
  auto r = log.epoch_range(2);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 3u);
  EXPECT_EQ(r->last, 5u);
  EXPECT_FALSE(log.epoch_range(3));
  EXPECT_EQ(log.run_containing(6).first, 6u);
  log.compact(4);
  r = log.epoch_range(2);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 4u) << "the base counts for its own epoch";
  EXPECT_EQ(r->last, 5u);
  EXPECT_FALSE(log.epoch_range(1));
}
