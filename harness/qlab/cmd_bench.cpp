// `qlab bench`: the ZooKeeper paper's throughput benchmark (Hunt et al., ATC 2010, §5.1) through
// the native client (or the ZooKeeper wire protocol). The load itself is the cluster library's
// run_bench (harness/cluster/bench.hpp), which the Python package's Cluster.bench runs too.
// Prints throughput and latency every second to stderr, a summary at the end, or with --json
// one JSON line on stdout.
#include <iomanip>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "../cluster/bench.hpp"
#include "commands.hpp"

namespace quorumlab::cli {

namespace {

using cluster::BenchPeriod;

struct BenchOptions : cluster::BenchOptions {
  bool json = false;
};

double us(std::uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

void print_interval(double t, const BenchPeriod& p, double seconds, bool warmup) {
  auto rate = [seconds](std::uint64_t n) { return static_cast<double>(n) / seconds; };
  std::uint64_t errors = 0;
  for (const auto& [k, v] : p.errors)
    errors += v;
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << "[" << std::setw(6) << t << "s] "
     << std::setprecision(0) << std::setw(8) << rate(p.reads + p.writes) << " ops/s (reads "
     << rate(p.reads) << "/s, writes " << rate(p.writes) << "/s)  latency us p50 "
     << us(p.latency_ns.percentile(50)) << " p99 " << us(p.latency_ns.percentile(99)) << " p99.9 "
     << us(p.latency_ns.percentile(99.9)) << "  errors " << errors << (warmup ? "  (warmup)" : "");
  std::cerr << os.str() << std::endl;
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
  if (j.contains("history")) {
    const auto& h = j["history"];
    std::cout << "  history: " << h["ops"] << " operations (" << h["writes_acknowledged"]
              << " acknowledged writes, " << h["unknown_outcome"] << " without a reply, "
              << h["final_reads"] << " final reads) in " << h["file"].get<std::string>()
              << "; check it with `qlab check " << h["file"].get<std::string>() << "`\n";
  }
}

int run_bench(const BenchOptions& o) {
  cluster::BenchOptions options = o;
  options.on_interval = print_interval;
  nlohmann::json j;
  try {
    j = cluster::run_bench(options);
  } catch (const std::exception& e) {
    std::cerr << "qlab bench: " << e.what() << "\n";
    return 1;
  }
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
  cmd->add_option("--interval", o->interval_s, "seconds per reporting interval (stderr lines)")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  cmd->add_flag("--timeline", o->timeline,
                "add `timeline` to the JSON: per interval t, ops_per_s, errors, warmup");
  cmd->add_option("--history", o->history_file,
                  "record every operation to FILE for `qlab check` (native protocol; keys start "
                  "from absent, values are unique, the run ends with a final read of every key)");
  cmd->add_option("--rate", o->rate, "operations per second over all sessions (0: unlimited)")
      ->check(CLI::Range(0.0, 1e7))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "print one JSON line on stdout");
  cmd->callback([&action, o] { action = [o] { return run_bench(*o); }; });
}

}  // namespace quorumlab::cli
