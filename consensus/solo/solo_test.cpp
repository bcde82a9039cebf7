// solo: commit exactly when durable, in order, with zxids that grow across restarts.
#include <gtest/gtest.h>

#include "quorumlab/consensus/epoch_zxid.hpp"
#include "quorumlab/log.hpp"
#include "solo.hpp"

using namespace quorumlab;
using quorumlab::consensus::make_zxid;

namespace {

struct Fixture {
  Rng rng{1};
  NullTracer tracer;
  PluginContext ctx;
  Fixture() {
    ctx.self = 1;
    ctx.membership.voters = {1};
    ctx.rng = &rng;
    ctx.tracer = &tracer;
    ctx.logger = log::get("solo");
  }
};

Bytes txn(std::uint8_t b) {
  return Bytes{b};
}

}  // namespace

TEST(Solo, CommitsOnlyWhatStorageMadeDurableInOrder) {
  Fixture f;
  solo::Solo s(f.ctx);
  s.restore({});
  auto r0 = s.ready();
  ASSERT_TRUE(r0.hard_state);
  EXPECT_EQ(r0.hard_state->term, 1u);
  auto p = s.propose({txn(1), txn(2), txn(3)});
  ASSERT_TRUE(p.accepted);
  EXPECT_EQ(p.first_zxid, make_zxid(1, 1));
  auto r1 = s.ready();
  ASSERT_EQ(r1.entries.size(), 3u);
  EXPECT_TRUE(r1.committed.empty()) << "nothing commits before it is durable";
  s.persisted(2);
  auto r2 = s.ready();
  ASSERT_EQ(r2.committed.size(), 2u);
  EXPECT_EQ(r2.committed[0].zxid, make_zxid(1, 1));
  EXPECT_EQ(r2.committed[1].data, txn(2));
  s.persisted(3);
  EXPECT_EQ(s.ready().committed.size(), 1u);
  EXPECT_EQ(s.status().last_committed_zxid, make_zxid(1, 3));
  EXPECT_EQ(s.check_invariants(), "");
}

TEST(Solo, BarrierWaitsForEverythingProposedBeforeIt) {
  Fixture f;
  solo::Solo s(f.ctx);
  s.restore({});
  s.ready();
  s.propose({txn(1)});
  s.request_barrier(7, BarrierKind::sync_op);
  auto r = s.ready();
  EXPECT_TRUE(r.barriers.empty());
  s.persisted(1);
  r = s.ready();
  ASSERT_EQ(r.barriers.size(), 1u);
  EXPECT_EQ(r.barriers[0].id, 7u);
  EXPECT_TRUE(r.barriers[0].ok);
  EXPECT_EQ(r.barriers[0].zxid, make_zxid(1, 1));
  s.request_barrier(8, BarrierKind::read_index);  // nothing outstanding: resolves at once
  EXPECT_EQ(s.ready().barriers.size(), 1u);
}

TEST(Solo, RestoreReplaysDurableEntriesAndStartsANewEpoch) {
  Fixture f;
  solo::Solo s(f.ctx);
  RecoveredLog log;
  log.hard_state.term = 4;
  log.snapshot = Snapshot{10, 4, make_zxid(4, 10), {}};
  log.entries = {{11, 4, make_zxid(4, 11), txn(11)}, {12, 4, make_zxid(4, 12), txn(12)}};
  s.restore(log);
  auto r = s.ready();
  ASSERT_EQ(r.committed.size(), 2u);
  EXPECT_EQ(r.committed[0].index, 11u);
  EXPECT_EQ(r.hard_state->term, 5u);
  auto p = s.propose({txn(13)});
  EXPECT_EQ(p.first_zxid, make_zxid(5, 1));
  EXPECT_GT(p.first_zxid, make_zxid(4, 12));
  EXPECT_EQ(s.ready().entries[0].index, 13u);
}
