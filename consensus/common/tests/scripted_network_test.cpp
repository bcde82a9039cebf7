// ScriptedNetwork mechanics with a toy primary-backup protocol (node 1 is always the primary):
// the Ready contract is executed as the kernel would, persistence is under the test's control,
// crashes lose what was not durable, and the global checks catch a divergent history.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "quorumlab/consensus/epoch_zxid.hpp"
#include "quorumlab/consensus/memory_log.hpp"
#include "quorumlab/consensus/testing/chaos.hpp"
#include "quorumlab/consensus/testing/scripted_network.hpp"

using namespace quorumlab;
using namespace quorumlab::consensus;
using namespace quorumlab::consensus::testing;

namespace {

// Messages: 'E' index data (append), 'A' index (ack), 'C' index (commit).
Bytes msg(char type, LogIndex index, const Bytes& data = {}) {
  Bytes out{static_cast<std::uint8_t>(type)};
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<std::uint8_t>(index >> (8 * i)));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}
LogIndex index_of(const Bytes& m) {
  LogIndex v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<LogIndex>(m[1 + static_cast<std::size_t>(i)]) << (8 * i);
  return v;
}

/// Node 1 proposes and commits on a majority of durable acks; the others append and ack after
/// persisting. `liar` makes a backup commit its own txn at index 1 (to test the checks).
class ToyPrimary final : public Broadcast {
 public:
  ToyPrimary(PluginContext& ctx, bool liar) : ctx_(ctx), liar_(liar) {}
  void restore(const RecoveredLog& rec) override {
    if (rec.snapshot) {
      log_.reset(rec.snapshot->last_index, rec.snapshot->last_epoch, rec.snapshot->last_zxid);
      commit_ = rec.snapshot->last_index;
    }
    for (const auto& e : rec.entries)
      log_.append(e);
    durable_ = log_.last_index();
  }
  void set_snapshot_source(SnapshotSource*) override {}
  void step(const PeerMessage& m) override {
    if (m.payload.size() < 9) return;
    LogIndex i = index_of(m.payload);
    switch (m.payload[0]) {
      case 'E':
        if (i != log_.last_index() + 1) return;
        append(Bytes(m.payload.begin() + 9, m.payload.end()));
        out_.messages_after_persist.push_back({ctx_.self, 1, msg('A', i)});
        break;
      case 'A':
        acks_[i].insert(m.from);
        try_commit();
        break;
      case 'C':
        commit_to(std::min(i, log_.last_index()));
        break;
    }
  }
  void tick() override {}
  ProposeResult propose(const std::vector<Bytes>& txns) override {
    if (ctx_.self != 1 && !liar_) return {false, 1, 0};
    ProposeResult r{true, ctx_.self, 0};
    for (const auto& t : txns) {
      LogIndex i = append(t);
      if (!r.first_zxid) r.first_zxid = log_.last_zxid();
      for (NodeId peer : ctx_.membership.voters) {
        if (peer != ctx_.self) out_.messages.push_back({ctx_.self, peer, msg('E', i, t)});
      }
    }
    if (liar_) commit_to(log_.last_index());
    return r;
  }
  void persisted(LogIndex index) override {
    durable_ = index;
    try_commit();
  }
  void compacted(const Snapshot& meta) override { log_.compact(meta.last_index); }
  void request_barrier(std::uint64_t id, BarrierKind) override {
    out_.barriers.push_back({id, true, log_.zxid_at(commit_).value_or(0), commit_});
  }
  bool has_ready() const override { return !out_.empty(); }
  Ready ready() override {
    Ready r = std::move(out_);
    out_ = Ready{};
    return r;
  }
  BroadcastStatus status() const override {
    BroadcastStatus s;
    s.role = ctx_.self == 1 ? Role::leader : Role::follower;
    s.leader = 1;
    s.epoch = 1;
    s.commit_index = commit_;
    s.last_index = log_.last_index();
    s.last_committed_zxid = log_.zxid_at(commit_).value_or(0);
    s.can_propose = ctx_.self == 1;
    return s;
  }
  std::string check_invariants() override {
    return commit_ <= log_.last_index() ? "" : "commit > last";
  }

 private:
  LogIndex append(const Bytes& data) {
    LogIndex i = log_.last_index() + 1;
    LogEntry e{i, 1, make_zxid(1, static_cast<std::uint32_t>(i)), data};
    log_.append(e);
    out_.entries.push_back(e);
    return i;
  }
  void try_commit() {
    if (ctx_.self != 1) return;
    LogIndex target = commit_;
    for (LogIndex i = commit_ + 1; i <= log_.last_index(); ++i) {
      std::size_t votes = acks_[i].size() + (durable_ >= i ? 1 : 0);
      if (votes < ctx_.membership.quorum_size()) break;
      target = i;
    }
    if (target == commit_) return;
    commit_to(target);
    for (NodeId peer : ctx_.membership.voters) {
      if (peer != 1) out_.messages.push_back({1, peer, msg('C', target)});
    }
  }
  void commit_to(LogIndex target) {
    for (LogIndex i = commit_ + 1; i <= target; ++i) {
      const auto& e = log_.at(i);
      out_.committed.push_back({e.index, e.epoch, e.zxid, e.data});
    }
    commit_ = std::max(commit_, target);
  }

  PluginContext& ctx_;
  bool liar_;
  MemoryLog log_;
  LogIndex commit_ = 0;
  LogIndex durable_ = 0;
  std::map<LogIndex, std::set<NodeId>> acks_;
  Ready out_;
};

ScriptedNetwork::Options three_nodes() {
  ScriptedNetwork::Options o;
  o.membership.voters = {1, 2, 3};
  return o;
}

Bytes b(const char* s) {
  return Bytes(s, s + std::char_traits<char>::length(s));
}

}  // namespace

TEST(ScriptedNetwork, ExecutesReadiesAsTheKernelWould) {
  ScriptedNetwork net([](PluginContext& c) { return std::make_unique<ToyPrimary>(c, false); },
                      three_nodes());
  net.start();
  ASSERT_TRUE(net.propose(1, {b("x")}).accepted);
  EXPECT_EQ(net.messages(1, 0).size(), 2u) << "appends go out at once";
  net.deliver_all();
  ASSERT_EQ(net.applied(1).size(), 1u);
  EXPECT_EQ(net.applied(1)[0].data, b("x"));
  EXPECT_EQ(net.applied(2).size(), 1u);
  EXPECT_EQ(net.history().size(), 1u);
}

TEST(ScriptedNetwork, AfterPersistMessagesWaitForTheDisk) {
  ScriptedNetwork net([](PluginContext& c) { return std::make_unique<ToyPrimary>(c, false); },
                      three_nodes());
  net.start();
  net.set_auto_persist(2, false);
  net.set_auto_persist(3, false);
  net.propose(1, {b("x")});
  net.deliver_all();
  EXPECT_TRUE(net.messages(2, 1).empty()) << "the ack waits for node 2's disk";
  EXPECT_EQ(net.pending_persist(2), 1u);
  EXPECT_TRUE(net.disk(2).entries.empty());
  net.complete_persist(2);
  EXPECT_EQ(net.disk(2).entries.size(), 1u);
  EXPECT_EQ(net.messages(2, 1).size(), 1u);
  net.deliver_all();
  EXPECT_EQ(net.applied(1).size(), 1u) << "primary + node 2 form a quorum";
}

TEST(ScriptedNetwork, CrashLosesWhatWasNotDurable) {
  ScriptedNetwork net([](PluginContext& c) { return std::make_unique<ToyPrimary>(c, false); },
                      three_nodes());
  net.start();
  net.propose(1, {b("x")});
  net.deliver_all();
  net.set_auto_persist(2, false);
  net.propose(1, {b("y")});
  net.deliver_all();
  EXPECT_EQ(net.storage_log(2).last_index(), 2u);
  net.crash(2);
  EXPECT_FALSE(net.is_up(2));
  EXPECT_TRUE(net.applied(2).empty());
  net.restart(2);
  EXPECT_EQ(net.storage_log(2).last_index(), 1u) << "only the durable entry survives";
  EXPECT_EQ(net.plugin(2).status().last_index, 1u);
}

TEST(ScriptedNetwork, DropDuplicateAndPartition) {
  ScriptedNetwork net([](PluginContext& c) { return std::make_unique<ToyPrimary>(c, false); },
                      three_nodes());
  net.start();
  net.partition({{1, 2}, {3}});
  net.propose(1, {b("x")});
  EXPECT_EQ(net.messages(1, 3).size(), 0u) << "blocked links drop at send";
  auto to2 = net.messages(1, 2);
  ASSERT_EQ(to2.size(), 1u);
  net.duplicate(to2[0]);
  EXPECT_EQ(net.messages(1, 2).size(), 2u);
  net.drop(to2[0]);
  EXPECT_TRUE(net.deliver_next(1, 2));
  net.deliver_all();
  EXPECT_EQ(net.applied(1).size(), 1u);
  net.heal();
  EXPECT_TRUE(net.link_up(1, 3));
}

TEST(ScriptedNetwork, CompactionWritesTheAppliedStateAsTheSnapshot) {
  ScriptedNetwork net([](PluginContext& c) { return std::make_unique<ToyPrimary>(c, false); },
                      three_nodes());
  net.start();
  net.propose(1, {b("x"), b("y")});
  net.deliver_all();
  net.compact(1);
  ASSERT_TRUE(net.disk(1).snapshot);
  EXPECT_EQ(net.disk(1).snapshot->last_index, 2u);
  EXPECT_TRUE(net.disk(1).entries.empty());
  net.crash(1);
  net.restart(1);
  EXPECT_EQ(net.applied(1).size(), 2u) << "the state machine comes back from the snapshot";
}

TEST(ScriptedNetwork, DetectsDivergentCommits) {
  ScriptedNetwork net([](PluginContext& c) { return std::make_unique<ToyPrimary>(c, c.self == 3); },
                      three_nodes());
  net.start();
  net.isolate(3);
  net.propose(1, {b("x")});
  net.deliver_all();
  ASSERT_EQ(net.applied(1).size(), 1u);
  // Node 3 commits its own txn at index 1, where the others committed "x".
  EXPECT_THROW(net.propose(3, {b("evil")}), InvariantViolation);
}

TEST(ScriptedNetwork, BarrierIdsAreChecked) {
  ScriptedNetwork net([](PluginContext& c) { return std::make_unique<ToyPrimary>(c, false); },
                      three_nodes());
  net.start();
  net.request_barrier(1, 7, BarrierKind::sync_op);
  ASSERT_TRUE(net.barrier(1, 7));
  EXPECT_TRUE(net.barrier(1, 7)->ok);
  EXPECT_THROW(net.request_barrier(1, 7, BarrierKind::sync_op), std::logic_error);
}

TEST(Chaos, RunsAndKeepsTheToyConsistent) {
  // The toy has no failover; only check that the driver runs and the checks hold.
  ScriptedNetwork net([](PluginContext& c) { return std::make_unique<ToyPrimary>(c, false); },
                      three_nodes());
  net.start();
  ChaosOptions opt;
  opt.crash = 0;
  opt.compact = 0;
  opt.partition = 0;
  Chaos chaos(net, 5, opt);
  EXPECT_NO_THROW(chaos.run(500));
  EXPECT_GT(net.steps(), 400u);
}
