#include "failover.hpp"

#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "quorumlab/client/client.hpp"

namespace quorumlab::cluster {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPollInterval = std::chrono::milliseconds(5);

/// Keeps `writers` setData requests in flight and records when writes succeed.
class WriteLoad {
 public:
  WriteLoad(const std::string& connect, int writers) {
    client::Options o;
    o.connect = connect;
    o.session_timeout = std::chrono::milliseconds(10000);
    o.reconnect_delay = std::chrono::milliseconds(5);
    o.reconnect_delay_max = std::chrono::milliseconds(50);
    client_ = std::make_unique<client::Client>(o);
    if (!client_->wait_connected(std::chrono::seconds(10))) {
      throw std::runtime_error("failover: cannot connect to " + connect);
    }
    auto r = client_->create("/failover", "0");
    if (!r.ok() && r.err != client::Error::NODEEXISTS) {
      throw std::runtime_error("failover: cannot create /failover");
    }
    for (int i = 0; i < writers; ++i)
      issue();
  }
  ~WriteLoad() {
    stopping_ = true;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return in_flight_ == 0; });
    lock.unlock();
    client_->close(std::chrono::milliseconds(1000));
  }

  /// Waits until a write submitted at or after `since` succeeds; returns its completion time.
  Clock::time_point wait_new_success(Clock::time_point since, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return last_ok_submitted_ >= since; })) {
      throw std::runtime_error("failover: no successful write within " +
                               std::to_string(timeout.count()) + " ms of the fault");
    }
    return last_ok_completed_;
  }
  std::uint64_t ok_count() const { return ok_; }
  std::uint64_t error_count() const { return errors_; }

 private:
  void issue() {
    if (stopping_) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++in_flight_;
    }
    auto submitted = Clock::now();
    client_->set_data_async("/failover", "x", -1,
                            [this, submitted](client::Result<client::Stat> r) {
                              {
                                std::lock_guard<std::mutex> lock(mu_);
                                --in_flight_;
                                if (r.ok()) {
                                  ++ok_;
                                  if (submitted > last_ok_submitted_) {
                                    last_ok_submitted_ = submitted;
                                    last_ok_completed_ = Clock::now();
                                  }
                                } else {
                                  ++errors_;
                                }
                              }
                              cv_.notify_all();
                              issue();
                            });
  }

  std::unique_ptr<client::Client> client_;
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> ok_{0}, errors_{0};
  Clock::time_point last_ok_submitted_{}, last_ok_completed_{};
};

NodeId current_leader(const ClusterSpec& spec) {
  for (const auto& n : spec.nodes) {
    if (proc_state(n.pid) != ProcState::running) continue;
    auto st = probe("127.0.0.1", n.client_port, std::chrono::milliseconds(200));
    if (st && st->role == "leader") return st->server_id;
  }
  return 0;
}

bool converged(const ClusterSpec& spec) {
  return replica_positions(spec, std::chrono::milliseconds(200)).converged();
}

}  // namespace

FailoverFault parse_failover_fault(const std::string& name) {
  if (name == "kill") return FailoverFault::kill;
  if (name == "pause") return FailoverFault::pause;
  if (name == "isolate") return FailoverFault::isolate;
  throw std::invalid_argument("failover fault must be kill, pause or isolate, got '" + name + "'");
}

std::vector<FailoverRound> measure_failover(
    ClusterSpec& spec, const FailoverOptions& options,
    const std::function<void(const std::string&)>& progress) {
  std::vector<FailoverRound> rounds;
  for (int round = 1; round <= options.rounds; ++round) {
    FailoverRound r;
    r.old_leader = wait_for_leader(spec, options.timeout);
    {
      WriteLoad load(connect_string(spec), options.writers);
      std::this_thread::sleep_for(options.warmup);  // let the load reach a steady state
      r.writes_before = load.ok_count();
      const bool pause = options.fault == FailoverFault::pause;
      const bool isolate = options.fault == FailoverFault::isolate;
      progress("round " + std::to_string(round) + ": " + std::to_string(r.writes_before) +
               " writes acknowledged; " +
               (isolate ? "isolate"
                : pause ? "pause"
                        : "kill -9") +
               " leader node " + std::to_string(r.old_leader));
      auto errors_before = load.error_count();
      auto t_kill = Clock::now();
      if (isolate) {
        std::string others;
        for (const auto& n : spec.nodes) {
          if (n.id != r.old_leader) others += (others.empty() ? "" : ",") + std::to_string(n.id);
        }
        apply_net_rules(spec, partition_rules(spec, std::to_string(r.old_leader) + "/" + others),
                        options.timeout);
      } else {
        signal_node(spec, r.old_leader, pause ? SIGSTOP : SIGKILL);
      }
      // Only a write sent once the leader is gone (dead or stopped) proves a new leader: one
      // sent between the signal and its delivery may still have been committed by the old
      // leader.
      auto t_dead = Clock::now();
      auto t_ok = load.wait_new_success(t_dead, options.timeout);
      r.failover_ms = std::chrono::duration<double, std::milli>(t_ok - t_kill).count();
      r.failed_writes = load.error_count() - errors_before;
      r.new_leader = current_leader(spec);
      progress("round " + std::to_string(round) + ": new leader node " +
               std::to_string(r.new_leader) + ", first new write after " +
               std::to_string(static_cast<int>(r.failover_ms)) + " ms");
    }
    if (options.restart_old_leader) {
      if (options.fault == FailoverFault::pause) {
        signal_node(spec, r.old_leader, SIGCONT);
      } else if (options.fault == FailoverFault::isolate) {
        apply_net_rules(spec, {}, options.timeout);
      } else {
        start_node(spec, r.old_leader, options.timeout);
      }
      auto deadline = Clock::now() + options.timeout;
      while (!(r.converged = converged(spec)) && Clock::now() < deadline) {
        std::this_thread::sleep_for(kPollInterval);
      }
      progress("round " + std::to_string(round) + ": node " + std::to_string(r.old_leader) +
               (options.fault == FailoverFault::pause     ? " resumed"
                : options.fault == FailoverFault::isolate ? " healed"
                                                          : " restarted") +
               "; replicas " + (r.converged ? "converged (same digest)" : "DIVERGED"));
    }
    rounds.push_back(r);
  }
  return rounds;
}

}  // namespace quorumlab::cluster
