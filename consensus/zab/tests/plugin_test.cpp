// The built module libql_broadcast_zab.so loads through the kernel's PluginLoader, describes
// its parameters, and makes a working Broadcast.
#include <gtest/gtest.h>

#include <algorithm>

#include "quorumlab/log.hpp"
#include "quorumlab/plugin/loader.hpp"
#include "quorumlab/replica/memory_disk.hpp"
#include "quorumlab/replica/ready_executor.hpp"

using namespace quorumlab;

namespace {

/// A host that only counts what it is asked to do (one voter: no messages).
struct CountingHost final : replica::ReplicaHost {
  std::size_t applied = 0;
  void send(const PeerMessage&) override {}
  void restore_snapshot(const Snapshot&) override {}
  void apply(const CommittedTxn&) override { ++applied; }
  void barrier_resolved(const BarrierResult&) override {}
  void status_changed(const BroadcastStatus&) override {}
  void contract_violation(const std::string& what) override { ADD_FAILURE() << what; }
};

}  // namespace

TEST(Plugin, LoadsDescribesAndRuns) {
  PluginLoader loader(QL_PLUGIN_BUILD_DIR);
  PluginInfo info = loader.describe(PluginKind::broadcast, "zab");
  EXPECT_EQ(info.name, "zab");
  EXPECT_FALSE(info.summary.empty());
  std::vector<std::string> names;
  for (const auto& p : info.params) {
    names.push_back(p.name);
    EXPECT_FALSE(p.help.empty()) << p.name;
  }
  for (const char* expected :
       {"ping_interval_ticks", "sync_limit_ticks", "init_limit_ticks", "finalize_wait_ticks",
        "notification_min_ticks", "notification_max_ticks", "snap_threshold_entries"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
  EXPECT_THROW(loader.resolve(info, {{"no_such_knob", std::int64_t{1}}}), PluginError);

  Rng rng(1);
  NullTracer tracer;
  PluginContext ctx;
  ctx.self = 1;
  ctx.membership.voters = {1};
  ctx.params = loader.resolve(info, {{"finalize_wait_ticks", std::int64_t{0}}});
  ctx.rng = &rng;
  ctx.tracer = &tracer;
  ctx.logger = log::get("zab");
  auto zab = loader.make_broadcast("zab", ctx);
  zab->restore(RecoveredLog{});
  // A one-voter ensemble elects itself; drive it with the kernel's executor until it can
  // propose, every fsync completing at once.
  replica::DiskImage disk;
  replica::MemoryDisk storage(disk, [] {});
  CountingHost host;
  replica::ReadyExecutor executor(*zab, storage, host);
  auto drive = [&] {
    executor.drain();
    while (storage.fsync_running()) {
      storage.fsync_done();
      executor.drain();
    }
  };
  for (int i = 0; i < 20 && !zab->status().can_propose; ++i) {
    drive();
    zab->tick();
  }
  ASSERT_TRUE(zab->status().can_propose);
  auto r = zab->propose({Bytes{'x'}});
  ASSERT_TRUE(r.accepted);
  EXPECT_EQ(r.first_zxid, (Zxid{1} << 32) | 1);  // zab's encoding: epoch 1, counter 1
  drive();
  EXPECT_EQ(zab->status().last_committed_zxid, r.first_zxid);
  EXPECT_GE(host.applied, 1u);
  EXPECT_EQ(info.barrier_kinds,
            barrier_bit(BarrierKind::sync_op) | barrier_bit(BarrierKind::read_index) |
                barrier_bit(BarrierKind::leader_commit) | barrier_bit(BarrierKind::lease));
  EXPECT_EQ(info.unavailable_by_default.count("lease"), 1u);  // lease=false by default
  EXPECT_EQ(zab->check_invariants(), "");
}
