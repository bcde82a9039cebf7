// The built module libql_broadcast_zab.so loads through the kernel's PluginLoader, describes
// its parameters, and makes a working Broadcast.
#include <gtest/gtest.h>

#include <algorithm>

#include "quorumlab/log.hpp"
#include "quorumlab/plugin/loader.hpp"

using namespace quorumlab;

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
  // A one-voter ensemble elects itself; drive it like the kernel until it can propose.
  for (int i = 0; i < 20 && !zab->status().can_propose; ++i) {
    while (zab->has_ready()) {
      Ready rd = zab->ready();
      bool writes = rd.snapshot || rd.truncate_after || !rd.entries.empty() || rd.hard_state ||
                    !rd.messages_after_persist.empty();
      LogIndex last = zab->status().last_index;
      zab->advance();
      if (writes) zab->persisted(last);
    }
    zab->tick();
  }
  ASSERT_TRUE(zab->status().can_propose);
  auto r = zab->propose({Bytes{'x'}});
  ASSERT_TRUE(r.accepted);
  EXPECT_EQ(r.first_zxid, make_zxid(1, 1));
  EXPECT_EQ(zab->check_invariants(), "");
}
