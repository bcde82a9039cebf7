// Real multi-process tests: `qlab server` processes on loopback, driven by the C++ client.
// Waiting is on conditions (acknowledgements, leader elected, digests equal), never on sleeps.
#pragma once

#include <signal.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>

#include <gtest/gtest.h>

#include "../cluster/cluster.hpp"
#include "quorumlab/client/client.hpp"

namespace quorumlab::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// A cluster in a fresh temporary directory, stopped and removed at the end of the test.
struct TestCluster {
  cluster::ClusterSpec spec;
  TestCluster(std::size_t voters, std::vector<std::string> server_args) {
    auto dir = fs::temp_directory_path() /
               ("ql_cluster_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    fs::remove_all(dir);
    spec =
        cluster::plan(dir, fs::path(QL_BIN_DIR) / "qlab", voters, 0, std::move(server_args), false);
    cluster::save(spec);
    for (const auto& n : spec.nodes)
      cluster::start_node(spec, n.id, 30s);
    cluster::wait_for_leader(spec, 30s);
  }
  ~TestCluster() {
    for (const auto& n : spec.nodes)
      cluster::signal_node(spec, n.id, SIGKILL);
    if (!::testing::Test::HasFailure()) fs::remove_all(spec.dir);
  }
  static int& counter() {
    static int c = 0;
    return c;
  }
  std::string connect() const { return cluster::connect_string(spec); }
  std::string connect_to(NodeId id) {
    return "127.0.0.1:" + std::to_string(cluster::node(spec, id).client_port);
  }
  /// Waits until every node answers with the same applied zxid and digest.
  bool converged(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::optional<std::pair<Zxid, std::uint64_t>> first;
      bool same = true;
      for (const auto& n : spec.nodes) {
        auto st = cluster::probe("127.0.0.1", n.client_port, 200ms);
        if (!st) {
          same = false;
          break;
        }
        std::pair<Zxid, std::uint64_t> here{st->applied_zxid, st->digest};
        if (first && *first != here) same = false;
        first = here;
      }
      if (same) return true;
      std::this_thread::yield();
    }
    return false;
  }
};

/// Keeps `in_flight` creates of /acked/<n> going and remembers which were acknowledged.
class AckedWriter {
 public:
  AckedWriter(const std::string& connect, int in_flight) {
    client::Options o;
    o.connect = connect;
    o.session_timeout = 20000ms;
    o.reconnect_delay = 5ms;
    o.reconnect_delay_max = 50ms;
    client_ = std::make_unique<client::Client>(o);
    EXPECT_TRUE(client_->wait_connected(10s));
    auto r = client_->create("/acked", "");
    EXPECT_TRUE(r.ok() || r.err == client::Error::NODEEXISTS);
    for (int i = 0; i < in_flight; ++i)
      issue();
  }
  ~AckedWriter() { stop(); }

  void stop() {
    if (!client_) return;
    stopping_ = true;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, 20s, [&] { return in_flight_ == 0; });
    }
    client_->detach();
    client_.reset();
  }
  /// Waits until at least `n` creates were acknowledged.
  bool wait_acked(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return acked_.size() >= n; });
  }
  std::set<int> acked() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_;
  }

 private:
  void issue() {
    if (stopping_) return;
    int n;
    {
      std::lock_guard<std::mutex> lock(mu_);
      n = next_++;
      ++in_flight_;
    }
    client_->create_async("/acked/" + std::to_string(n), "v", client::CreateMode::kPersistent,
                          client::open_acl_unsafe(), 0,
                          [this, n](client::Result<client::Created> r) {
                            {
                              std::lock_guard<std::mutex> lock(mu_);
                              --in_flight_;
                              if (r.ok()) acked_.insert(n);
                            }
                            cv_.notify_all();
                            issue();
                          });
  }
  std::unique_ptr<client::Client> client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<int> acked_;
  int next_ = 0;
  int in_flight_ = 0;
  std::atomic<bool> stopping_{false};
};

/// Every acknowledged /acked/<n> must exist when read through `connect`.
inline void expect_all_present(const std::string& connect, const std::set<int>& acked) {
  client::Options o;
  o.connect = connect;
  client::Client c(o);
  ASSERT_TRUE(c.wait_connected(10s));
  auto kids = c.get_children("/acked");
  ASSERT_TRUE(kids.ok()) << client::error_name(kids.err);
  std::set<std::string> have(kids.value.children.begin(), kids.value.children.end());
  std::size_t missing = 0;
  for (int n : acked)
    missing += have.count(std::to_string(n)) == 0;
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged writes, " << missing
                         << " are missing on " << connect;
}

}  // namespace quorumlab::testing
