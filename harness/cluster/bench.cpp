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
#include "quorumlab/sim/history_io.hpp"

namespace quorumlab::cluster {

namespace {

using namespace quorumlab::client;
using BenchClock = std::chrono::steady_clock;

/// History mode: every operation of every session, on one clock.
class Recorder {
 public:
  explicit Recorder(BenchClock::time_point t0) : t0_(t0) {}

  /// Records an invocation now; returns its handle for complete().
  std::size_t invoke(int client, SessionId session, sim::OpKind kind, const std::string& key,
                     const std::string& data = {}) {
    sim::HistoryOp op;
    op.client = client;
    op.session = session;
    op.kind = kind;
    op.key = key;
    op.data = data;
    std::lock_guard<std::mutex> lock(mu_);
    op.invoke_us = now_us();
    ops_.push_back(std::move(op));
    return ops_.size() - 1;
  }

  /// Records the reply (`zxid` 0: none came, the outcome stays unknown) and, for a success,
  /// what the operation saw or left.
  void complete(std::size_t handle, Error err, std::int64_t zxid, const sim::ZnodeState& state) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || zxid == 0) return;
    sim::HistoryOp& op = ops_[handle];
    op.complete_us = std::max(now_us(), op.invoke_us);
    op.err = static_cast<std::int32_t>(err);
    op.zxid = static_cast<Zxid>(zxid);
    if (err == Error::OK) op.observed = state;
  }

  /// The history so far in invocation order, ids dense; later completions are ignored.
  sim::History take() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    sim::History h;
    h.ops = std::move(ops_);
    std::stable_sort(h.ops.begin(), h.ops.end(),
                     [](const auto& a, const auto& b) { return a.invoke_us < b.invoke_us; });
    for (std::size_t i = 0; i < h.ops.size(); ++i)
      h.ops[i].id = i;
    return h;
  }

  static sim::ZnodeState state(const std::string& data, const Stat& st) {
    return sim::ZnodeState{true, data, st.version, static_cast<Zxid>(st.mzxid),
                           static_cast<Zxid>(st.czxid)};
  }

 private:
  std::int64_t now_us() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(BenchClock::now() - t0_).count();
  }
  BenchClock::time_point t0_;
  std::mutex mu_;
  std::vector<sim::HistoryOp> ops_;
  bool closed_ = false;
};

/// What every session shares: the key set, the value and the run phase.
struct Shared {
  std::vector<std::string> keys;
  std::string value;
  int read_pct = 50;
  int value_bytes = 0;
  bool paced = false;            ///< a pacer thread issues the requests (BenchOptions::rate)
  Recorder* recorder = nullptr;  ///< history mode
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
  Session(Shared& shared, Options options, std::uint64_t seed, int number)
      : shared_(shared), number_(number), rng_(seed), client_(std::move(options)) {}

  Client& client() { return client_; }
  int number() const { return number_; }
  /// The server expired the session: it issues nothing more (history mode replaces it).
  bool expired() const { return expired_.load(std::memory_order_relaxed); }
  int in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

  void start(int outstanding) {
    if (shared_.paced) return;
    for (int i = 0; i < outstanding; ++i)
      issue();
  }

  /// Issues one request now (the pacer's call when BenchOptions::rate is set).
  void issue_one() { issue(); }

  /// Moves the interval counters out (and into the run total).
  BenchPeriod take_interval() {
    std::lock_guard<std::mutex> lock(mu_);
    BenchPeriod p = std::move(interval_);
    interval_ = BenchPeriod{};
    return p;
  }

 private:
  void issue() {
    if (shared_.stopping.load(std::memory_order_relaxed) || expired()) return;
    std::size_t key_index = 0;
    bool read = false;
    std::uint64_t seq = 0;
    {
      // start() issues from the caller's thread while early replies already issue from the
      // event thread.
      std::lock_guard<std::mutex> lock(rng_mu_);
      key_index = static_cast<std::size_t>(rng_.uniform(shared_.keys.size()));
      read = static_cast<int>(rng_.uniform(100)) < shared_.read_pct;
      if (!read) seq = ++writes_;
    }
    const std::string& key = shared_.keys[key_index];
    auto start = BenchClock::now();
    shared_.in_flight.fetch_add(1, std::memory_order_relaxed);
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    Recorder* rec = shared_.recorder;
    if (read) {
      const std::size_t h =
          rec ? rec->invoke(number_, client_.session_id(), sim::OpKind::get, key) : 0;
      client_.get_data_async(key, [this, start, rec, h](Result<DataResult> r) {
        if (rec) rec->complete(h, r.err, r.zxid, Recorder::state(r.value.data, r.value.stat));
        done(start, true, r.err);
      });
    } else if (rec) {
      std::string value = "c" + std::to_string(number_) + "-" + std::to_string(seq);
      if (value.size() < static_cast<std::size_t>(shared_.value_bytes))
        value.resize(static_cast<std::size_t>(shared_.value_bytes), '.');
      const std::size_t h =
          rec->invoke(number_, client_.session_id(), sim::OpKind::set, key, value);
      client_.set_data_async(key, value, -1, [this, start, rec, h, value](Result<Stat> r) {
        rec->complete(h, r.err, r.zxid, Recorder::state(value, r.value));
        done(start, false, r.err);
      });
    } else {
      client_.set_data_async(key, shared_.value, -1,
                             [this, start](Result<Stat> r) { done(start, false, r.err); });
    }
  }

  void done(BenchClock::time_point start, bool read, Error err) {
    if (err == Error::SESSIONEXPIRED) expired_.store(true, std::memory_order_relaxed);
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
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
    if (!shared_.paced) issue();
    if (shared_.in_flight.fetch_sub(1, std::memory_order_acq_rel) == 1 && shared_.stopping.load()) {
      std::lock_guard<std::mutex> lock(shared_.drain_mu);
      shared_.drained.notify_all();
    }
  }

  Shared& shared_;
  const int number_;
  std::atomic<bool> expired_{false};
  std::atomic<int> in_flight_{0};
  std::uint64_t writes_ = 0;  ///< history mode: numbers the unique values (under rng_mu_)
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
  if (!(o.rate >= 0 && o.rate <= 1e7)) {
    throw std::invalid_argument("rate must be in 0..10000000 operations per second");
  }
  if (o.protocol == "zookeeper" && (!o.history_file.empty() || o.rate > 0)) {
    throw std::invalid_argument(
        "a history and a rate need the native protocol (--protocol native)");
  }
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

/// History mode: deletes the keys (unrecorded) and creates them afresh, recorded.
void prepare_recorded_keys(Client& c, const BenchOptions& o, const Shared& shared, Recorder& rec) {
  auto root = c.create(o.root, "", CreateMode::kPersistent);
  if (!root.ok() && root.err != Error::NODEEXISTS) {
    throw std::runtime_error("cannot create " + o.root + ": " + error_name(root.err));
  }
  constexpr std::size_t kWindow = 500;
  for (std::size_t base = 0; base < shared.keys.size(); base += kWindow) {
    const std::size_t end = std::min(shared.keys.size(), base + kWindow);
    std::vector<std::future<Result<None>>> removes;
    for (std::size_t i = base; i < end; ++i)
      removes.push_back(c.remove_future(shared.keys[i]));
    for (std::size_t i = base; i < end; ++i) {
      auto r = removes[i - base].get();
      if (!r.ok() && r.err != Error::NONODE) {
        throw std::runtime_error("cannot delete " + shared.keys[i] + ": " + error_name(r.err));
      }
    }
    std::vector<std::pair<std::size_t, std::future<Result<Created>>>> creates;
    for (std::size_t i = base; i < end; ++i) {
      const std::size_t h =
          rec.invoke(0, c.session_id(), sim::OpKind::create, shared.keys[i], "c0-0");
      creates.emplace_back(h, c.create_future(shared.keys[i], "c0-0"));
    }
    for (std::size_t i = base; i < end; ++i) {
      auto& [h, f] = creates[i - base];
      auto r = f.get();
      rec.complete(h, r.err, r.zxid, Recorder::state("c0-0", r.value.stat));
      if (!r.ok())
        throw std::runtime_error("cannot create " + shared.keys[i] + ": " + error_name(r.err));
    }
  }
}

/// History mode: the final reads, sync then getData of every key, from a new session.
std::uint64_t final_reads(const Options& base, const BenchOptions& o, const Shared& shared,
                          Recorder& rec, int client_number) {
  Client c(base);
  if (!c.wait_connected(std::chrono::milliseconds(o.timeout_ms))) {
    throw std::runtime_error("the final reads could not connect to " + o.connect);
  }
  std::uint64_t done = 0;
  constexpr std::size_t kWindow = 500;
  for (std::size_t base_i = 0; base_i < shared.keys.size(); base_i += kWindow) {
    const std::size_t end = std::min(shared.keys.size(), base_i + kWindow);
    std::vector<std::tuple<std::size_t, std::future<Result<std::string>>, std::size_t,
                           std::future<Result<DataResult>>>>
        reads;
    for (std::size_t i = base_i; i < end; ++i) {
      const std::string& key = shared.keys[i];
      const std::size_t hs = rec.invoke(client_number, c.session_id(), sim::OpKind::sync, key);
      auto fs = c.sync_op_future(key);
      const std::size_t hg = rec.invoke(client_number, c.session_id(), sim::OpKind::get, key);
      reads.emplace_back(hs, std::move(fs), hg, c.get_data_future(key));
    }
    for (auto& [hs, fs, hg, fg] : reads) {
      auto rs = fs.get();
      rec.complete(hs, rs.err, rs.zxid, {});
      auto rg = fg.get();
      rec.complete(hg, rg.err, rg.zxid, Recorder::state(rg.value.data, rg.value.stat));
      if (rg.ok()) ++done;
    }
  }
  return done;
}

nlohmann::json run_native(const BenchOptions& o) {
  auto ctx = std::make_shared<zmq::context_t>(2);
  auto shared = std::make_unique<Shared>();
  shared->read_pct = o.read_pct;
  shared->value_bytes = o.value_bytes;
  shared->value.assign(static_cast<std::size_t>(o.value_bytes), 'v');
  shared->paced = o.rate > 0;
  for (int i = 0; i < o.keys; ++i)
    shared->keys.push_back(key_path(o.root, i));
  const bool recording = !o.history_file.empty();
  std::unique_ptr<Recorder> recorder;
  if (recording) {
    recorder = std::make_unique<Recorder>(BenchClock::now());
    shared->recorder = recorder.get();
  }

  Options base;
  base.connect = o.connect;
  base.session_timeout = std::chrono::milliseconds(o.timeout_ms);
  base.zmq_context = ctx;
  {
    Client setup(base);
    if (!setup.wait_connected(std::chrono::milliseconds(o.timeout_ms))) {
      throw std::runtime_error("cannot connect to " + o.connect);
    }
    if (recording) {
      prepare_recorded_keys(setup, o, *shared, *recorder);
    } else {
      prepare_keys(setup, o, *shared);
    }
  }

  Rng seeds(o.seed);
  std::mutex sessions_mu;  // the pacer reads `sessions` while expired ones are replaced
  std::vector<std::unique_ptr<Session>> sessions;
  std::vector<std::unique_ptr<Session>> retired;  // expired: kept until their records are taken
  int next_number = 1;
  auto new_session = [&]() {
    const int number = next_number++;
    auto s = std::make_unique<Session>(*shared, base, seeds.fork(number).next_u64(), number);
    if (!s->client().wait_connected(std::chrono::milliseconds(o.timeout_ms))) {
      throw std::runtime_error("a session could not connect to " + o.connect);
    }
    return s;
  };
  for (int i = 0; i < o.sessions; ++i)
    sessions.push_back(new_session());

  if (o.on_load_start) o.on_load_start();
  const auto start = BenchClock::now();
  const auto warmup_end = start + std::chrono::duration_cast<BenchClock::duration>(
                                      std::chrono::duration<double>(o.warmup_s));
  const auto end = warmup_end + std::chrono::duration_cast<BenchClock::duration>(
                                    std::chrono::duration<double>(o.duration_s));
  shared->measuring = true;  // warmup seconds are reported too, but not summed
  for (auto& s : sessions)
    s->start(o.outstanding);

  // BenchOptions::rate: issues requests on a schedule to sessions with room in flight.
  std::thread pacer;
  if (shared->paced) {
    pacer = std::thread([&] {
      std::uint64_t issued = 0;
      std::size_t next = 0;
      while (!shared->stopping.load()) {
        const double due =
            o.rate * std::chrono::duration<double>(BenchClock::now() - start).count();
        {
          std::lock_guard<std::mutex> lock(sessions_mu);
          while (static_cast<double>(issued) < due) {
            Session* pick = nullptr;
            for (std::size_t k = 0; k < sessions.size() && !pick; ++k) {
              Session* s = sessions[(next + k) % sessions.size()].get();
              if (!s->expired() && s->in_flight() < o.outstanding) pick = s;
            }
            if (!pick) {  // every session is full: the load falls behind, as a client would
              issued = static_cast<std::uint64_t>(due);
              break;
            }
            next = (next + 1) % sessions.size();
            pick->issue_one();
            ++issued;
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the pacing clock
      }
    });
  }

  BenchPeriod total;
  auto last = start;
  bool in_warmup = o.warmup_s > 0;
  std::uint64_t replaced = 0;
  auto counters_before =
      in_warmup ? std::map<std::string, std::uint64_t>{} : server_counters(o.connect);
  try {
    while (true) {
      auto next = std::min(last + std::chrono::duration_cast<BenchClock::duration>(
                                      std::chrono::duration<double>(o.interval_s)),
                           in_warmup ? warmup_end : end);
      std::this_thread::sleep_until(next);  // the reporting clock of a load generator, not a test
      auto now = BenchClock::now();
      BenchPeriod interval;
      for (auto& s : sessions)
        interval.merge(s->take_interval());
      for (auto& s : retired)
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
      if (recording) {  // expired sessions are replaced, so the load goes on
        for (std::size_t i = 0; i < sessions.size(); ++i) {
          if (!sessions[i]->expired()) continue;
          auto fresh = new_session();
          fresh->start(o.outstanding);
          std::lock_guard<std::mutex> lock(sessions_mu);
          retired.push_back(std::move(sessions[i]));
          sessions[i] = std::move(fresh);
          ++replaced;
        }
      }
    }
  } catch (...) {
    shared->stopping = true;
    if (pacer.joinable()) pacer.join();
    throw;
  }
  const auto counters_after = server_counters(o.connect);
  double measured_s = std::chrono::duration<double>(last - warmup_end).count();

  shared->stopping = true;
  if (pacer.joinable()) pacer.join();
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
  retired.clear();
  if (recording) {
    if (o.before_final_reads) o.before_final_reads();
    // The history is written whatever happens to the final reads; the summary says.
    std::uint64_t finals = 0;
    std::string final_error;
    try {
      finals = final_reads(base, o, *shared, *recorder, next_number++);
    } catch (const std::exception& e) {
      final_error = e.what();
    }
    sim::History h = recorder->take();
    std::uint64_t acked = 0, unknown = 0;
    for (const auto& op : h.ops) {
      if (!op.completed()) ++unknown;
      if (sim::is_write(op.kind) && op.completed() && op.err == 0) ++acked;
    }
    nlohmann::json meta = o.history_meta;
    meta["source"] = "qlab bench";
    meta["connect"] = o.connect;
    meta["root"] = o.root;
    meta["keys"] = o.keys;
    meta["read_pct"] = o.read_pct;
    sim::write_history_file(o.history_file, h, meta);
    j["history"] = {{"file", o.history_file},        {"ops", h.ops.size()},
                    {"writes_acknowledged", acked},  {"unknown_outcome", unknown},
                    {"sessions_replaced", replaced}, {"final_reads", finals}};
    if (!final_error.empty()) j["history"]["final_reads_error"] = final_error;
  }
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
