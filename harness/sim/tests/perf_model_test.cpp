// The performance model and the throughput workload: off by default and then without effect,
// deterministic when on, saturation (throughput stops growing with more requests in flight
// while latency grows), and the profile's errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "quorumlab/log.hpp"
#include "quorumlab/plugin/loader.hpp"
#include "quorumlab/sim/simulator.hpp"

using namespace quorumlab;
using namespace quorumlab::sim;

namespace {

class PerfModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { log::configure("off"); }
  void SetUp() override {
    try {
      PluginLoader(PluginLoader::default_dir()).describe(PluginKind::broadcast, "zab");
    } catch (const PluginError&) {
      GTEST_SKIP() << "zab plugin not built";
    }
  }
};

SimConfig zab3(const std::string& faults) {
  SimConfig c;
  c.broadcast = "zab";
  c.nodes = 3;
  c.duration_ms = 1500;
  apply_fault_mix(c, faults);
  return c;
}

/// The throughput workload on zab with the model on and fixed costs.
SimConfig bench(int clients, int outstanding, int read_pct) {
  SimConfig c = zab3("none");
  c.workload.clients = clients;
  c.workload.max_outstanding = outstanding;
  c.throughput.enabled = true;
  c.throughput.read_pct = read_pct;
  c.throughput.keys = 100;
  c.throughput.value_bytes = 256;
  c.throughput.warmup_ms = 200;
  c.throughput.measure_ms = 300;
  c.snapshot_every_txns = 100000;
  c.perf.enabled = true;
  c.perf.profile.cores = 1;
  c.perf.profile.transport_message_ns = 20000;  // slow on purpose: few events per run
  return c;
}

TEST_F(PerfModel, OffByDefaultAndThenItsSettingsChangeNothing) {
  SimConfig a = zab3("all");
  a.seed = 11;
  EXPECT_FALSE(a.perf.enabled);
  EXPECT_FALSE(a.throughput.enabled);
  SimConfig b = a;
  b.perf.profile.cores = 7;  // ignored while the model is off
  b.perf.profile.transport_message_ns = 1e6;
  b.throughput.read_pct = 3;
  RunResult ra = run_simulation(a);
  RunResult rb = run_simulation(b);
  ASSERT_TRUE(ra.ok) << format_failure(a, ra);
  EXPECT_EQ(ra.trace_digest, rb.trace_digest);
  EXPECT_FALSE(ra.throughput.has_value());

  // On, the same seed runs differently (CPU time, links, fsync) and still passes every check.
  SimConfig on = zab3("none");
  on.seed = 11;
  SimConfig off = on;
  on.perf.enabled = true;
  RunResult r_on = run_simulation(on);
  RunResult r_off = run_simulation(off);
  ASSERT_TRUE(r_on.ok) << format_failure(on, r_on);
  ASSERT_TRUE(r_off.ok) << format_failure(off, r_off);
  EXPECT_NE(r_on.trace_digest, r_off.trace_digest);
}

TEST_F(PerfModel, SameSeedSameDigestAndSameThroughput) {
  SimConfig c = bench(6, 8, 50);
  c.seed = 5;
  RunResult a = run_simulation(c);
  RunResult b = run_simulation(c);
  ASSERT_TRUE(a.ok) << format_failure(c, a);
  ASSERT_TRUE(a.throughput && b.throughput);
  EXPECT_EQ(a.trace_digest, b.trace_digest);
  EXPECT_EQ(a.throughput->reads, b.throughput->reads);
  EXPECT_EQ(a.throughput->writes, b.throughput->writes);
  EXPECT_DOUBLE_EQ(a.throughput->latency_ms_p99, b.throughput->latency_ms_p99);
  EXPECT_GT(a.throughput->reads, 0u);
  EXPECT_GT(a.throughput->writes, 0u);
  EXPECT_EQ(a.throughput->errors, 0u);
  c.seed = 6;
  EXPECT_NE(run_simulation(c).trace_digest, a.trace_digest);
}

TEST_F(PerfModel, ThroughputSaturatesAndLatencyGrows) {
  auto run = [](int outstanding) {
    SimConfig c = bench(6, outstanding, 50);
    RunResult r = run_simulation(c);
    EXPECT_TRUE(r.ok) << format_failure(c, r);
    return *r.throughput;
  };
  const ThroughputResult light = run(1);
  const ThroughputResult busy = run(64);
  const ThroughputResult overloaded = run(256);
  // More in flight helps while the CPUs have idle time and the leader's turns batch more...
  EXPECT_GT(busy.ops_per_s, 1.5 * light.ops_per_s);
  // ...then the busiest CPU is saturated: throughput stops growing, latency grows instead.
  double max_util = 0;
  for (double u : overloaded.cpu_utilization)
    max_util = std::max(max_util, u);
  EXPECT_GT(max_util, 0.85);
  EXPECT_LT(overloaded.ops_per_s, 1.1 * busy.ops_per_s);
  EXPECT_GT(overloaded.latency_ms_p50, 2.5 * busy.latency_ms_p50);
  // Throughput is bounded by the cost: every op takes at least two transport operations (its
  // request and its reply) on the one core of one of the three replicas.
  EXPECT_LT(overloaded.ops_per_s, 3 * 1e9 / (2 * 20000.0));
}

TEST_F(PerfModel, ThroughputWorkloadRunsWithoutTheModel) {
  SimConfig c = bench(4, 2, 90);
  c.perf.enabled = false;
  RunResult r = run_simulation(c);
  ASSERT_TRUE(r.ok) << format_failure(c, r);
  ASSERT_TRUE(r.throughput);
  EXPECT_GT(r.throughput->reads, r.throughput->writes);
  EXPECT_TRUE(r.throughput->cpu_utilization.empty());
}

TEST(PerfProfileTest, ErrorsNameTheKey) {
  PerfProfile p;
  try {
    p.set("peer_mesage_ns", "10");
    FAIL() << "an unknown key was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'peer_mesage_ns'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("peer_message_ns"), std::string::npos) << e.what();
  }
  try {
    p.set("cores", "two");
    FAIL() << "a word was accepted as a number";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'cores'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(p.set("cores", "1.5"), std::invalid_argument);
  EXPECT_THROW(p.set("link_bandwidth_mbit_s", "0"), std::invalid_argument);
  EXPECT_THROW(p.set("fsync_us", "-1"), std::invalid_argument);
  EXPECT_THROW(p.set("read_ns", "12abc"), std::invalid_argument);
  p.set("read_ns", "250");
  p.set("cores", "4");
  EXPECT_DOUBLE_EQ(p.read_ns, 250);
  EXPECT_EQ(p.cores, 4);

  const auto dir =
      std::filesystem::temp_directory_path() /
      ("ql-perf-profile-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  PerfProfile q;
  q.load_file(
      write("good.json", R"({"costs": {"apply_txn_ns": 1234, "cores": 3}, "measured": {}})"));
  EXPECT_DOUBLE_EQ(q.apply_txn_ns, 1234);
  EXPECT_EQ(q.cores, 3);
  q.load_file(write("flat.json", R"({"tick_ns": 5})"));
  EXPECT_DOUBLE_EQ(q.tick_ns, 5);
  auto message = [&](const std::string& path) {
    try {
      PerfProfile r;
      r.load_file(path);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string bad_key = write("bad_key.json", R"({"costs": {"apply_ns": 1}})");
  EXPECT_NE(message(bad_key).find("'apply_ns'"), std::string::npos) << message(bad_key);
  EXPECT_NE(message(bad_key).find(bad_key), std::string::npos) << message(bad_key);
  const std::string bad_value = write("bad_value.json", R"({"costs": {"read_ns": "fast"}})");
  EXPECT_NE(message(bad_value).find("'read_ns'"), std::string::npos) << message(bad_value);
  EXPECT_NE(message(write("not_json.json", "{cores = 2")).find("not JSON"), std::string::npos);
  EXPECT_NE(message((dir / "missing.json").string()).find("cannot read"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
