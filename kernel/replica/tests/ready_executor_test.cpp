// The one Ready executor against broadcast.hpp's ordering contract, with a scripted plugin
// (a queue of Readies) and the in-memory disk with fsyncs completed by hand.
#include <gtest/gtest.h>

#include <deque>

#include "quorumlab/replica/memory_disk.hpp"
#include "quorumlab/replica/ready_executor.hpp"

using namespace quorumlab;
using namespace quorumlab::replica;

namespace {

/// A plugin that hands out prepared Readies and records every input in `events`.
class ScriptedPlugin final : public Broadcast {
 public:
  explicit ScriptedPlugin(std::vector<std::string>& events) : events_(events) {}
  std::deque<Ready> queue;

  void restore(const RecoveredLog&) override {}
  void set_snapshot_source(SnapshotSource*) override {}
  void step(const PeerMessage&) override {}
  void tick() override {}
  ProposeResult propose(const std::vector<Bytes>&) override { return {}; }
  void persisted(LogIndex index) override {
    events_.push_back("persisted " + std::to_string(index));
  }
  void compacted(const Snapshot& meta) override {
    events_.push_back("compacted " + std::to_string(meta.last_index));
  }
  void request_barrier(std::uint64_t, BarrierKind) override {}
  bool has_ready() const override { return !queue.empty(); }
  Ready ready() override {
    Ready r = std::move(queue.front());
    queue.pop_front();
    return r;
  }
  BroadcastStatus status() const override { return {}; }
  std::string check_invariants() override { return {}; }

 private:
  std::vector<std::string>& events_;
};

struct Host final : ReplicaHost {
  std::vector<std::string>& events;
  ReadyExecutor* executor = nullptr;
  LogIndex compact_at = 0;  ///< take a snapshot when this index is applied
  explicit Host(std::vector<std::string>& e) : events(e) {}
  void send(const PeerMessage& m) override { events.push_back("send to " + std::to_string(m.to)); }
  void restore_snapshot(const Snapshot& s) override {
    events.push_back("restore " + std::to_string(s.last_index));
  }
  void apply(const CommittedTxn& t) override {
    events.push_back("apply " + std::to_string(t.index) + " epoch " + std::to_string(t.epoch));
    if (t.index == compact_at) executor->compact(Snapshot{t.index, t.epoch, t.zxid, Bytes{1}});
  }
  void barrier_resolved(const BarrierResult& b) override {
    events.push_back("barrier " + std::to_string(b.id));
  }
  void status_changed(const BroadcastStatus&) override { events.push_back("status"); }
  void contract_violation(const std::string& what) override {
    events.push_back("violation: " + what);
  }
};

LogEntry entry(LogIndex i, std::uint64_t epoch = 1) {
  return LogEntry{i, epoch, (epoch << 32) | i, Bytes{static_cast<std::uint8_t>(i)}};
}

struct Fixture {
  std::vector<std::string> events;
  DiskImage disk;
  int fsyncs_started = 0;
  MemoryDisk storage{disk, [this] { ++fsyncs_started; }};
  ScriptedPlugin plugin{events};
  Host host{events};
  ReadyExecutor executor{plugin, storage, host};
  Fixture() {
    host.executor = &executor;
    storage.recover();
  }
};

TEST(ReadyExecutor, MessagesAfterPersistWaitForTheirReadysWritesAndPersistedFollowsReadyOrder) {
  Fixture f;
  Ready a;
  a.entries = {entry(1), entry(2)};
  a.messages = {PeerMessage{1, 2, {}}};
  a.messages_after_persist = {PeerMessage{1, 3, {}}};
  Ready b;  // writes nothing: no persisted() for it
  b.messages = {PeerMessage{1, 4, {}}};
  Ready c;
  c.truncate_after = 1;
  c.entries = {entry(2, 2)};
  c.hard_state = HardState{2, 1, {}};
  f.plugin.queue = {a, b, c};
  ASSERT_TRUE(f.executor.drain());
  EXPECT_EQ(f.events, (std::vector<std::string>{"send to 2", "send to 4"}));
  EXPECT_EQ(f.executor.persist_waiting(), 2u);
  f.storage.fsync_done();  // the first fsync covers Ready a only
  f.executor.complete_persisted();
  EXPECT_EQ(f.events,
            (std::vector<std::string>{"send to 2", "send to 4", "send to 3", "persisted 2"}));
  f.storage.fsync_done();
  f.executor.complete_persisted();
  // After truncating to 1 and appending 2 again, Ready c's index is 2: its end state.
  EXPECT_EQ(f.events.back(), "persisted 2");
  EXPECT_EQ(f.executor.persist_waiting(), 0u);
  EXPECT_EQ(f.disk.hard_state, (HardState{2, 1, {}}));
  ASSERT_EQ(f.disk.entries.size(), 2u);
  EXPECT_EQ(f.disk.entries[1].epoch, 2u);
}

TEST(ReadyExecutor, AppliesThenBarriersThenStatusAndDefersCompactionToTheEndOfTheReady) {
  Fixture f;
  f.host.compact_at = 1;
  Ready a;
  a.entries = {entry(1, 3), entry(2, 3)};
  a.committed = {{1, 3, entry(1, 3).zxid, {}}, {2, 3, entry(2, 3).zxid, {}}};
  a.barriers = {BarrierResult{7, true, entry(2, 3).zxid, 2, BarrierFailure::none}};
  a.status = BroadcastStatus{};
  f.plugin.queue = {a};
  f.executor.drain();
  // No input reaches the plugin while the Ready executes: compacted() comes after status.
  EXPECT_EQ(f.events, (std::vector<std::string>{"apply 1 epoch 3", "apply 2 epoch 3", "barrier 7",
                                                "status", "compacted 1"}));
  EXPECT_EQ(f.executor.applied().index, 2u);
  EXPECT_EQ(f.executor.applied().epoch, 3u);
  // Outside a Ready the compaction reaches the plugin at once.
  f.executor.compact(Snapshot{2, 3, entry(2, 3).zxid, Bytes{2}});
  EXPECT_EQ(f.events.back(), "compacted 2");
}

TEST(ReadyExecutor, ASnapshotRestoresTheStateMachineBeforeStorageAndMovesTheAppliedPosition) {
  Fixture f;
  Ready a;
  a.snapshot = Snapshot{10, 4, (4ull << 32) | 10, Bytes{9}};
  a.committed = {{11, 4, (4ull << 32) | 11, {}}};
  a.entries = {entry(11, 4)};
  f.plugin.queue = {a};
  f.executor.drain();
  EXPECT_EQ(f.events, (std::vector<std::string>{"restore 10", "apply 11 epoch 4"}));
  f.storage.fsync_done();
  f.executor.complete_persisted();
  EXPECT_EQ(f.events.back(), "persisted 11");
  ASSERT_TRUE(f.disk.snapshot);
  EXPECT_EQ(f.disk.snapshot->last_epoch, 4u);
}

TEST(ReadyExecutor, ACommittedEntryOutOfOrderIsAContractViolationAndIsNotApplied) {
  Fixture f;
  Ready a;
  a.committed = {{2, 1, 5, {}}};  // index 1 was never applied
  Ready b;
  b.committed = {{1, 1, 5, {}}, {2, 1, 5, {}}};  // zxid does not increase
  f.plugin.queue = {a, b};
  f.executor.drain();
  ASSERT_EQ(f.events.size(), 3u);
  EXPECT_EQ(f.events[0].rfind("violation: committed index 2 after applied index 0", 0), 0u)
      << f.events[0];
  EXPECT_EQ(f.events[1], "apply 1 epoch 1");
  EXPECT_EQ(f.events[2].rfind("violation: committed zxid 5 at index 2 does not increase", 0), 0u)
      << f.events[2];
  EXPECT_EQ(f.executor.applied().index, 1u);
}

}  // namespace
