// `qlab bench`: the ZooKeeper paper's throughput benchmark (Hunt et al., ATC 2010, §5.1) through
// the native client. Each session keeps a fixed number of requests outstanding; each request is
// a getData (probability read_pct) or a setData of value_bytes on a key chosen uniformly from
// `keys` znodes under /bench. Prints throughput and latency every second to stderr, a summary at
// the end, or with --json one JSON line on stdout.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "commands.hpp"
#include "quorumlab/client/client.hpp"
#include "quorumlab/client/histogram.hpp"
#include "quorumlab/rng.hpp"
#include "quorumlab/zkwire/bench.hpp"

namespace quorumlab::cli {

namespace {

using namespace quorumlab::client;
using BenchClock = std::chrono::steady_clock;

struct BenchOptions {
  std::string connect;
  std::string protocol = "native";
  int sessions = 12;
  int outstanding = 100;
  int read_pct = 50;
  int value_bytes = 1024;
  int keys = 1000;
  double duration_s = 10;
  double warmup_s = 2;
  std::uint64_t seed = 1;
  int timeout_ms = 30000;
  std::string root = "/bench";
  bool json = false;
};

/// Counters of one measurement period.
struct Period {
  LatencyHistogram latency_ns;  // successful ops only
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  std::map<std::string, std::uint64_t> errors;

  void merge(const Period& o) {
    latency_ns.merge(o.latency_ns);
    reads += o.reads;
    writes += o.writes;
    for (const auto& [k, v] : o.errors)
      errors[k] += v;
  }
  std::uint64_t error_count() const {
    std::uint64_t n = 0;
    for (const auto& [k, v] : errors)
      n += v;
    return n;
  }
};

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
  Period take_interval() {
    std::lock_guard<std::mutex> lock(mu_);
    Period p = std::move(interval_);
    interval_ = Period{};
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
  Period interval_;
  Client client_;  // last: destroyed first, so no callback outlives the members above
};

std::string key_path(const std::string& root, int i) {
  std::ostringstream os;
  os << root << "/key-" << std::setw(6) << std::setfill('0') << i;
  return os.str();
}

/// Creates the root and the keys (or resets their value), pipelined in windows.
bool prepare_keys(Client& c, const BenchOptions& o, const Shared& shared) {
  auto root = c.create(o.root, "", CreateMode::kPersistent);
  if (!root.ok() && root.err != Error::NODEEXISTS) {
    std::cerr << "qlab bench: cannot create " << o.root << ": " << error_name(root.err) << "\n";
    return false;
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
        std::cerr << "qlab bench: cannot create " << shared.keys[i] << ": " << error_name(r.err)
                  << "\n";
        return false;
      }
    }
    for (auto& f : resets) {
      auto r = f.get();
      if (!r.ok()) {
        std::cerr << "qlab bench: cannot reset a key: " << error_name(r.err) << "\n";
        return false;
      }
    }
  }
  return true;
}

double us(std::uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

void print_interval(double t, const Period& p, double seconds, bool warmup) {
  auto rate = [seconds](std::uint64_t n) { return static_cast<double>(n) / seconds; };
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << "[" << std::setw(6) << t << "s] "
     << std::setprecision(0) << std::setw(8) << rate(p.reads + p.writes) << " ops/s (reads "
     << rate(p.reads) << "/s, writes " << rate(p.writes) << "/s)  latency us p50 "
     << us(p.latency_ns.percentile(50)) << " p99 " << us(p.latency_ns.percentile(99)) << " p99.9 "
     << us(p.latency_ns.percentile(99.9)) << "  errors " << p.error_count()
     << (warmup ? "  (warmup)" : "");
  std::cerr << os.str() << std::endl;
}

nlohmann::json summary_json(const BenchOptions& o, const Period& total, double seconds) {
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

void print_summary(const nlohmann::json& j) {
  const auto& l = j["latency_us"];
  std::cout << std::fixed << std::setprecision(0) << "qlab bench ("
            << j["protocol"].get<std::string>() << "): " << j["sessions"] << " sessions x "
            << j["outstanding"] << " outstanding, " << j["read_pct"] << "% reads, "
            << j["value_bytes"] << "-byte values, " << j["keys"] << " keys, "
            << std::setprecision(1) << j["duration_s"].get<double>() << " s\n"
            << std::setprecision(0) << "  throughput: " << j["ops_per_s"].get<double>()
            << " ops/s (reads " << j["reads_per_s"].get<double>() << "/s, writes "
            << j["writes_per_s"].get<double>() << "/s)\n"
            << std::setprecision(1) << "  latency us: p50 " << l["p50"].get<double>() << "  p90 "
            << l["p90"].get<double>() << "  p99 " << l["p99"].get<double>() << "  p99.9 "
            << l["p999"].get<double>() << "  max " << l["max"].get<double>() << "\n"
            << "  errors: " << (j["errors"].empty() ? std::string("none") : j["errors"].dump())
            << "\n";
}

Period period_of(const zkwire::ZkBenchPeriod& p) {
  Period q;
  q.latency_ns = p.latency_ns;
  q.reads = p.reads;
  q.writes = p.writes;
  q.errors = p.errors;
  return q;
}

/// --protocol zookeeper: the same load over the ZooKeeper wire protocol (kernel/zkwire), so it
/// runs against Apache ZooKeeper too. Sessions go round-robin over the connect string's hosts.
int run_zk_bench(const BenchOptions& o) {
  zkwire::ZkBenchOptions z;
  z.connect = o.connect;
  z.sessions = o.sessions;
  z.outstanding = o.outstanding;
  z.read_pct = o.read_pct;
  z.value_bytes = o.value_bytes;
  z.keys = o.keys;
  z.duration_s = o.duration_s;
  z.warmup_s = o.warmup_s;
  z.seed = o.seed;
  z.timeout_ms = o.timeout_ms;
  z.root = o.root;
  z.on_interval = [](double t, const zkwire::ZkBenchPeriod& p, double secs, bool warmup) {
    print_interval(t, period_of(p), secs, warmup);
  };
  auto r = zkwire::run_zk_bench(z);
  if (!r.ok) {
    std::cerr << "qlab bench: " << r.error << "\n";
    return 1;
  }
  auto j = summary_json(o, period_of(r.total), r.measured_s > 0 ? r.measured_s : o.duration_s);
  if (o.json) {
    std::cout << j.dump() << std::endl;
  } else {
    print_summary(j);
  }
  return 0;
}

int run_bench(const BenchOptions& o) {
  if (o.protocol == "zookeeper") return run_zk_bench(o);
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
      std::cerr << "qlab bench: cannot connect to " << o.connect << "\n";
      return 1;
    }
    if (!prepare_keys(setup, o, *shared)) return 1;
  }

  Rng seeds(o.seed);
  std::vector<std::unique_ptr<Session>> sessions;
  for (int i = 0; i < o.sessions; ++i) {
    sessions.push_back(std::make_unique<Session>(*shared, base, seeds.fork(i + 1).next_u64()));
  }
  for (auto& s : sessions) {
    if (!s->client().wait_connected(std::chrono::milliseconds(o.timeout_ms))) {
      std::cerr << "qlab bench: a session could not connect to " << o.connect << "\n";
      return 1;
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

  Period total;
  auto last = start;
  bool in_warmup = o.warmup_s > 0;
  while (true) {
    auto next = std::min(last + std::chrono::seconds(1), in_warmup ? warmup_end : end);
    std::this_thread::sleep_until(next);  // the reporting clock of a CLI tool, not a test
    auto now = BenchClock::now();
    Period interval;
    for (auto& s : sessions)
      interval.merge(s->take_interval());
    double secs = std::chrono::duration<double>(now - last).count();
    double t = std::chrono::duration<double>(now - start).count();
    if (now >= end) shared->measuring = false;
    print_interval(t, interval, secs, in_warmup);
    if (!in_warmup) total.merge(interval);
    last = now;
    if (in_warmup && now >= warmup_end) in_warmup = false;
    if (now >= end) break;
  }
  double measured_s = std::chrono::duration<double>(last - warmup_end).count();

  shared->stopping = true;
  {
    std::unique_lock<std::mutex> lock(shared->drain_mu);
    shared->drained.wait_for(lock, std::chrono::seconds(30),
                             [&] { return shared->in_flight.load() == 0; });
  }
  auto j = summary_json(o, total, measured_s > 0 ? measured_s : o.duration_s);
  sessions.clear();  // closes the sessions
  if (o.json) {
    std::cout << j.dump() << std::endl;
  } else {
    print_summary(j);
  }
  return 0;
}

}  // namespace

void add_bench(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "bench", "ZooKeeper-paper throughput benchmark (sessions x outstanding, read ratio)");
  cmd->footer(
      "Creates `keys` znodes of value-bytes under /bench, then each session keeps `outstanding`\n"
      "getData/setData requests in flight for warmup + duration seconds. Per-second lines go to\n"
      "stderr; the summary (or with --json one JSON line: ops_per_s, reads_per_s, writes_per_s,\n"
      "latency_us{p50,p90,p99,p999,max,mean}, errors{NAME: count}, ...) to stdout.");
  auto o = std::make_shared<BenchOptions>();
  cmd->add_option("--connect,--server", o->connect, "host:port[,host:port...][/chroot]")
      ->required();
  cmd->add_option("--protocol", o->protocol, "client protocol: native, or zookeeper (jute)")
      ->check(CLI::IsMember({"native", "zookeeper"}))
      ->capture_default_str();
  cmd->add_option("--sessions", o->sessions, "client sessions")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_option("--outstanding", o->outstanding, "requests in flight per session")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_option("--read-pct", o->read_pct, "percentage of reads (getData), the rest setData")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  cmd->add_option("--value-bytes", o->value_bytes, "bytes per value")
      ->check(CLI::Range(0, 1024 * 1024))
      ->capture_default_str();
  cmd->add_option("--keys", o->keys, "znodes under /bench")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  cmd->add_option("--duration", o->duration_s, "measured seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--warmup", o->warmup_s, "seconds before measuring")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the key and op choices")->capture_default_str();
  cmd->add_option("--timeout-ms", o->timeout_ms, "requested session timeout")
      ->capture_default_str();
  cmd->add_option("--root", o->root, "parent znode of the keys")->capture_default_str();
  cmd->add_flag("--json", o->json, "print one JSON line on stdout");
  cmd->callback([&action, o] { action = [o] { return run_bench(*o); }; });
}

}  // namespace quorumlab::cli
