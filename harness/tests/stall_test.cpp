// Time survives stalls (quorumlab/plugin/broadcast.hpp, "Time"): a `qlab server` stopped with
// SIGSTOP for longer than an election timeout gets, when it resumes, one tick for every tick
// time that passed, also those while it was stopped. The runtime's ticks are read from the
// server's status (ticks since start).
#include <signal.h>

#include <chrono>
#include <thread>

#include "cluster_fixture.hpp"

namespace quorumlab::testing {
namespace {

TEST(Stall, ASigstoppedServerGetsEveryTickThatFellDueWhenItResumes) {
  constexpr int kTickMs = 10;
  constexpr auto kStall = 1500ms;  // zab's default election timeout is 30 ticks = 300 ms
  TestCluster c(
      1, {"--broadcast", "solo", "--storage", "memory", "--tick-ms", std::to_string(kTickMs)});
  const int port = cluster::node(c.spec, 1).client_port;
  const auto before_probe = std::chrono::steady_clock::now();
  auto s0 = cluster::probe("127.0.0.1", port, 2s);
  ASSERT_TRUE(s0);
  cluster::signal_node(c.spec, 1, SIGSTOP);
  // The stall under test (not a wait for a condition): the process is stopped meanwhile.
  std::this_thread::sleep_for(kStall);
  cluster::signal_node(c.spec, 1, SIGCONT);
  auto s1 = cluster::probe("127.0.0.1", port, 5s);
  const auto after_probe = std::chrono::steady_clock::now();
  ASSERT_TRUE(s1);
  const std::int64_t ticks = static_cast<std::int64_t>(s1->ticks - s0->ticks);
  const std::int64_t bound_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(after_probe - before_probe).count();
  // Every tick time inside the stall was delivered (a runtime that restarts its tick clock
  // after a stall delivers about (bound - stall) / tick ms, a handful), and no more ticks than
  // the time between the two probes holds.
  EXPECT_GE(ticks * kTickMs, std::chrono::milliseconds(kStall).count() - 2 * kTickMs)
      << ticks << " ticks across a " << kStall.count() << " ms stall";
  EXPECT_LE(ticks * kTickMs, bound_ms + 2 * kTickMs) << ticks << " ticks in " << bound_ms << " ms";
}

}  // namespace
}  // namespace quorumlab::testing
