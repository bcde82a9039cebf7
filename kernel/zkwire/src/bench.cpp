#include "quorumlab/zkwire/bench.hpp"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "quorumlab/rng.hpp"
#include "quorumlab/sm/err.hpp"
#include "quorumlab/zkwire/zk_session.hpp"

namespace quorumlab::zkwire {

namespace {

using Clock = std::chrono::steady_clock;

/// Requests in flight while the keys are created.
constexpr std::size_t kSetupWindow = 500;
constexpr std::int32_t kNodeExists = -110;

struct HostPort {
  std::string host;
  int port = 0;
};

std::vector<HostPort> parse_hosts(const std::string& connect, std::string* error) {
  std::vector<HostPort> out;
  std::string list = connect;
  if (list.find('/') != std::string::npos) {
    *error = "a chroot in the connect string is not supported by the benchmark client";
    return {};
  }
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    std::string item =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::size_t colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == item.size()) {
      *error = "'" + item + "' is not host:port";
      return {};
    }
    HostPort hp;
    hp.host = item.substr(0, colon);
    try {
      hp.port = std::stoi(item.substr(colon + 1));
    } catch (const std::exception&) {
      *error = "'" + item + "' has no numeric port";
      return {};
    }
    out.push_back(hp);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string key_path(const std::string& root, int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "/key-%06d", i);
  return root + buf;
}

std::string err_name_of(std::int32_t code) {
  return sm::err_name(static_cast<sm::Err>(code));
}

/// Longest wait for one connect attempt; a server that does not answer is skipped for the next.
constexpr auto kAttemptTimeout = std::chrono::seconds(5);
constexpr auto kBackoffMin = std::chrono::milliseconds(50);
constexpr auto kBackoffMax = std::chrono::milliseconds(1000);

/// Opens a session on hosts[first], else the next hosts in turn (as ZooKeeper clients do when
/// a server refuses them, e.g. during an election), backing off after each full pass, until
/// `deadline`. Throws std::runtime_error with the last reason.
std::unique_ptr<ZkSession> connect_any(const std::vector<HostPort>& hosts, std::size_t first,
                                       int session_timeout_ms, Clock::time_point deadline) {
  std::string error = "no time left to connect";
  auto backoff = std::chrono::duration_cast<Clock::duration>(kBackoffMin);
  for (std::size_t attempt = 0; Clock::now() < deadline; ++attempt) {
    const HostPort& hp = hosts[(first + attempt) % hosts.size()];
    const auto left = deadline - Clock::now();
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::min<Clock::duration>(left, kAttemptTimeout));
    try {
      return std::make_unique<ZkSession>(hp.host, hp.port, session_timeout_ms, wait);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if ((attempt + 1) % hosts.size() == 0) {  // a client's reconnect back-off, not a test wait
      std::this_thread::sleep_for(backoff);
      backoff = std::min<Clock::duration>(backoff * 2, kBackoffMax);
    }
  }
  throw std::runtime_error(error);
}

/// Polls one session until every submitted request is answered or the deadline passes.
bool wait_replies(ZkSession& s, std::vector<Reply>* replies, Clock::time_point deadline) {
  while (s.in_flight() > 0) {
    pollfd p{s.fd(), static_cast<short>(POLLIN | (s.wants_write() ? POLLOUT : 0)), 0};
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) return false;
    if (!s.flush()) return false;
    if (!s.read([&](const Reply& r, std::uint64_t) { replies->push_back(r); })) return false;
  }
  return true;
}

/// Creates the root and the keys (or resets their value), pipelined in windows.
bool prepare_keys(ZkSession& s, const ZkBenchOptions& o, const Bytes& value,
                  Clock::time_point deadline, std::string* error) {
  Request root;
  root.type = op::kCreate;
  root.path = o.root;
  root.acl = {{31, {"world", "anyone"}}};
  s.submit(root, 0);
  std::vector<Reply> replies;
  if (!wait_replies(s, &replies, deadline)) {
    *error = "no answer from " + s.server() + " while creating " + o.root;
    return false;
  }
  if (replies[0].err != 0 && replies[0].err != kNodeExists) {
    *error = "cannot create " + o.root + ": " + err_name_of(replies[0].err);
    return false;
  }
  for (int base = 0; base < o.keys; base += static_cast<int>(kSetupWindow)) {
    const int end = std::min(o.keys, base + static_cast<int>(kSetupWindow));
    replies.clear();
    for (int i = base; i < end; ++i) {
      Request c = root;
      c.path = key_path(o.root, i);
      c.data = value;
      s.submit(std::move(c), 0);
    }
    if (!wait_replies(s, &replies, deadline)) {
      *error = "no answer from " + s.server() + " while creating keys";
      return false;
    }
    std::vector<Reply> resets;
    for (int i = base; i < end; ++i) {
      const Reply& r = replies[static_cast<std::size_t>(i - base)];
      if (r.err == kNodeExists) {
        Request set;
        set.type = op::kSetData;
        set.path = key_path(o.root, i);
        set.data = value;
        s.submit(std::move(set), 0);
      } else if (r.err != 0) {
        *error = "cannot create " + key_path(o.root, i) + ": " + err_name_of(r.err);
        return false;
      }
    }
    if (!wait_replies(s, &resets, deadline)) {
      *error = "no answer from " + s.server() + " while resetting keys";
      return false;
    }
    for (const auto& r : resets) {
      if (r.err != 0) {
        *error = "cannot reset a key: " + err_name_of(r.err);
        return false;
      }
    }
  }
  return true;
}

/// Drives every session from one thread.
class Runner {
 public:
  Runner(const ZkBenchOptions& o, std::vector<std::unique_ptr<ZkSession>> sessions, Bytes value)
      : o_(o), sessions_(std::move(sessions)), value_(std::move(value)), start_(Clock::now()) {
    Rng seeds(o.seed);
    for (std::size_t i = 0; i < sessions_.size(); ++i) {
      rngs_.push_back(seeds.fork(i + 1));
      alive_.push_back(true);
    }
    for (int i = 0; i < o.keys; ++i)
      keys_.push_back(key_path(o.root, i));
  }

  ZkBenchResult run() {
    using std::chrono::duration;
    const auto warmup_end =
        start_ + std::chrono::duration_cast<Clock::duration>(duration<double>(o_.warmup_s));
    const auto end =
        warmup_end + std::chrono::duration_cast<Clock::duration>(duration<double>(o_.duration_s));
    for (std::size_t i = 0; i < sessions_.size(); ++i) {
      for (int k = 0; k < o_.outstanding; ++k)
        issue(i);
    }
    ZkBenchResult result;
    auto last = start_;
    bool in_warmup = o_.warmup_s > 0;
    while (true) {
      const auto next = std::min(
          last + std::chrono::duration_cast<Clock::duration>(duration<double>(o_.interval_s)),
          in_warmup ? warmup_end : end);
      pump_until(next);
      const auto now = Clock::now();
      const double secs = duration<double>(now - last).count();
      const double t = duration<double>(now - start_).count();
      if (o_.on_interval) o_.on_interval(t, interval_, secs, in_warmup);
      if (!in_warmup) result.total.merge(interval_);
      interval_ = ZkBenchPeriod{};
      last = now;
      if (in_warmup && now >= warmup_end) in_warmup = false;
      if (now >= end || lost_ == sessions_.size()) break;  // done, or nobody left to measure
    }
    result.measured_s = std::max(0.0, duration<double>(last - warmup_end).count());
    stopping_ = true;
    pump_until(Clock::now() + std::chrono::milliseconds(o_.timeout_ms), true);
    close_sessions();
    result.ok = true;
    result.sessions_lost = lost_;
    return result;
  }

 private:
  void issue(std::size_t i) {
    if (stopping_ || !alive_[i]) return;
    Rng& rng = rngs_[i];
    const auto key = static_cast<std::size_t>(rng.uniform(keys_.size()));
    const bool read = static_cast<int>(rng.uniform(100)) < o_.read_pct;
    Request r;
    r.type = read ? op::kGetData : op::kSetData;
    r.path = keys_[key];
    if (!read) r.data = value_;
    const auto start_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_).count());
    sessions_[i]->submit(std::move(r), (start_ns << 1) | (read ? 1 : 0));
  }

  void on_reply(std::size_t i, const Reply& r, std::uint64_t tag) {
    const auto now_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_).count());
    if (!stopping_) {
      if (r.err == 0) {
        interval_.latency_ns.record(now_ns - (tag >> 1));
        ++((tag & 1) ? interval_.reads : interval_.writes);
      } else {
        ++interval_.errors[err_name_of(r.err)];
      }
    }
    issue(i);
  }

  /// Polls every live session until `until`, or (when `drain`) until nothing is in flight.
  void pump_until(Clock::time_point until, bool drain = false) {
    std::vector<pollfd> fds;
    std::vector<std::size_t> index;
    while (true) {
      fds.clear();
      index.clear();
      std::size_t in_flight = 0;
      for (std::size_t i = 0; i < sessions_.size(); ++i) {
        if (!alive_[i]) continue;
        ZkSession& s = *sessions_[i];
        if (s.wants_write() && !s.flush()) {
          lose(i);
          continue;
        }
        in_flight += s.in_flight();
        fds.push_back({s.fd(), static_cast<short>(POLLIN | (s.wants_write() ? POLLOUT : 0)), 0});
        index.push_back(i);
      }
      if (drain && in_flight == 0) return;
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0 || fds.empty()) return;
      int n = ::poll(fds.data(), fds.size(), static_cast<int>(left));
      if (n < 0 && errno != EINTR) return;
      for (std::size_t k = 0; k < fds.size(); ++k) {
        if (!(fds[k].revents & (POLLIN | POLLERR | POLLHUP))) continue;
        const std::size_t i = index[k];
        if (!sessions_[i]->read(
                [this, i](const Reply& r, std::uint64_t tag) { on_reply(i, r, tag); })) {
          lose(i);
        }
      }
    }
  }

  void lose(std::size_t i) {
    alive_[i] = false;
    ++lost_;
    if (!stopping_) interval_.errors["CONNECTIONLOSS"] += sessions_[i]->in_flight();
  }

  void close_sessions() {
    for (std::size_t i = 0; i < sessions_.size(); ++i) {
      if (!alive_[i]) continue;
      Request close;
      close.type = op::kCloseSession;
      sessions_[i]->submit(close, 0);
    }
    pump_until(Clock::now() + std::chrono::seconds(5), true);
    sessions_.clear();
  }

  const ZkBenchOptions& o_;
  std::vector<std::unique_ptr<ZkSession>> sessions_;
  Bytes value_;
  Clock::time_point start_;
  std::vector<Rng> rngs_;
  std::vector<bool> alive_;
  std::vector<std::string> keys_;
  ZkBenchPeriod interval_;
  bool stopping_ = false;
  std::uint64_t lost_ = 0;
};

}  // namespace

void ZkBenchPeriod::merge(const ZkBenchPeriod& o) {
  latency_ns.merge(o.latency_ns);
  reads += o.reads;
  writes += o.writes;
  for (const auto& [k, v] : o.errors)
    errors[k] += v;
}

ZkBenchResult run_zk_bench(const ZkBenchOptions& o) {
  ZkBenchResult result;
  std::vector<HostPort> hosts = parse_hosts(o.connect, &result.error);
  if (hosts.empty()) return result;
  if (o.keys <= 0 || o.sessions <= 0 || o.outstanding <= 0) {
    result.error = "sessions, outstanding and keys must be positive";
    return result;
  }
  const auto timeout = std::chrono::milliseconds(o.timeout_ms);
  const Bytes value(static_cast<std::size_t>(o.value_bytes), 'v');
  try {
    {
      auto setup = connect_any(hosts, 0, o.timeout_ms, Clock::now() + timeout);
      if (!prepare_keys(*setup, o, value, Clock::now() + timeout, &result.error)) return result;
      Request close;
      close.type = op::kCloseSession;
      setup->submit(close, 0);
      std::vector<Reply> ignored;
      wait_replies(*setup, &ignored, Clock::now() + timeout);
    }
    std::vector<std::unique_ptr<ZkSession>> sessions;
    const auto deadline = Clock::now() + timeout;
    for (int i = 0; i < o.sessions; ++i) {
      sessions.push_back(
          connect_any(hosts, static_cast<std::size_t>(i) % hosts.size(), o.timeout_ms, deadline));
    }
    Runner runner(o, std::move(sessions), value);
    return runner.run();
  } catch (const std::exception& e) {
    result.error = e.what();
    return result;
  }
}

}  // namespace quorumlab::zkwire
