// `qlab calibrate`: measures the simulator's performance-model costs on this machine and writes
// a profile that `qlab sim --perf-profile FILE` reads.
//
//   data structures  Google Benchmark micro-benchmarks of the real code paths: decode + apply a
//                    setData txn to the data tree (three value sizes: cost per txn and per
//                    byte), getData from the tree, encode + decode of a client request/reply
//                    and of a peer envelope carrying a broadcast message (three sizes each);
//   transport        what the micro-benchmarks miss in a real server (ZeroMQ, syscalls, I/O
//                    thread hand-offs): an echo over loopback, DEALER -> ROUTER -> back; the
//                    process CPU time per send or receive with 64 in flight (small and 16 KiB
//                    messages: per message and per byte) and, with one in flight, the cost of
//                    waking the receiving thread;
//   disk             append + fdatasync of 1 KiB and 64 KiB on a temp file in --dir: fsync
//                    latency and bandwidth; the `wal` storage's CPU per entry written (fsync
//                    off, two entry sizes);
//   the node         what the micro-benchmarks leave out of the node's own code (sessions, the
//                    request pipeline, the plugin's step, Ready execution): the simulator runs
//                    the real node code (zab, 3 replicas, the throughput workload) and times
//                    each reactor turn on this machine's CPU; the time beyond the modelled
//                    costs is fitted per client request (request_ns) and per peer message
//                    (peer_handling_ns).
// The load generator's cost per operation (host_cores runs) is derived: two transport
// operations and two client messages, plus its bytes. tick_ns is not measured (a default).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <capnp/message.h>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "commands.hpp"
#include "quorumlab/capnp_bytes.hpp"
#include "quorumlab/log.hpp"
#include "quorumlab/node/capnp_util.hpp"
#include "quorumlab/proto/client.capnp.h"
#include "quorumlab/proto/peer.capnp.h"
#include "quorumlab/sim/perf_model.hpp"
#include "quorumlab/sim/simulator.hpp"
#include "quorumlab/sm/data_tree.hpp"
#include "quorumlab/sm/txn.hpp"
#include "wal/wal_storage.hpp"

namespace quorumlab::cli {

namespace {

struct CalibrateOptions {
  std::string out = "perf_profile.json";
  std::string dir;  // empty: the system's temp directory
  bool quick = false;
  int value_size = 1024;
};

const std::vector<int> kSizes = {16, 1024, 4096};
constexpr int kKeys = 1000;
const sm::AuthInfo kAuth{{sm::Id{"ip", "127.0.0.1"}}, false};

std::string key_name(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "/bench-key-%06d", i);
  return buf;
}

/// The benchmark's key set: kKeys znodes of `bytes` each.
std::unique_ptr<sm::DataTree> bench_tree(int bytes, Zxid* zxid) {
  auto tree = std::make_unique<sm::DataTree>();
  for (int i = 0; i < kKeys; ++i) {
    sm::Txn t{sm::TxnHeader{1, 0, 1000, kAuth},
              sm::CreateOp{key_name(i), Bytes(static_cast<std::size_t>(bytes), 'v'),
                           sm::open_acl_unsafe(), 0, -1}};
    tree->apply(t, ++*zxid, nullptr);
  }
  return tree;
}

kj::ArrayPtr<const capnp::byte> bytes_of(const Bytes& b) {
  return kj::arrayPtr(b.data(), b.size());
}

// ---------------------------------------------------------------- micro-benchmarks

/// The committed-txn path of a replica: decode the txn bytes, apply to the tree.
void bm_apply(benchmark::State& state, int bytes) {
  Zxid zxid = 0;
  auto tree = bench_tree(bytes, &zxid);
  std::vector<Bytes> txns;
  for (int i = 0; i < 512; ++i) {
    txns.push_back(sm::encode(sm::Txn{
        sm::TxnHeader{1, i, 2000, kAuth},
        sm::SetDataOp{key_name(i * 7 % kKeys),
                      Bytes(static_cast<std::size_t>(bytes), static_cast<std::uint8_t>(i)), -1}}));
  }
  std::vector<sm::WatchTrigger> triggers;
  std::size_t i = 0;
  std::string error;
  for (auto _ : state) {
    triggers.clear();
    auto txn = sm::decode(txns[i], &error);
    benchmark::DoNotOptimize(tree->apply(*txn, ++zxid, &triggers));
    if (++i == txns.size()) i = 0;
  }
}

/// Serving a getData from the tree (the reply's encoding is a client message).
void bm_read(benchmark::State& state, int bytes) {
  Zxid zxid = 0;
  auto tree = bench_tree(bytes, &zxid);
  Bytes data;
  sm::Stat stat;
  int i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(tree->get_data(key_name(i), kAuth, &data, &stat));
    i = (i + 7) % kKeys;
  }
}

/// A client message both ways: encode + decode of a setData request of `bytes`, and of the
/// getData reply carrying `bytes`. Half of it is one message's encode or decode.
void bm_client_message(benchmark::State& state, int bytes) {
  const Bytes value(static_cast<std::size_t>(bytes), 'v');
  const std::string path = key_name(17);
  for (auto _ : state) {
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<proto::ClientMessage>().initRequest();
    r.setXid(42);
    auto s = r.initOp().initSetData();
    s.setPath(path);
    s.setData(bytes_of(value));
    s.setVersion(-1);
    Bytes wire = to_bytes(m);
    CapnpReader reader(wire.data(), wire.size(), 1u << 26);
    auto req = reader.root<proto::ClientMessage>().getRequest();
    auto sd = req.getOp().getSetData();
    benchmark::DoNotOptimize(sd.getPath().size() + sd.getData().size());

    capnp::MallocMessageBuilder rm;
    auto resp = rm.initRoot<proto::ServerMessage>().initResponse();
    resp.setXid(42);
    resp.setZxid(1234);
    auto d = resp.initBody().initData();
    d.setData(bytes_of(value));
    d.initStat().setVersion(3);
    Bytes rwire = to_bytes(rm);
    CapnpReader rreader(rwire.data(), rwire.size(), 1u << 26);
    auto got = rreader.root<proto::ServerMessage>().getResponse();
    benchmark::DoNotOptimize(got.getBody().getData().getData().size());
  }
}

/// A peer message: a broadcast message (its own Cap'n Proto message carrying the txn bytes, as
/// a ZAB proposal does) in the kernel's envelope, encoded and decoded (both layers).
void bm_peer_message(benchmark::State& state, int bytes) {
  const Bytes value(static_cast<std::size_t>(bytes), 'v');
  for (auto _ : state) {
    capnp::MallocMessageBuilder inner;
    auto in = inner.initRoot<proto::PeerEnvelope>();  // stands in for the plugin's schema
    in.setFrom(7);
    in.setBroadcast(bytes_of(value));
    Bytes inner_bytes = to_bytes(inner);
    capnp::MallocMessageBuilder outer;
    auto env = outer.initRoot<proto::PeerEnvelope>();
    env.setFrom(1);
    env.setBroadcast(bytes_of(inner_bytes));
    Bytes wire = to_bytes(outer);
    CapnpReader reader(wire.data(), wire.size(), 1u << 26);
    auto payload = reader.root<proto::PeerEnvelope>().getBroadcast();
    CapnpReader inner_reader(payload.begin(), payload.size(), 1u << 26);
    benchmark::DoNotOptimize(inner_reader.root<proto::PeerEnvelope>().getBroadcast().size());
  }
}

/// Collects each benchmark's CPU time per iteration (ns).
class Collector final : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.run_type != Run::RT_Iteration) continue;
      ns[r.benchmark_name()] = r.GetAdjustedCPUTime();
    }
  }
  std::map<std::string, double> ns;
};

/// Least-squares line through (x, y): intercept and slope, both clamped at 0.
std::pair<double, double> fit(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    sxy += x[i] * y[i];
  }
  const double den = n * sxx - sx * sx;
  double slope = den != 0 ? (n * sxy - sx * sy) / den : 0;
  slope = std::max(slope, 0.0);
  const double intercept = std::max((sy - slope * sx) / n, 0.0);
  return {intercept, slope};
}

// ---------------------------------------------------------------- transport and disk

double process_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

/// Process CPU time per round trip of a small message over loopback TCP: a DEALER keeps
/// `window` messages in flight to a ROUTER that echoes them (one thread each, as a client and a
/// server), `count` round trips.
double measure_echo(int count, int window, std::size_t bytes, nlohmann::json& details) {
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.bind("tcp://127.0.0.1:*");
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);
  std::thread server([&router, count] {
    for (int i = 0; i < count; ++i) {
      zmq::message_t id, body;
      if (!router.recv(id) || !router.recv(body)) return;
      router.send(id, zmq::send_flags::sndmore);
      router.send(body, zmq::send_flags::none);
    }
  });
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.connect(endpoint);
  const std::string payload(bytes, 'p');
  // Warm the connection up (the first messages pay for the handshake).
  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu0 = process_cpu_ns();
  int sent = 0, received = 0;
  while (received < count) {
    while (sent < count && sent - received < window) {
      dealer.send(zmq::buffer(payload), zmq::send_flags::none);
      ++sent;
    }
    zmq::message_t reply;
    if (!dealer.recv(reply)) break;
    ++received;
  }
  const double cpu = process_cpu_ns() - cpu0;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  server.join();
  dealer.close();
  router.close();
  details["echo_window_" + std::to_string(window) + "_bytes_" + std::to_string(bytes)] = {
      {"round_trips", received},
      {"window", window},
      {"message_bytes", bytes},
      {"process_cpu_ns_per_round_trip", cpu / received},
      {"wall_us_per_round_trip", wall * 1e6 / received}};
  return cpu / received;
}

/// Process CPU time per entry the `wal` storage writes (fsync off: the writer thread's
/// encoding, checksums and write(2) calls), entries of `bytes` appended and flushed in batches
/// of `batch`, in a fresh directory under `dir`.
double measure_wal(const std::filesystem::path& dir, std::size_t bytes, int entries, int batch) {
  storage::WalOptions w;
  w.dir = dir / ("qlab-calibrate-wal-" + std::to_string(::getpid()) + "-" + std::to_string(bytes));
  w.fsync = false;
  const double cpu0 = process_cpu_ns();
  {
    storage::WalStorage wal(w, std::make_shared<spdlog::logger>("calibrate"));
    wal.recover();
    LogIndex last = 0;
    for (int i = 0; i < entries; i += batch) {
      std::vector<LogEntry> es(static_cast<std::size_t>(batch));
      for (auto& e : es) {
        e.index = ++last;
        e.epoch = 1;
        e.zxid = (std::uint64_t{1} << 32) | e.index;
        e.data.assign(bytes, static_cast<std::uint8_t>(e.index));
      }
      wal.append(es);
      wal.flush();
    }
  }  // closing writes the queue and joins the writer
  const double cpu = process_cpu_ns() - cpu0;
  std::filesystem::remove_all(w.dir);
  return cpu / entries;
}

/// Median microseconds per append + fdatasync of 1 KiB and of 64 KiB on a fresh file in `dir`,
/// the two sizes alternating (a disk whose speed changes over time affects both alike).
std::pair<double, double> time_fsync(const std::filesystem::path& dir, int count) {
  const auto path = dir / ("qlab-calibrate-" + std::to_string(::getpid()) + ".tmp");
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + path.string() + " for the fsync test");
  const std::string small(1024, 'd'), big(65536, 'd');
  std::vector<double> us[2];
  for (int i = 0; i < 2 * count; ++i) {
    const std::string& block = i % 2 == 0 ? small : big;
    const auto t0 = std::chrono::steady_clock::now();
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()) ||
        ::fdatasync(fd) != 0) {
      ::close(fd);
      std::filesystem::remove(path);
      throw std::runtime_error("write/fdatasync failed on " + path.string());
    }
    us[i % 2].push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  ::close(fd);
  std::filesystem::remove(path);
  for (auto& v : us)
    std::sort(v.begin(), v.end());
  // The medians: one slow flush of a noisy disk is not the rule.
  return {us[0][us[0].size() / 2], us[1][us[1].size() / 2]};
}

int run(const CalibrateOptions& o) {
  sim::PerfProfile p;  // defaults for what is not measured
  nlohmann::json details;

  // Micro-benchmarks.
  Collector collector;
  for (int s : kSizes) {
    benchmark::RegisterBenchmark(("apply/" + std::to_string(s)).c_str(),
                                 [s](benchmark::State& st) { bm_apply(st, s); });
    benchmark::RegisterBenchmark(("client_message/" + std::to_string(s)).c_str(),
                                 [s](benchmark::State& st) { bm_client_message(st, s); });
    benchmark::RegisterBenchmark(("peer_message/" + std::to_string(s)).c_str(),
                                 [s](benchmark::State& st) { bm_peer_message(st, s); });
  }
  benchmark::RegisterBenchmark("read", [&o](benchmark::State& st) { bm_read(st, o.value_size); });
  std::string min_time = std::string("--benchmark_min_time=") + (o.quick ? "0.01" : "0.2");
  std::vector<std::string> args = {"qlab-calibrate", min_time};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  benchmark::Initialize(&argc, argv.data());
  std::fprintf(stderr, "calibrate: micro-benchmarks of the code paths...\n");
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::ClearRegisteredBenchmarks();
  details["micro_benchmarks_cpu_ns"] = collector.ns;
  auto line = [&](const char* name) {
    std::vector<double> x, y;
    for (int s : kSizes) {
      auto it = collector.ns.find(std::string(name) + "/" + std::to_string(s));
      if (it == collector.ns.end()) throw std::runtime_error(std::string("no result for ") + name);
      x.push_back(s);
      y.push_back(it->second);
    }
    return fit(x, y);
  };
  const auto [apply_fixed, apply_byte] = line("apply");
  p.apply_txn_ns = apply_fixed;
  p.apply_byte_ns = apply_byte;
  // One direction of a message is half of an encode + decode (the model charges the sender
  // and the receiver each).
  const auto [client_fixed, client_byte] = line("client_message");
  p.client_message_ns = client_fixed / 4;  // two messages (request, reply) both ways
  p.client_byte_ns = client_byte / 4;
  const auto [peer_fixed, peer_byte] = line("peer_message");
  p.peer_message_ns = peer_fixed / 2;
  p.peer_byte_ns = peer_byte / 2;
  p.read_ns = collector.ns.count("read") ? collector.ns["read"] : p.read_ns;

  // Transport.
  std::fprintf(stderr, "calibrate: ZeroMQ loopback echo...\n");
  // With many messages in flight each thread wakes once for many: the CPU per round trip is
  // four sends or receives. With one in flight every message wakes its receiver: the
  // difference, per side, is the cost of a wakeup.
  const int trips = o.quick ? 5000 : 100000;
  // Bytes: the same with 16 KiB messages; the difference per byte and per send or receive.
  // Other load on the machine only adds CPU time (context switches above all): each is the
  // least of five runs.
  auto least_of_5 = [&](int n, int window, std::size_t bytes) {
    double best = 0;
    for (int i = 0; i < 5; ++i) {
      const double v = measure_echo(n / 5, window, bytes, details);
      best = i == 0 ? v : std::min(best, v);
    }
    details["echo_window_" + std::to_string(window) + "_bytes_" + std::to_string(bytes)]
           ["least_of_5_cpu_ns_per_round_trip"] = best;
    return best;
  };
  const double batched = least_of_5(trips, 64, 128);
  const double single = least_of_5(trips / 4, 1, 128);
  const double big = least_of_5(trips / 8, 64, 16384);
  p.transport_byte_ns = std::max(0.0, (big - batched) / 4 / (16384.0 - 128.0));
  p.transport_message_ns = std::max(0.0, batched / 4 - 128.0 * p.transport_byte_ns);
  p.wakeup_ns = std::max(0.0, (single - batched) / 2);

  // Disk.
  const std::filesystem::path dir =
      o.dir.empty() ? std::filesystem::temp_directory_path() : std::filesystem::path(o.dir);
  std::filesystem::create_directories(dir);
  std::fprintf(stderr, "calibrate: fsync timing in %s...\n", dir.c_str());
  const int n = o.quick ? 10 : 100;
  const auto [small_us, big_us] = time_fsync(dir, n);
  const double per_byte_us = std::max((big_us - small_us) / (65536.0 - 1024.0), 1e-6);
  p.fsync_us = std::max(small_us - 1024.0 * per_byte_us, 1.0);
  p.disk_bandwidth_mb_s = std::min(1.0 / per_byte_us, 1e6);  // bytes per us = MB/s
  // The log's CPU per entry, two sizes: per entry and per byte.
  {
    const int entries = o.quick ? 2000 : 50000;
    const double wal_small = measure_wal(dir, 16, entries, 16);
    const double wal_big = measure_wal(dir, 4096, entries, 16);
    p.log_byte_ns = std::max(0.0, (wal_big - wal_small) / (4096.0 - 16.0));
    p.log_append_ns = std::max(0.0, wal_small - 16.0 * p.log_byte_ns);
    details["wal"] = {{"cpu_ns_per_entry_16B", wal_small},
                      {"cpu_ns_per_entry_4KiB", wal_big},
                      {"batch", 16},
                      {"entries", entries}};
  }
  details["fsync"] = {{"dir", dir.string()},
                      {"median_us_1KiB", small_us},
                      {"median_us_64KiB", big_us},
                      {"samples", n}};

  // The node's own code, timed inside the simulator.
  std::fprintf(stderr, "calibrate: the node code in the simulator...\n");
  {
    if (global_log_level().empty()) log::configure("off");
    sim::SimConfig c;
    c.broadcast = "zab";
    c.nodes = 3;
    sim::apply_fault_mix(c, "none");
    c.snapshot_every_txns = 100000;
    c.workload.clients = 12;
    c.workload.max_outstanding = 20;
    c.throughput.enabled = true;
    c.throughput.read_pct = 50;
    c.throughput.value_bytes = o.value_size;
    c.throughput.warmup_ms = o.quick ? 20 : 200;
    c.throughput.measure_ms = o.quick ? 30 : 300;
    c.perf.enabled = true;
    c.perf.profile = p;
    c.perf.measure_host_cpu = true;
    sim::RunResult r = sim::run_simulation(c);
    if (!r.ok || !r.host_cpu) {
      throw std::runtime_error("the calibration simulation failed: " + r.property + ": " +
                               r.message);
    }
    const auto& f = *r.host_cpu;
    p.request_ns = f.request_ns;
    p.peer_handling_ns = f.peer_handling_ns;
    p.turn_ns = f.turn_ns;
    details["node_code"] = {{"turns", f.turns},
                            {"client_requests", f.client_requests},
                            {"peer_messages", f.peer_messages},
                            {"measured_ns", f.measured_ns},
                            {"modelled_ns_without_transport", f.modelled_ns},
                            {"request_ns", f.request_ns},
                            {"peer_handling_ns", f.peer_handling_ns},
                            {"turn_ns", f.turn_ns}};
  }

  // The load generator per operation: send a request and receive its reply, each through the
  // transport and the client library's encoding.
  // Its event thread wakes for a reply (once per operation when they come one by one).
  p.client_op_ns = 2 * p.transport_message_ns + 2 * p.client_message_ns +
                   (p.client_byte_ns + p.transport_byte_ns) * static_cast<double>(o.value_size) +
                   p.wakeup_ns;

  nlohmann::json costs = nlohmann::json::object();
  for (const auto& [k, v] : p.items())
    costs[k] = v;
  nlohmann::json out = {
      {"quorumlab_perf_profile", 1},
      {"costs", costs},
      {"measured", details},
      {"machine", {{"cores", std::thread::hardware_concurrency()}}},
      {"git_revision", sim::git_revision()},
      {"notes",
       "cores/host_cores, link_* and tick_ns are defaults, not measured; set them by hand for "
       "the machine being modelled"}};
  std::ofstream f(o.out);
  if (!f) throw std::runtime_error("cannot write " + o.out);
  f << out.dump(2) << "\n";
  std::printf("wrote %s\n", o.out.c_str());
  for (const auto& [k, v] : p.items())
    std::printf("  %-30s %.4g\n", k.c_str(), v);
  return 0;
}

}  // namespace

void add_calibrate(CLI::App& app, Action& action) {
  auto o = std::make_shared<CalibrateOptions>();
  auto* cmd = app.add_subcommand(
      "calibrate",
      "measure the simulator's performance-model costs on this machine (micro-benchmarks of the "
      "code paths, ZeroMQ loopback, fsync) and write a profile for `qlab sim --perf-profile`");
  cmd->add_option("--out", o->out, "profile file to write (JSON)")->capture_default_str();
  cmd->add_option("--dir", o->dir, "directory for the fsync test (default: the temp directory)");
  cmd->add_option("--value-size", o->value_size, "value bytes of the read benchmark")
      ->capture_default_str();
  cmd->add_flag("--quick", o->quick, "short measurements (a smoke test; noisy numbers)");
  cmd->callback([o, &action] { action = [o] { return run(*o); }; });
}

}  // namespace quorumlab::cli
