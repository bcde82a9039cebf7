// The measurement scenarios (`qlab sim --scenario`): determinism, and the shapes the papers
// report: Figure 16 of the Raft paper (more randomness in the election timeout elects faster)
// and the disruptive server of the thesis (9.6: PreVote keeps a rejoining server from raising
// the leader's term).
#include <gtest/gtest.h>

#include <algorithm>

#include "quorumlab/log.hpp"
#include "quorumlab/sim/simulator.hpp"

using namespace quorumlab;
using namespace quorumlab::sim;

namespace {

class Scenario : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { log::configure("off"); }
};

/// experiments/raft_fig16.toml's setup: 5 raft servers, 1 ms ticks, a broadcast time of about
/// 15 ms, heartbeats at half the minimum election timeout.
SimConfig fig16(int min_ms, int max_ms, int trials) {
  SimConfig c;
  c.broadcast = "raft";
  c.nodes = 5;
  apply_fault_mix(c, "none");
  c.workload.clients = 0;
  c.tick_ms = 1;
  c.clock.tick_jitter_us = 50;
  c.network.peer_delay = {6500, 7000, 10000};
  c.disk.fsync_delay = {200, 500, 1000};
  c.broadcast_params = {{"election_timeout_min_ticks", std::to_string(min_ms)},
                        {"election_timeout_max_ticks", std::to_string(max_ms)},
                        {"heartbeat_interval_ticks", std::to_string(min_ms / 2)}};
  c.scenario.name = "leader-crash";
  c.scenario.trials = trials;
  c.scenario.settle_ms = 100;
  return c;
}

SimConfig disruptive(const std::string& broadcast, int rounds) {
  SimConfig c;
  c.broadcast = broadcast;
  c.nodes = 3;
  apply_fault_mix(c, "none");
  c.scenario.name = "disruptive";
  c.scenario.trials = rounds;
  c.scenario.partition_ms = 2000;
  c.scenario.heal_ms = 2000;
  return c;
}

double median(std::vector<double> v) {
  return percentile(std::move(v), 50);
}

}  // namespace

TEST_F(Scenario, LeaderCrashSameSeedGivesTheSameTrials) {
  SimConfig c = fig16(150, 300, 8);
  c.seed = 7;
  RunResult a = run_simulation(c);
  RunResult b = run_simulation(c);
  ASSERT_TRUE(a.ok) << format_failure(c, a);
  EXPECT_EQ(a.trace_digest, b.trace_digest);
  EXPECT_EQ(a.scenario.elected_ms, b.scenario.elected_ms);
  EXPECT_EQ(a.scenario.trials, 8);
  EXPECT_EQ(a.scenario.elected_ms.size(), 8u);
  EXPECT_EQ(a.scenario.serving_ms.size(), 8u);
  EXPECT_EQ(a.crashes, 8u);
  c.seed = 8;
  RunResult other = run_simulation(c);
  EXPECT_NE(other.scenario.elected_ms, a.scenario.elected_ms);
}

TEST_F(Scenario, LeaderCrashTimesAreBoundedByTheTimeoutsAsInTheFigure) {
  // Followers last heard from the leader 0 .. one heartbeat interval (75 ms) before the crash,
  // so no election can end before 150 - 75 ms; the winner's own RequestVote round trip comes
  // on top of its timeout, and a new leader serves one AppendEntries round trip later.
  SimConfig c = fig16(150, 300, 30);
  c.seed = 3;
  RunResult r = run_simulation(c);
  ASSERT_TRUE(r.ok) << format_failure(c, r);
  ASSERT_EQ(r.scenario.elected_ms.size(), 30u);
  EXPECT_EQ(r.scenario.censored, 0);
  for (std::size_t i = 0; i < r.scenario.elected_ms.size(); ++i) {
    EXPECT_GE(r.scenario.elected_ms[i], 75.0 + 13.0) << "trial " << i;
    EXPECT_GT(r.scenario.serving_ms[i], r.scenario.elected_ms[i]) << "trial " << i;
  }
  EXPECT_LT(median(r.scenario.elected_ms), 300.0);
}

TEST_F(Scenario, MoreRandomnessInTheElectionTimeoutElectsFaster) {
  // Figure 16, top: 150-150 ms takes many split votes (seconds); 150-300 ms well under 300 ms.
  SimConfig fixed = fig16(150, 150, 6);
  SimConfig spread = fig16(150, 300, 30);
  fixed.seed = spread.seed = 11;
  RunResult f = run_simulation(fixed);
  RunResult s = run_simulation(spread);
  ASSERT_TRUE(f.ok) << format_failure(fixed, f);
  ASSERT_TRUE(s.ok) << format_failure(spread, s);
  ASSERT_FALSE(f.scenario.elected_ms.empty());
  EXPECT_GT(median(f.scenario.elected_ms), 3 * median(s.scenario.elected_ms));
  double terms = 0;
  for (auto t : f.scenario.terms)
    terms += static_cast<double>(t);
  EXPECT_GT(terms / static_cast<double>(f.scenario.terms.size()), 2.0);  // split votes
}

TEST_F(Scenario, ACandidateTimeoutOfItsOwnEndsTheSplitVotesOfTheFixedTimeout) {
  // Raft Refloated: with 150-151 ms, a candidate retrying after 75-150 ms breaks the tie.
  SimConfig plain = fig16(150, 151, 10);
  SimConfig refloated = plain;
  refloated.broadcast_params["candidate_timeout_min_ticks"] = "75";
  refloated.broadcast_params["candidate_timeout_max_ticks"] = "150";
  plain.seed = refloated.seed = 5;
  RunResult p = run_simulation(plain);
  RunResult r = run_simulation(refloated);
  ASSERT_TRUE(p.ok) << format_failure(plain, p);
  ASSERT_TRUE(r.ok) << format_failure(refloated, r);
  EXPECT_GT(median(p.scenario.elected_ms), 2 * median(r.scenario.elected_ms));
}

TEST_F(Scenario, PeersThatSeeTheCrashCampaignSooner) {
  SimConfig quiet = fig16(150, 300, 20);
  SimConfig noticed = quiet;
  noticed.scenario.crash_notifies_peers = true;
  quiet.seed = noticed.seed = 2;
  RunResult q = run_simulation(quiet);
  RunResult n = run_simulation(noticed);
  ASSERT_TRUE(q.ok && n.ok);
  EXPECT_LT(median(n.scenario.elected_ms), median(q.scenario.elected_ms));
}

TEST_F(Scenario, DisruptiveServerSameSeedGivesTheSameRun) {
  SimConfig c = disruptive("raft", 2);
  c.seed = 4;
  RunResult a = run_simulation(c);
  RunResult b = run_simulation(c);
  ASSERT_TRUE(a.ok) << format_failure(c, a);
  EXPECT_EQ(a.trace_digest, b.trace_digest);
  EXPECT_EQ(a.scenario.writes, b.scenario.writes);
  EXPECT_EQ(a.scenario.trials, 2);
  EXPECT_NEAR(a.scenario.window_ms, 2 * 4000.0, 1.0);
}

TEST_F(Scenario, APartitionedRaftFollowerDisruptsTheLeaderWhenItRejoins) {
  SimConfig c = disruptive("raft", 2);
  c.seed = 1;
  RunResult r = run_simulation(c);
  ASSERT_TRUE(r.ok) << format_failure(c, r);
  EXPECT_GE(r.scenario.terms_gained, 4u);  // 2 s cut off: several timeouts per round
  EXPECT_GE(r.scenario.leader_changes, 2u);
  SimConfig b = c;
  b.scenario.baseline = true;
  RunResult base = run_simulation(b);
  ASSERT_TRUE(base.ok) << format_failure(b, base);
  EXPECT_EQ(base.scenario.terms_gained, 0u);
  EXPECT_EQ(base.scenario.leader_changes, 0u);
  EXPECT_GT(base.scenario.writes, r.scenario.writes);
}

TEST_F(Scenario, WithPreVoteTheRejoiningFollowerDoesNotRaiseTheLeadersTerm) {
  for (const char* broadcast : {"raft-prevote", "raft-prevote-cq", "zab"}) {
    SimConfig c = disruptive(broadcast, 2);
    c.seed = 1;
    RunResult r = run_simulation(c);
    ASSERT_TRUE(r.ok) << format_failure(c, r);
    EXPECT_EQ(r.scenario.terms_gained, 0u) << broadcast;
    EXPECT_EQ(r.scenario.leader_changes, 0u) << broadcast;
  }
}

TEST_F(Scenario, StaleFollowersThatCannotWinHoldTheOthersBackUnlessATermAloneKeepsTheTimer) {
  // The paper's different log lengths: before each crash a client writes and up to two
  // followers miss the entry. They time out first and cannot win; under etcd's rule their
  // RequestVotes restart the others' timers, under Figure 2's they do not.
  SimConfig etcd = fig16(150, 300, 40);
  etcd.workload.clients = 1;
  etcd.scenario.diverge_logs = true;
  SimConfig figure2 = etcd;
  figure2.broadcast_params["higher_term_resets_timer"] = "false";
  etcd.seed = figure2.seed = 9;
  RunResult e = run_simulation(etcd);
  RunResult f = run_simulation(figure2);
  ASSERT_TRUE(e.ok) << format_failure(etcd, e);
  ASSERT_TRUE(f.ok) << format_failure(figure2, f);
  EXPECT_EQ(e.scenario.elected_ms.size(), 40u);
  EXPECT_EQ(f.scenario.elected_ms.size(), 40u);
  EXPECT_LT(median(f.scenario.elected_ms), median(e.scenario.elected_ms));
  EXPECT_EQ(run_simulation(figure2).scenario.elected_ms, f.scenario.elected_ms);
}
