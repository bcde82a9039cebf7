// The `memory` storage plugin.
#include <dlfcn.h>

#include <gtest/gtest.h>

#include "memory/memory_storage.hpp"
#include "quorumlab/plugin/descriptor.hpp"

namespace quorumlab::storage {
namespace {

LogEntry entry(LogIndex index, std::uint64_t epoch = 1) {
  return LogEntry{index, epoch, (epoch << 32) | index, Bytes{static_cast<std::uint8_t>(index), 7}};
}

std::vector<LogEntry> entries(LogIndex first, LogIndex last, std::uint64_t epoch = 1) {
  std::vector<LogEntry> out;
  for (LogIndex i = first; i <= last; ++i)
    out.push_back(entry(i, epoch));
  return out;
}

std::vector<LogIndex> indexes(const StorageRecovery& r) {
  std::vector<LogIndex> out;
  for (const auto& e : r.entries)
    out.push_back(e.index);
  return out;
}

TEST(MemoryStorage, FreshInstanceRecoversEmpty) {
  MemoryStorage s;
  StorageRecovery r = s.recover();
  EXPECT_TRUE(r.entries.empty());
  EXPECT_FALSE(r.snapshot);
  EXPECT_EQ(r.hard_state, HardState{});
}

TEST(MemoryStorage, AppendFlushRecoverRoundTripAndImmediateTickets) {
  MemoryStorage s;
  int wakeups = 0;
  s.set_wakeup([&] { ++wakeups; });
  s.append(entries(1, 5));
  const std::uint64_t t1 = s.flush();
  EXPECT_EQ(s.durable_ticket(), t1);
  EXPECT_EQ(wakeups, 1);
  const std::uint64_t t2 = s.flush();
  EXPECT_LT(t1, t2);
  EXPECT_EQ(s.durable_ticket(), t2);
  StorageRecovery r = s.recover();
  ASSERT_EQ(r.entries.size(), 5u);
  EXPECT_EQ(r.entries[4].zxid, entry(5).zxid);
  EXPECT_EQ(r.entries[4].data, entry(5).data);
  EXPECT_EQ(s.stats().entries_appended, 5u);
  EXPECT_EQ(s.stats().fsyncs, 0u);
}

TEST(MemoryStorage, AppendMustFollowTheLastIndex) {
  MemoryStorage s;
  EXPECT_THROW(s.append(entries(2, 3)), std::logic_error);
  s.append(entries(1, 3));
  EXPECT_THROW(s.append(entries(5, 5)), std::logic_error);
  EXPECT_THROW(s.append(entries(3, 3)), std::logic_error);
  EXPECT_EQ(s.recover().entries.size(), 3u);
}

TEST(MemoryStorage, TruncateThenAppend) {
  MemoryStorage s;
  s.append(entries(1, 10));
  s.truncate_after(4);
  s.append(entries(5, 6, 2));
  s.truncate_after(50);  // nothing to drop
  StorageRecovery r = s.recover();
  EXPECT_EQ(indexes(r), (std::vector<LogIndex>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(r.entries[4].epoch, 2u);
}

TEST(MemoryStorage, HardStateIsKept) {
  MemoryStorage s;
  HardState hs;
  hs.term = 4;
  hs.vote = 2;
  hs.plugin_data = {1};
  s.save_hard_state(hs);
  EXPECT_EQ(s.recover().hard_state, hs);
}

TEST(MemoryStorage, SaveSnapshotDropsCoveredEntries) {
  MemoryStorage s;
  s.append(entries(1, 10));
  s.save_snapshot(Snapshot{6, 1, 6, {9}});
  StorageRecovery r = s.recover();
  ASSERT_TRUE(r.snapshot);
  EXPECT_EQ(r.snapshot->last_index, 6u);
  EXPECT_EQ(indexes(r), (std::vector<LogIndex>{7, 8, 9, 10}));
  EXPECT_THROW(s.truncate_after(5), std::logic_error);
  s.save_snapshot(Snapshot{3, 1, 3, {}});  // older: ignored
  EXPECT_EQ(s.recover().snapshot->last_index, 6u);
  s.append(entries(11, 11));
  EXPECT_EQ(s.stats().snapshots_written, 1u);
}

TEST(MemoryStorage, InstallSnapshotReplacesTheLog) {
  MemoryStorage s;
  s.append(entries(1, 10));
  s.install_snapshot(Snapshot{100, 3, 100, {1, 2}});
  EXPECT_THROW(s.append(entries(11, 11)), std::logic_error);
  s.append(entries(101, 102, 3));
  StorageRecovery r = s.recover();
  ASSERT_TRUE(r.snapshot);
  EXPECT_EQ(r.snapshot->last_index, 100u);
  EXPECT_EQ(indexes(r), (std::vector<LogIndex>{101, 102}));
  s.install_snapshot(Snapshot{50, 3, 50, {5}});  // older than the current one: replaces it
  r = s.recover();
  ASSERT_TRUE(r.snapshot);
  EXPECT_EQ(r.snapshot->last_index, 50u);
  EXPECT_TRUE(r.entries.empty());
  s.append(entries(51, 51));
}

TEST(MemoryPlugin, DescriptorAndFactory) {
  void* handle = ::dlopen(QL_STORAGE_PLUGIN_FILE, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << ::dlerror();
  auto* alias = static_cast<const void* const*>(::dlsym(handle, "quorumlab_plugin"));
  ASSERT_NE(alias, nullptr);
  const auto* d = static_cast<const PluginDescriptor*>(*alias);
  EXPECT_EQ(d->magic, kPluginMagic);
  EXPECT_EQ(d->abi_version, kPluginAbiVersion);
  EXPECT_EQ(d->kind, PluginKind::storage);
  EXPECT_STREQ(d->name, "memory");
  EXPECT_TRUE(d->params().empty());
  {
    PluginContext ctx;
    std::unique_ptr<Storage> s = d->make_storage(ctx);
    EXPECT_TRUE(s->recover().entries.empty());
    s->append(entries(1, 2));
    EXPECT_EQ(s->durable_ticket(), 0u);
    const std::uint64_t ticket = s->flush();
    EXPECT_EQ(ticket, 1u);
    EXPECT_EQ(s->durable_ticket(), ticket);
  }
  ::dlclose(handle);
}

}  // namespace
}  // namespace quorumlab::storage
