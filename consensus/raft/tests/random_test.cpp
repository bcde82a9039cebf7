// Randomized runs over the scripted network (consensus/common's Chaos): random delays and
// reordering, drops, duplicates, partitions, crashes that lose unpersisted writes, restarts,
// compactions, proposals and barriers, with every invariant of the network and of each node
// checked after every step; then every fault heals and a new proposal must be applied on every
// node. Each seed runs one preset (raft, raft-prevote, raft-cq, raft-prevote-cq by seed % 4),
// every third one with Raft Refloated's candidate timeout and back-off.
// Rerun one seed with QL_RAFT_SEED=<seed>; QL_RAFT_SEEDS / QL_RAFT_STEPS widen the sweep.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "quorumlab/consensus/testing/chaos.hpp"
#include "raft_test_util.hpp"

using namespace quorumlab;
using namespace quorumlab::raft;
using namespace quorumlab::raft::test;
using consensus::testing::Chaos;
using consensus::testing::InvariantViolation;

namespace {

std::map<std::string, ParamValue> preset(std::uint64_t seed) {
  std::map<std::string, ParamValue> p{{"prevote", (seed & 1) != 0},
                                      {"check_quorum", (seed & 2) != 0},
                                      {"max_snapshot_chunk_bytes", std::int64_t{256}}};
  if (seed % 3 == 0) {  // Raft Refloated's candidate timeout with back-off
    p["candidate_timeout_min_ticks"] = std::int64_t{5};
    p["candidate_timeout_max_ticks"] = std::int64_t{10};
    p["candidate_backoff"] = true;
  }
  return p;
}

std::string run_seed(std::uint64_t seed, std::size_t voters, std::size_t observers,
                     std::size_t steps, std::uint64_t* accepted) {
  auto net = make_network(voters, observers, preset(seed), seed);
  Chaos chaos(*net, seed);
  std::string failure;
  try {
    net->start();
    chaos.run(steps);
    failure = chaos.heal_and_check_progress(600);
  } catch (const InvariantViolation& e) {
    failure = e.what();
  } catch (const std::exception& e) {
    failure = std::string("exception: ") + e.what();
  }
  *accepted += chaos.proposals_accepted();
  if (!failure.empty()) failure += "\n  last actions:\n" + chaos.recent() + net->describe();
  return failure;
}

}  // namespace

TEST(Random, ManySeedsKeepEveryInvariantAndMakeProgressAfterHealing) {
  const char* seeds_env = std::getenv("QL_RAFT_SEEDS");
  const char* steps_env = std::getenv("QL_RAFT_STEPS");
  const char* only_env = std::getenv("QL_RAFT_SEED");
  const std::size_t kSeeds = seeds_env ? std::strtoull(seeds_env, nullptr, 10) : 200;
  const std::size_t kSteps = steps_env ? std::strtoull(steps_env, nullptr, 10) : 3000;
  const std::uint64_t only = only_env ? std::strtoull(only_env, nullptr, 10) : 0;
  auto start = std::chrono::steady_clock::now();
  std::uint64_t accepted = 0;
  std::size_t runs = 0;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    if (only && seed != only) continue;
    std::size_t voters = seed % 5 == 0 ? 5 : 3;
    std::size_t observers = seed % 7 == 0 ? 1 : 0;
    std::string failure = run_seed(seed, voters, observers, kSteps, &accepted);
    runs++;
    ASSERT_TRUE(failure.empty()) << "seed " << seed << " (" << voters << " voters, " << observers
                                 << " learners) failed; rerun with QL_RAFT_SEED=" << seed << "\n"
                                 << failure;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ random   ] %zu seeds x %zu chaos steps in %.2f s, %llu proposals accepted\n", runs,
              kSteps, secs, static_cast<unsigned long long>(accepted));
  EXPECT_GT(accepted, runs) << "the runs should make progress, not only survive";
}

TEST(Random, SameSeedSameRun) {
  auto once = [](std::uint64_t seed) {
    auto net = make_network(3, 1, preset(seed), seed);
    Chaos chaos(*net, seed);
    net->start();
    chaos.run(1500);
    std::string out = net->describe();
    for (NodeId id : net->ids()) {
      for (const auto& t : net->applied(id))
        out += std::to_string(t.zxid) + ",";
    }
    return out;
  };
  EXPECT_EQ(once(77), once(77));
}
