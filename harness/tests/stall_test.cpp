// Time survives stalls (quorumlab/plugin/broadcast.hpp, "Time"): a `qlab server` stopped with
// SIGSTOP for longer than an election timeout gets, when it resumes, one tick for every tick
// time that passed, also those while it was stopped. The runtime's ticks are read from the
// server's status (ticks since start); the stall is timed by a second server's ticks.
#include <signal.h>

#include <chrono>

#include "cluster_fixture.hpp"

namespace quorumlab::testing {
namespace {

TEST(Stall, ASigstoppedServerGetsEveryTickThatFellDueWhenItResumes) {
  constexpr int kTickMs = 10;
  constexpr std::uint64_t kStallTicks = 150;  // 1.5 s; zab's election timeout is 300 ms
  const std::vector<std::string> args = {"--broadcast", "solo",      "--storage",
                                         "memory",      "--tick-ms", std::to_string(kTickMs)};
  TestCluster c(1, args);
  // The stall lasts until a second, running server (the reference clock) has had kStallTicks
  // ticks: the test waits on that condition, not on a sleep.
  TestCluster reference(1, args);
  const int port = cluster::node(c.spec, 1).client_port;
  const int ref_port = cluster::node(reference.spec, 1).client_port;
  const auto before_probe = std::chrono::steady_clock::now();
  auto s0 = cluster::probe("127.0.0.1", port, 2s);
  ASSERT_TRUE(s0);
  cluster::signal_node(c.spec, 1, SIGSTOP);
  const auto stopped = std::chrono::steady_clock::now();
  auto r0 = cluster::probe("127.0.0.1", ref_port, 2s);
  ASSERT_TRUE(r0);
  const auto deadline = stopped + 30s;
  for (;;) {
    auto r = cluster::probe("127.0.0.1", ref_port, 2s);
    ASSERT_TRUE(r);
    if (r->ticks >= r0->ticks + kStallTicks) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the reference server stopped ticking";
  }
  const auto stall = std::chrono::steady_clock::now() - stopped;
  cluster::signal_node(c.spec, 1, SIGCONT);
  auto s1 = cluster::probe("127.0.0.1", port, 5s);
  const auto after_probe = std::chrono::steady_clock::now();
  ASSERT_TRUE(s1);
  const std::int64_t ticks = static_cast<std::int64_t>(s1->ticks - s0->ticks);
  const std::int64_t stall_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(stall).count();
  const std::int64_t bound_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(after_probe - before_probe).count();
  // Every tick time inside the stall was delivered (a runtime that restarts its tick clock
  // after a stall delivers about (bound - stall) / tick ms, a handful), and no more ticks than
  // the time between the two probes holds.
  EXPECT_GE(ticks * kTickMs, stall_ms - 2 * kTickMs)
      << ticks << " ticks across a " << stall_ms << " ms stall";
  EXPECT_LE(ticks * kTickMs, bound_ms + 2 * kTickMs) << ticks << " ticks in " << bound_ms << " ms";
}

}  // namespace
}  // namespace quorumlab::testing
