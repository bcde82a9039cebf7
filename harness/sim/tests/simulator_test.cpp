// Whole-cluster simulation: determinism, short seed runs (sanitizer-friendly; the long sweeps
// run through `qlab sim` in CTest), and the checker self-tests: a test-only fault that makes
// the system wrong on purpose must be reported as a violation of the property each test
// names.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "quorumlab/log.hpp"
#include "quorumlab/plugin/loader.hpp"
#include "quorumlab/sim/simulator.hpp"

using namespace quorumlab;
using namespace quorumlab::sim;

namespace {

class Sim : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { log::configure("off"); }
};

bool have_plugin(const std::string& name) {
  try {
    PluginLoader loader(PluginLoader::default_dir());
    loader.describe(PluginKind::broadcast, name);
    return true;
  } catch (const PluginError&) {
    return false;
  }
}

SimConfig solo(const std::string& faults = "all") {
  SimConfig c;
  c.broadcast = "solo";
  c.nodes = 1;
  c.duration_ms = 2000;
  apply_fault_mix(c, faults);
  return c;
}

SimConfig zab(int nodes, const std::string& faults = "all") {
  SimConfig c;
  c.broadcast = "zab";
  c.nodes = nodes;
  c.duration_ms = 2000;
  apply_fault_mix(c, faults);
  return c;
}

void expect_seeds_pass(SimConfig c, std::uint64_t first, std::uint64_t count) {
  for (std::uint64_t s = first; s < first + count; ++s) {
    c.seed = s;
    RunResult r = run_simulation(c);
    ASSERT_TRUE(r.ok) << format_failure(c, r);
    EXPECT_GT(r.ops_ok, 0u) << "seed " << s;
  }
}

/// Runs seeds from `first_seed` until the first failure; it must break `property`.
void expect_violation(SimConfig c, const std::string& property, std::uint64_t max_seeds = 30,
                      std::uint64_t first_seed = 1) {
  for (std::uint64_t s = first_seed; s < first_seed + max_seeds; ++s) {
    c.seed = s;
    RunResult r = run_simulation(c);
    if (r.ok) continue;
    EXPECT_EQ(r.property, property) << format_failure(c, r);
    EXPECT_FALSE(r.message.empty());
    EXPECT_FALSE(r.trace_tail.empty());
    return;
  }
  ADD_FAILURE() << "no seed in " << first_seed << ".." << first_seed + max_seeds - 1 << " broke "
                << property;
}

}  // namespace

// ------------------------------------------------------------------ determinism

TEST_F(Sim, SameSeedGivesTheSameTraceDigest) {
  SimConfig c = solo();
  c.seed = 7;
  RunResult a = run_simulation(c);
  RunResult b = run_simulation(c);
  ASSERT_TRUE(a.ok) << format_failure(c, a);
  EXPECT_EQ(a.trace_digest, b.trace_digest);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.ops, b.ops);
  c.seed = 8;
  EXPECT_NE(run_simulation(c).trace_digest, a.trace_digest);
}

TEST_F(Sim, SameSeedGivesTheSameTraceDigestWithZab) {
  if (!have_plugin("zab")) GTEST_SKIP() << "no zab plugin";
  SimConfig c = zab(3);
  c.seed = 3;
  RunResult a = run_simulation(c);
  RunResult b = run_simulation(c);
  EXPECT_EQ(a.trace_digest, b.trace_digest) << format_failure(c, a);
  EXPECT_EQ(a.events, b.events);
}

TEST_F(Sim, TraceFileHasEveryRecord) {
  SimConfig c = solo("none");
  c.seed = 1;
  c.duration_ms = 300;
  const auto path = std::filesystem::temp_directory_path() /
                    ("ql_sim_trace_" + std::to_string(::getpid()) + ".txt");
  c.trace_file = path.string();
  RunResult r = run_simulation(c);
  ASSERT_TRUE(r.ok) << format_failure(c, r);
  std::ifstream in(path);
  std::size_t lines = 0;
  for (std::string line; std::getline(in, line);)
    ++lines;
  std::filesystem::remove(path);
  EXPECT_GT(lines, 100u);
  EXPECT_EQ(r.trace_tail.size(), 50u);
}

// ------------------------------------------------------------------ short seed runs

TEST_F(Sim, SoloNoFaults) {
  expect_seeds_pass(solo("none"), 1, 3);
}
TEST_F(Sim, SoloAllFaults) {
  expect_seeds_pass(solo("all"), 1, 8);
}
TEST_F(Sim, SoloAllFaultsReadIndex) {
  SimConfig c = solo("all");
  c.read_policy = "read-index";
  expect_seeds_pass(c, 100, 4);
}
TEST_F(Sim, ZabThreeNodesNoFaults) {
  if (!have_plugin("zab")) GTEST_SKIP() << "no zab plugin";
  expect_seeds_pass(zab(3, "none"), 1, 3);
}
TEST_F(Sim, ZabThreeNodesAllFaults) {
  if (!have_plugin("zab")) GTEST_SKIP() << "no zab plugin";
  expect_seeds_pass(zab(3, "all"), 1, 4);
}

// ------------------------------------------------------------------ checker self-tests

/// The disk acknowledges flushes before they are durable; crashes then lose acknowledged
/// (committed) txns. Sessions are short so that the restarted replica soon expires them and
/// commits the closeSession txns at indexes that held the lost txns.
SimConfig lying_disk() {
  SimConfig c = solo("crash");
  c.test.storage_ack_before_durable = true;
  c.disk.fsync_delay = {5000, 15000, 40000};
  c.crash.unsynced_prefix_survives_chance = 0;
  c.workload.session_timeout_ms = 600;
  c.workload.request_timeout_ms = 400;
  c.workload.connect_timeout_ms = 300;
  c.liveness_timeout_ms = 3000;
  // Clients refuse the replica that forgot what they saw: no progress after healing.
  c.disabled_checks = {"liveness"};
  return c;
}

// Leadership transfer (Raft 3.10) as a nemesis fault: alone, it moves the leadership (nothing
// else changes leaders) and every checker holds; under the full fault mix every checker holds
// too, and transfers do start.
TEST_F(Sim, RaftLeadershipTransfersUnderEveryFaultKeepEveryProperty) {
  if (!have_plugin("raft")) GTEST_SKIP() << "raft plugin not built";
  for (const char* broadcast : {"raft", "raft-prevote-cq"}) {
    SimConfig c = zab(3, "transfer");
    c.broadcast = broadcast;
    c.nemesis.interval_mean_ms = 100;
    for (std::uint64_t s = 1; s <= 5; ++s) {
      c.seed = s;
      RunResult r = run_simulation(c);
      ASSERT_TRUE(r.ok) << format_failure(c, r);
      EXPECT_GT(r.ops_ok, 0u) << "seed " << s;
      EXPECT_GT(r.transfers, 0u) << broadcast << " seed " << s;
      EXPECT_GT(r.leaders, 1u) << broadcast << " seed " << s << ": the leadership never moved";
    }
    apply_fault_mix(c, "all,transfer");
    std::uint64_t transfers = 0;
    for (std::uint64_t s = 1; s <= 10; ++s) {
      c.seed = s;
      RunResult r = run_simulation(c);
      ASSERT_TRUE(r.ok) << format_failure(c, r);
      EXPECT_GT(r.ops_ok, 0u) << "seed " << s;
      transfers += r.transfers;
    }
    EXPECT_GE(transfers, 5u) << broadcast;
  }
}

TEST_F(Sim, ZabRefusesLeadershipTransfersAndRunsOn) {
  SimConfig c = zab(3, "transfer");
  c.nemesis.interval_mean_ms = 100;
  for (std::uint64_t s = 1; s <= 3; ++s) {
    c.seed = s;
    RunResult r = run_simulation(c);
    ASSERT_TRUE(r.ok) << format_failure(c, r);
    EXPECT_EQ(r.transfers, 0u);
    EXPECT_GT(r.faults, 0u);
  }
}

TEST_F(Sim, SelfTestLyingDiskBreaksCommittedTxnsNeverChange) {
  expect_violation(lying_disk(), "committed_txns_never_change");
}

TEST_F(Sim, SelfTestLyingDiskBreaksLinearizability) {
  // The same fault with the replica-level checks off, and clients that reconnect without
  // saying what they saw: their history shows acknowledged writes vanishing.
  SimConfig c = lying_disk();
  c.test.client_forgets_zxid_on_reconnect = true;
  c.disabled_checks = {"liveness",
                       "committed_txns_never_change",
                       "same_txns_same_order",
                       "digest_at_zxid",
                       "read_matches_zxid",
                       "read_your_writes",
                       "no_read_from_past",
                       "watch_before_data"};
  expect_violation(c, "linearizable");
}

TEST_F(Sim, SelfTestReadsSkippingSessionOrderBreakNoReadFromThePast) {
  // A read executed before its session's earlier write applied answers with an older zxid
  // than the write's reply, which the client received first.
  SimConfig c = solo("none");
  c.test.node_reads_skip_session_order = true;
  c.disk.fsync_delay = {5000, 20000, 50000};
  expect_violation(c, "no_read_from_past");
}

TEST_F(Sim, SelfTestReadsSkippingSessionOrderBreakReadYourWrites) {
  SimConfig c = solo("none");
  c.test.node_reads_skip_session_order = true;
  c.disk.fsync_delay = {5000, 20000, 50000};
  c.disabled_checks = {"no_read_from_past", "watch_before_data"};
  expect_violation(c, "read_your_writes");
}

TEST_F(Sim, SelfTestWritesOvertakingTheirSessionsSyncBreakFifoExecutionOrder) {
  // A write sent after a sync_op reaches the leader first (forwards and barriers travel apart):
  // the sync, and the read behind it, are served after the later write. Zab seeds 1, 21 and 46
  // showed it before the node held such writes back.
  SimConfig c = zab(3);
  c.read_policy = "sync";
  c.test.node_writes_skip_barrier_order = true;
  c.disabled_checks = {"no_read_from_past", "read_your_writes", "read_matches_zxid"};
  expect_violation(c, "fifo_execution_order", 60);
}

TEST_F(Sim, PausedNodesSeeTheElapsedTimeWhenTheyResume) {
  // Pauses longer than zab's election timeout (sync_limit 30 ticks = 300 ms) among the faults:
  // on resume every tick that fell due is delivered before the held messages.
  if (!have_plugin("zab")) GTEST_SKIP() << "no zab plugin";
  SimConfig c = zab(3, "pause");
  c.pause.duration_min_ms = 400;
  c.pause.duration_max_ms = 1500;
  expect_seeds_pass(c, 1, 10);
}

TEST_F(Sim, SelfTestDroppingTicksWhilePausedBreaksElapsedTimeSeen) {
  if (!have_plugin("zab")) GTEST_SKIP() << "no zab plugin";
  SimConfig c = zab(3, "pause");
  c.pause.duration_min_ms = 400;
  c.pause.duration_max_ms = 1500;
  c.test.drop_ticks_while_paused = true;
  expect_violation(c, "elapsed_time_seen");
}

TEST_F(Sim, SelfTestServersWithoutQuorumKeepingClientsBreakDisconnectedBeforeExpiry) {
  // A replica without a leader keeps its clients connected and answers their pings (as before
  // issue 18), while the leader on the majority side expires their sessions: a client keeps
  // hearing from its server after its session is gone. The old code dropped a connection only
  // for a pending write or sync, so the clients here mostly read and idle; sessions of 1 s, and
  // a minority cut off for longer (1.5 to 3 s) while the majority keeps a leader. Zab seed 1
  // shows it (client 1 on the cut-off node 2 gets a ping reply 509 ms after its session
  // expired, and would until the heal at 1.7 s). With the fix, seeds 1..1000 pass.
  if (!have_plugin("zab")) GTEST_SKIP() << "no zab plugin";
  SimConfig c = zab(3, "partition");
  c.duration_ms = 5000;
  c.workload.session_timeout_ms = 1000;
  c.partition.duration_min_ms = 1500;
  c.partition.duration_max_ms = 3000;
  c.partition.weight_symmetric = c.partition.weight_asymmetric = 0;
  c.partition.weight_isolate_leader = c.partition.weight_client = 0;
  c.nemesis.interval_mean_ms = 2000;
  c.workload.think_mean_us = 300'000;
  c.workload.weight_create = c.workload.weight_set = c.workload.weight_delete = 1;
  c.workload.weight_sync = 0;
  c.test.node_serves_without_quorum = true;
  expect_violation(c, "disconnected_before_expiry", 1, 1);
  c.test.node_serves_without_quorum = false;
  for (std::uint64_t s = 1; s <= 50; ++s) {
    c.seed = s;
    RunResult r = run_simulation(c);
    ASSERT_TRUE(r.ok) << format_failure(c, r);
  }
}

TEST_F(Sim, SelfTestLateNotificationsBreakWatchBeforeData) {
  SimConfig c = solo("none");
  c.test.net_notifications_late = true;
  c.workload.watch_chance = 0.9;
  expect_violation(c, "watch_before_data");
}

TEST_F(Sim, SelfTestReorderedRepliesBreakSessionFifo) {
  SimConfig c = solo("none");
  c.test.net_replies_reordered = true;
  expect_violation(c, "session_fifo");
}

TEST_F(Sim, SelfTestNoTimeToRecoverBreaksLiveness) {
  SimConfig c = solo("crash");
  c.liveness_timeout_ms = 1;
  expect_violation(c, "liveness", 3);
}

TEST_F(Sim, SelfTestForgettingTheZxidOnReconnectBreaksNoReadFromThePast) {
  // A lagging follower accepts a client that did not say what it had seen. Since replicas
  // serve only within a quorum (issue 18) a follower is behind less often: more seeds.
  if (!have_plugin("zab")) GTEST_SKIP() << "no zab plugin";
  SimConfig c = zab(3, "partition");
  c.test.client_forgets_zxid_on_reconnect = true;
  c.network.client_break_chance = 0.02;
  expect_violation(c, "no_read_from_past", 1000);
}
