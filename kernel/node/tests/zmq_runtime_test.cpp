// The real runtime's peer transport over loopback: messages between two runtimes, and the
// socket monitor that turns a peer's closed connection into on_peer_disconnected.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "quorumlab/config.hpp"
#include "quorumlab/node/zmq_runtime.hpp"

using namespace quorumlab;
using namespace quorumlab::node;

namespace {

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

/// Records what the runtime delivers; on every tick runs `on_tick_action` on the loop thread
/// (the only thread that may use the runtime's sockets).
class Recorder final : public RuntimeHandler {
 public:
  std::function<void()> on_tick_action;

  void on_client_message(ConnId, const std::uint8_t*, std::size_t, const std::string&) override {}
  void on_peer_message(const std::uint8_t* data, std::size_t size) override {
    std::lock_guard<std::mutex> lock(mu_);
    last_message_.assign(data, data + size);
    ++messages_;
    cv_.notify_all();
  }
  void on_peer_disconnected(NodeId id) override {
    std::lock_guard<std::mutex> lock(mu_);
    disconnected_.push_back(id);
    cv_.notify_all();
  }
  void on_client_closed(ConnId) override {}
  void on_tick() override {
    if (on_tick_action) on_tick_action();
  }
  void on_storage_wakeup() override {}
  void process() override {}

  /// Waits (at most 10 s) until `pred` holds under the lock.
  template <typename P>
  bool wait(P pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return pred(*this); });
  }
  std::size_t messages_ = 0;
  Bytes last_message_;
  std::vector<NodeId> disconnected_;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

NodeConfig peer_config(NodeId id, int p1, int p2) {
  return load_config(std::nullopt, {"id=" + std::to_string(id), "client_port=0", "tick_ms=5",
                                    "peers=1@127.0.0.1:" + std::to_string(p1) +
                                        ",2@127.0.0.1:" + std::to_string(p2)});
}

/// A runtime with its loop on a thread.
struct Running {
  ZmqRuntime runtime;
  Recorder handler;
  std::atomic<bool> stop{false};
  std::thread loop;
  explicit Running(const NodeConfig& c) : runtime(c) {}
  void start() {
    loop = std::thread([this] { runtime.run(handler, stop); });
  }
  ~Running() {
    stop = true;
    if (loop.joinable()) loop.join();
  }
};

}  // namespace

TEST(ZmqRuntime, PeersExchangeMessagesAndAClosedPeerIsReportedOnce) {
  const int p1 = free_port(), p2 = free_port();
  auto one = std::make_unique<Running>(peer_config(1, p1, p2));
  auto two = std::make_unique<Running>(peer_config(2, p1, p2));
  EXPECT_EQ(one->runtime.peer_port(), p1);
  // Node 1 says hello on every tick until node 2 has it (the connection needs a moment).
  Running* r1 = one.get();
  r1->handler.on_tick_action = [r1] { r1->runtime.send_peer(2, Bytes{'h', 'i'}); };
  one->start();
  two->start();
  ASSERT_TRUE(two->handler.wait([](Recorder& r) { return r.messages_ > 0; }));
  EXPECT_EQ(two->handler.last_message_, (Bytes{'h', 'i'}));
  EXPECT_TRUE(one->handler.disconnected_.empty());
  // Node 2 goes away: its sockets close and node 1's monitor reports the lost connection.
  two.reset();
  ASSERT_TRUE(one->handler.wait([](Recorder& r) { return !r.disconnected_.empty(); }));
  EXPECT_EQ(one->handler.disconnected_.front(), 2u);
  // Node 2 comes back on the same port: node 1 reconnects by itself, and the new connection
  // is watched like the first.
  two = std::make_unique<Running>(peer_config(2, p1, p2));
  two->start();
  ASSERT_TRUE(two->handler.wait([](Recorder& r) { return r.messages_ > 0; }));
  two.reset();
  ASSERT_TRUE(one->handler.wait([](Recorder& r) { return r.disconnected_.size() >= 2; }));
  EXPECT_EQ(one->handler.disconnected_, (std::vector<NodeId>{2, 2}));
}

TEST(ZmqRuntime, FaultRulesAreCheckedAsAWholeAndNamed) {
  const int p1 = free_port(), p2 = free_port();
  ZmqRuntime runtime(peer_config(1, p1, p2));
  FaultRules bad;
  bad.links = {NetRule{2, 10, 0, 0}, NetRule{5, 100, 0, 0}};
  EXPECT_EQ(runtime.set_fault_rules(bad), "no peer 5 in this server's configuration");
  bad = {};
  bad.clock_skew_ppm = 500001;
  EXPECT_EQ(runtime.set_fault_rules(bad), "clock skew 500001 ppm outside -500000 .. 500000");
  bad = {};
  bad.disk_delay_ms = 600001;
  EXPECT_EQ(runtime.set_fault_rules(bad), "disk delay 600001 ms above 600000 ms");
  EXPECT_TRUE(runtime.fault_rules().empty());  // nothing of a refused set was taken
  FaultRules good;
  good.links = {NetRule{2, 0, 30, 0}};
  good.disk_delay_ms = 20;
  good.clock_skew_ppm = -200000;
  good.clients_cut = true;
  EXPECT_EQ(runtime.set_fault_rules(good), "");
  EXPECT_EQ(runtime.fault_rules(), good);
  EXPECT_EQ(runtime.set_fault_rules({}), "");
  EXPECT_TRUE(runtime.fault_rules().empty());
}

// A clock skew scales the tick period: 100 ticks of 5 ms take 333 ms of real time at
// +500000 ppm and 714 ms at -300000 ppm. Ticks are never early (the loop waits until the tick
// clock reaches a tick); a loaded machine only delays them, so the slow bound is tight and the
// fast one leaves room.
TEST(ZmqRuntime, AClockSkewMakesTheTicksRunFastOrSlow) {
  for (const std::int32_t ppm : {500000, -300000}) {
    // Declared before the runtime: its loop uses them until it is joined.
    std::atomic<int> ticks{0};
    std::mutex mu;
    std::condition_variable cv;
    const int p1 = free_port(), p2 = free_port();
    Running r(peer_config(1, p1, p2));
    FaultRules rules;
    rules.clock_skew_ppm = ppm;
    ASSERT_EQ(r.runtime.set_fault_rules(rules), "");
    r.handler.on_tick_action = [&] {
      std::lock_guard<std::mutex> lock(mu);
      ++ticks;
      cv.notify_all();
    };
    const auto start = std::chrono::steady_clock::now();
    r.start();
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return ticks >= 100; }));
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const double ideal = 100 * 5 / (1 + ppm / 1e6);
    EXPECT_GE(ms, ideal * 0.95) << ppm;
    if (ppm > 0) {
      EXPECT_LT(ms, 100 * 5) << "ticks at the unskewed rate";
    }
  }
}
