// Issue 4: a single `solo` + `wal` server keeps every acknowledged write across kill -9 in the
// middle of a write load, and cuts a corrupt log tail on recovery.
#include <fstream>
#include <set>

#include "cluster_fixture.hpp"

using namespace quorumlab;
using namespace quorumlab::testing;

namespace {

fs::path newest_segment(const fs::path& wal_dir) {
  fs::path best;
  for (const auto& e : fs::directory_iterator(wal_dir)) {
    auto name = e.path().filename().string();
    if (name.rfind("log-", 0) == 0 && e.path().extension() == ".seg" &&
        name > best.filename().string()) {
      best = e.path();
    }
  }
  return best;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

}  // namespace

TEST(Durability, SoloWalKeepsEveryAcknowledgedWriteAcrossKill9UnderLoad) {
  TestCluster c(1, {"--broadcast", "solo", "--storage", "wal"});
  std::set<int> acked;
  {
    AckedWriter w(c.connect(), 200);
    ASSERT_TRUE(w.wait_acked(3000, 60s));
    cluster::signal_node(c.spec, 1, SIGKILL);  // the load is still running
    acked = w.acked();
  }
  cluster::start_node(c.spec, 1, 30s);
  expect_all_present(c.connect(), acked);
}

TEST(Durability, CorruptLogTailIsCutOnRecoveryAndServiceGoesOn) {
  TestCluster c(1, {"--broadcast", "solo", "--storage", "wal"});
  std::set<int> acked;
  {
    AckedWriter w(c.connect(), 50);
    ASSERT_TRUE(w.wait_acked(500, 60s));
    w.stop();
    acked = w.acked();
  }
  cluster::signal_node(c.spec, 1, SIGKILL);
  auto seg = newest_segment(c.spec.dir / "n1" / "wal");
  ASSERT_FALSE(seg.empty());
  {
    std::ofstream out(seg, std::ios::binary | std::ios::app);  // a torn, garbage record
    const char junk[] = "\x13\x00\x00\x00garbage that is not a record";
    out.write(junk, sizeof junk);
  }
  cluster::start_node(c.spec, 1, 30s);
  expect_all_present(c.connect(), acked);
  EXPECT_NE(read_file(c.spec.dir / "n1.log").find("storage recovery"), std::string::npos)
      << "recovery should log that it cut the tail";
  // And the node keeps accepting writes after the cut.
  AckedWriter again(c.connect(), 10);
  EXPECT_TRUE(again.wait_acked(100, 30s));
}

// A node restarted after kill -9 must get its ports back: they are chosen outside the range
// the kernel hands to outgoing connections (a client's reconnection took a killed node's port
// in a 100-round kill -9 soak before this).
TEST(Durability, ClusterPortsAreOutsideTheEphemeralRange) {
  const auto [lo, hi] = quorumlab::cluster::ephemeral_port_range();
  const auto ports = quorumlab::cluster::free_ports(60);
  std::set<int> distinct(ports.begin(), ports.end());
  EXPECT_EQ(distinct.size(), ports.size());
  for (int p : ports) {
    EXPECT_TRUE(p < lo || p > hi) << p << " is in the ephemeral range " << lo << ".." << hi;
    EXPECT_GE(p, 1024);
  }
}
