#include "bench.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iomanip>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "cluster.hpp"
#include "quorumlab/client/client.hpp"
#include "quorumlab/client/histogram.hpp"
#include "quorumlab/rng.hpp"

namespace quorumlab::cluster {

namespace {

using namespace quorumlab::client;
using BenchClock = std::chrono::steady_clock;

/// What every session shares: the key set, the value and the run phase.
struct Shared {
  std::vector<std::string> keys;
  std::string value;
  int read_pct = 50;
  std::atomic<bool> measuring{false};
  std::atomic<bool> stopping{false};
  std::mutex drain_mu;
  std::condition_variable drained;
  std::atomic<std::int64_t> in_flight{0};
};

/// One benchmark session: a client whose callbacks (on its event thread) record each result
/// and issue the next request, keeping `outstanding` in flight.
class Session {
 public:
  Session(Shared& shared, Options options, std::uint64_t seed)
      : shared_(shared), rng_(seed), client_(std::move(options)) {}

  Client& client() { return client_; }

  void start(int outstanding) {
    for (int i = 0; i < outstanding; ++i)
      issue();
  }

  /// Moves the interval counters out (and into the run total).
  BenchPeriod take_interval() {
    std::lock_guard<std::mutex> lock(mu_);
    BenchPeriod p = std::move(interval_);
    interval_ = BenchPeriod{};
    return p;
  }

 private:
  void issue() {
    if (shared_.stopping.load(std::memory_order_relaxed)) return;
    std::size_t key_index = 0;
    bool read = false;
    {
      // start() issues from the caller's thread while early replies already issue from the
      // event thread.
      std::lock_guard<std::mutex> lock(rng_mu_);
      key_index = static_cast<std::size_t>(rng_.uniform(shared_.keys.size()));
      read = static_cast<int>(rng_.uniform(100)) < shared_.read_pct;
    }
    const std::string& key = shared_.keys[key_index];
    auto start = BenchClock::now();
    shared_.in_flight.fetch_add(1, std::memory_order_relaxed);
    if (read) {
      client_.get_data_async(key,
                             [this, start](Result<DataResult> r) { done(start, true, r.err); });
    } else {
      client_.set_data_async(key, shared_.value, -1,
                             [this, start](Result<Stat> r) { done(start, false, r.err); });
    }
  }

  void done(BenchClock::time_point start, bool read, Error err) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(BenchClock::now() - start);
    if (shared_.measuring.load(std::memory_order_relaxed)) {
      std::lock_guard<std::mutex> lock(mu_);
      if (err == Error::OK) {
        interval_.latency_ns.record(static_cast<std::uint64_t>(ns.count()));
        ++(read ? interval_.reads : interval_.writes);
      } else {
        ++interval_.errors[error_name(err)];
      }
    }
    issue();
    if (shared_.in_flight.fetch_sub(1, std::memory_order_acq_rel) == 1 && shared_.stopping.load()) {
      std::lock_guard<std::mutex> lock(shared_.drain_mu);
      shared_.drained.notify_all();
    }
  }

  Shared& shared_;
  std::mutex rng_mu_;
  Rng rng_;
  std::mutex mu_;
  BenchPeriod interval_;
  Client client_;  // last: destroyed first, so no callback outlives the members above
};

std::string key_path(const std::string& root, int i) {
  std::ostringstream os;
  os << root << "/key-" << std::setw(6) << std::setfill('0') << i;
  return os.str();
}

/// Creates the root and the keys (or resets their value), pipelined in windows.
void prepare_keys(Client& c, const BenchOptions& o, const Shared& shared) {
  auto root = c.create(o.root, "", CreateMode::kPersistent);
  if (!root.ok() && root.err != Error::NODEEXISTS) {
    throw std::runtime_error("cannot create " + o.root + ": " + error_name(root.err));
  }
  constexpr std::size_t kWindow = 500;
  for (std::size_t base = 0; base < shared.keys.size(); base += kWindow) {
    std::vector<std::future<Result<Created>>> creates;
    std::size_t end = std::min(shared.keys.size(), base + kWindow);
    for (std::size_t i = base; i < end; ++i) {
      creates.push_back(c.create_future(shared.keys[i], shared.value));
    }
    std::vector<std::future<Result<Stat>>> resets;
    for (std::size_t i = base; i < end; ++i) {
      auto r = creates[i - base].get();
      if (r.err == Error::NODEEXISTS) {
        resets.push_back(c.set_data_future(shared.keys[i], shared.value));
      } else if (!r.ok()) {
        throw std::runtime_error("cannot create " + shared.keys[i] + ": " + error_name(r.err));
      }
    }
    for (auto& f : resets) {
      auto r = f.get();
      if (!r.ok())
        throw std::runtime_error(std::string("cannot reset a key: ") + error_name(r.err));
    }
  }
}

double us(std::uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

nlohmann::json summary_json(const BenchOptions& o, const BenchPeriod& total, double seconds) {
  auto rate = [seconds](std::uint64_t n) { return static_cast<double>(n) / seconds; };
  const auto& h = total.latency_ns;
  nlohmann::json errors = nlohmann::json::object();
  for (const auto& [k, v] : total.errors)
    errors[k] = v;
  return {{"protocol", o.protocol},
          {"sessions", o.sessions},
          {"outstanding", o.outstanding},
          {"read_pct", o.read_pct},
          {"value_bytes", o.value_bytes},
          {"keys", o.keys},
          {"duration_s", seconds},
          {"warmup_s", o.warmup_s},
          {"ops", total.reads + total.writes},
          {"ops_per_s", rate(total.reads + total.writes)},
          {"reads_per_s", rate(total.reads)},
          {"writes_per_s", rate(total.writes)},
          {"latency_us",
           {{"p50", us(h.percentile(50))},
            {"p90", us(h.percentile(90))},
            {"p99", us(h.percentile(99))},
            {"p999", us(h.percentile(99.9))},
            {"max", us(h.max())},
            {"mean", h.mean() / 1000.0}}},
          {"errors", errors}};
}

void validate(const BenchOptions& o) {
  auto range = [](const char* name, double v, double lo, double hi) {
    if (v < lo || v > hi) {
      std::ostringstream os;
      os << name << " must be in " << lo << ".." << hi << ", got " << v;
      throw std::invalid_argument(os.str());
    }
  };
  if (o.protocol != "native" && o.protocol != "zookeeper") {
    throw std::invalid_argument("protocol must be native or zookeeper, got '" + o.protocol + "'");
  }
  range("sessions", o.sessions, 1, 10000);
  range("outstanding", o.outstanding, 1, 10000);
  range("read_pct", o.read_pct, 0, 100);
  range("value_bytes", o.value_bytes, 0, 1024 * 1024);
  range("interval_s", o.interval_s, 0.01, 3600);
  range("keys", o.keys, 1, 10000000);
  if (!(o.duration_s > 0)) throw std::invalid_argument("duration must be positive");
  if (!(o.warmup_s >= 0)) throw std::invalid_argument("warmup must not be negative");
}

nlohmann::json run_zk(const BenchOptions& o) {
  const zkwire::ZkBenchOptions& z = o;
  auto r = zkwire::run_zk_bench(z);
  if (!r.ok) throw std::runtime_error(r.error);
  return summary_json(o, r.total, r.measured_s > 0 ? r.measured_s : o.duration_s);
}

/// The servers' read-path counters (node::read_counters) summed over every server of the
/// connect string that answers a status probe.
std::map<std::string, std::uint64_t> server_counters(const std::string& connect) {
  std::map<std::string, std::uint64_t> sum;
  std::string hosts = connect.substr(0, connect.find('/'));
  std::size_t pos = 0;
  while (pos <= hosts.size()) {
    const std::size_t comma = std::min(hosts.find(',', pos), hosts.size());
    const std::string hp = hosts.substr(pos, comma - pos);
    pos = comma + 1;
    const auto colon = hp.rfind(':');
    if (colon == std::string::npos) continue;
    int port = 0;
    try {
      port = std::stoi(hp.substr(colon + 1));
    } catch (const std::exception&) {
      continue;
    }
    if (auto st = probe(hp.substr(0, colon), port, std::chrono::milliseconds(1000))) {
      for (const auto& [name, value] : st->counters)
        sum[name] += value;
    }
  }
  return sum;
}

nlohmann::json run_native(const BenchOptions& o) {
  auto ctx = std::make_shared<zmq::context_t>(2);
  auto shared = std::make_unique<Shared>();
  shared->read_pct = o.read_pct;
  shared->value.assign(static_cast<std::size_t>(o.value_bytes), 'v');
  for (int i = 0; i < o.keys; ++i)
    shared->keys.push_back(key_path(o.root, i));

  Options base;
  base.connect = o.connect;
  base.session_timeout = std::chrono::milliseconds(o.timeout_ms);
  base.zmq_context = ctx;
  {
    Client setup(base);
    if (!setup.wait_connected(std::chrono::milliseconds(o.timeout_ms))) {
      throw std::runtime_error("cannot connect to " + o.connect);
    }
    prepare_keys(setup, o, *shared);
  }

  Rng seeds(o.seed);
  std::vector<std::unique_ptr<Session>> sessions;
  for (int i = 0; i < o.sessions; ++i) {
    sessions.push_back(std::make_unique<Session>(*shared, base, seeds.fork(i + 1).next_u64()));
  }
  for (auto& s : sessions) {
    if (!s->client().wait_connected(std::chrono::milliseconds(o.timeout_ms))) {
      throw std::runtime_error("a session could not connect to " + o.connect);
    }
  }

  const auto start = BenchClock::now();
  const auto warmup_end = start + std::chrono::duration_cast<BenchClock::duration>(
                                      std::chrono::duration<double>(o.warmup_s));
  const auto end = warmup_end + std::chrono::duration_cast<BenchClock::duration>(
                                    std::chrono::duration<double>(o.duration_s));
  shared->measuring = true;  // warmup seconds are reported too, but not summed
  for (auto& s : sessions)
    s->start(o.outstanding);

  BenchPeriod total;
  auto last = start;
  bool in_warmup = o.warmup_s > 0;
  auto counters_before =
      in_warmup ? std::map<std::string, std::uint64_t>{} : server_counters(o.connect);
  while (true) {
    auto next = std::min(last + std::chrono::duration_cast<BenchClock::duration>(
                                    std::chrono::duration<double>(o.interval_s)),
                         in_warmup ? warmup_end : end);
    std::this_thread::sleep_until(next);  // the reporting clock of a load generator, not a test
    auto now = BenchClock::now();
    BenchPeriod interval;
    for (auto& s : sessions)
      interval.merge(s->take_interval());
    double secs = std::chrono::duration<double>(now - last).count();
    double t = std::chrono::duration<double>(now - start).count();
    if (now >= end) shared->measuring = false;
    if (o.on_interval) o.on_interval(t, interval, secs, in_warmup);
    if (!in_warmup) total.merge(interval);
    last = now;
    if (in_warmup && now >= warmup_end) {
      in_warmup = false;
      counters_before = server_counters(o.connect);
    }
    if (now >= end) break;
  }
  const auto counters_after = server_counters(o.connect);
  double measured_s = std::chrono::duration<double>(last - warmup_end).count();

  shared->stopping = true;
  {
    std::unique_lock<std::mutex> lock(shared->drain_mu);
    shared->drained.wait_for(lock, std::chrono::seconds(30),
                             [&] { return shared->in_flight.load() == 0; });
  }
  auto j = summary_json(o, total, measured_s > 0 ? measured_s : o.duration_s);
  // What the servers did for the measured period's reads: reads by mechanism, barriers,
  // quorum rounds, lease hits and misses (server-side counters, all servers summed).
  nlohmann::json counters = nlohmann::json::object();
  for (const auto& [name, value] : counters_after) {
    const auto b = counters_before.find(name);
    counters[name] = value - (b == counters_before.end() ? 0 : std::min(b->second, value));
  }
  j["server_read_counters"] = counters;
  sessions.clear();  // closes the sessions
  return j;
}

}  // namespace

nlohmann::json run_bench(const BenchOptions& options) {
  validate(options);
  if (!options.timeline)
    return options.protocol == "zookeeper" ? run_zk(options) : run_native(options);
  BenchOptions o = options;
  nlohmann::json timeline = nlohmann::json::array();
  o.on_interval = [&](double t, const BenchPeriod& p, double secs, bool warmup) {
    std::uint64_t errors = 0;
    for (const auto& [name, n] : p.errors)
      errors += n;
    timeline.push_back(
        {{"t", t},
         {"ops_per_s", secs > 0 ? static_cast<double>(p.reads + p.writes) / secs : 0.0},
         {"errors", errors},
         {"warmup", warmup}});
    if (options.on_interval) options.on_interval(t, p, secs, warmup);
  };
  auto j = o.protocol == "zookeeper" ? run_zk(o) : run_native(o);
  j["timeline"] = std::move(timeline);
  return j;
}

}  // namespace quorumlab::cluster
