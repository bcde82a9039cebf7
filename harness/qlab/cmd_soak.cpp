// `qlab soak`: Jepsen's method on a local cluster in one command. It starts a cluster, runs a
// workload that records its history (`qlab bench --history`), runs the nemesis over it, heals,
// lets the cluster settle, then checks the history (`qlab check`, against what the read policy
// promises) and that every replica reached the same state (the tree digest at the same
// zxid). One verdict line at the end; the folder (history, nemesis events, server logs, data)
// is kept when the verdict is FAIL or with --keep.
//
// The durability run of issue 19 is `qlab soak --mix kill --rounds 100 --read-pct 0`: 100
// rounds of kill -9 of a node (the leader half of the time) under a write load with fsync on,
// then every acknowledged write must be in the final tree.
//
// Exit codes: 0 PASS, 1 FAIL, 2 bad options.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "../cluster/bench.hpp"
#include "../cluster/cluster.hpp"
#include "../cluster/nemesis.hpp"
#include "commands.hpp"
#include "quorumlab/plugin/loader.hpp"
#include "quorumlab/sim/checkers.hpp"
#include "quorumlab/sim/history_io.hpp"

namespace quorumlab::cli {

namespace {

using namespace std::chrono;
namespace cl = quorumlab::cluster;
namespace fs = std::filesystem;

struct SoakOptions {
  std::string dir;
  std::size_t nodes = 3;
  std::string broadcast = "zab";
  std::string storage = "wal";
  std::string read_policy = "local";
  std::vector<std::string> sets;
  double duration_s = 60;
  std::uint64_t seed = 1;
  std::string mix = "kill,pause,partition";
  std::string schedule;
  double interval_s = 5;
  int rounds = 0;
  double rate = 500;
  int sessions = 8;
  int keys = 20;
  int read_pct = 50;
  int value_bytes = 32;
  int session_timeout_ms = 10000;
  double settle_s = 60;
  std::string model = "auto";
  bool keep = false;
  bool json = false;
};

std::string hex(std::uint64_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << v;
  return os.str();
}

/// The check the read policy's declared guarantee calls for (ReadGuarantee): linearizable
/// reads, or ZooKeeper's guarantees with the bounded policy's staleness bound.
sim::HistoryCheckOptions check_options(const SoakOptions& o, std::string* model) {
  sim::HistoryCheckOptions c;
  const PluginLoader loader(PluginLoader::default_dir());
  const PluginInfo policy = loader.describe(PluginKind::read_policy, o.read_policy);
  if (o.model == "auto") {
    c.linearizable_reads = policy.read_guarantee == ReadGuarantee::linearizable ||
                           policy.read_guarantee == ReadGuarantee::linearizable_if_clocks_bounded;
  } else {
    c.linearizable_reads = o.model == "linearizable";
  }
  *model = c.linearizable_reads ? "linearizable" : "zookeeper";
  if (policy.read_guarantee == ReadGuarantee::bounded_staleness) {
    for (const auto& spec : policy.params) {
      if (spec.name != "max_staleness_ms") continue;
      if (auto* v = std::get_if<std::int64_t>(&spec.default_value)) c.staleness_bound_ms = *v;
    }
    const std::string prefix = "read_policy.max_staleness_ms=";
    for (const auto& s : o.sets) {
      if (s.compare(0, prefix.size(), prefix) == 0)
        c.staleness_bound_ms = std::stoll(s.substr(prefix.size()));
    }
    if (c.staleness_bound_ms)
      *model += " + staleness bound " + std::to_string(*c.staleness_bound_ms) + " ms";
  }
  return c;
}

/// Waits until every node answers and reports the same applied zxid; then "" when their
/// digests agree, else the disagreement. Throws std::runtime_error (with every node's
/// position) when they do not converge in `timeout`.
std::string converge(const cl::ClusterSpec& spec, milliseconds timeout, Zxid* zxid,
                     std::uint64_t* digest) {
  const auto deadline = steady_clock::now() + timeout;
  while (true) {
    const cl::ReplicaPositions p = cl::replica_positions(spec, milliseconds(1000));
    if (p.all_answered && p.same_zxid) {
      *zxid = p.zxid;
      *digest = p.digest;
      return p.same_digest ? "" : "replicas at zxid " + hex(p.zxid) + " differ:" + p.text;
    }
    if (steady_clock::now() > deadline) {
      throw std::runtime_error("the replicas did not converge within " +
                               std::to_string(timeout.count() / 1000) + " s:" + p.text);
    }
    std::this_thread::sleep_for(milliseconds(100));  // polling a real cluster's status
  }
}

int run_soak(SoakOptions o) {
  // Options first: a bad one costs nothing.
  std::vector<std::string> mix;
  std::vector<cl::ScheduledFault> schedule;
  try {
    mix = cl::parse_mix(o.mix);
    if (!o.schedule.empty()) schedule = cl::load_schedule(o.schedule);
  } catch (const std::invalid_argument& e) {
    std::cerr << "qlab soak: " << e.what() << "\n";
    return 2;
  }
  const auto& known = cl::nemesis_faults();
  if (o.rounds > 0) o.duration_s = o.rounds * o.interval_s;
  std::string model;
  sim::HistoryCheckOptions check;
  try {
    check = check_options(o, &model);
  } catch (const std::exception& e) {
    std::cerr << "qlab soak: " << e.what() << "\n";
    return 2;
  }
  if (o.dir.empty()) {
    o.dir =
        (fs::temp_directory_path() / ("qlab-soak-" + o.broadcast + "-" + o.read_policy + "-" +
                                      std::to_string(o.seed) + "-" + std::to_string(::getpid())))
            .string();
  }
  if (fs::exists(o.dir) && !fs::is_empty(o.dir)) {
    std::cerr << "qlab soak: " << o.dir << " is not empty (a soak starts a fresh cluster)\n";
    return 2;
  }
  fs::create_directories(o.dir);
  const std::string label = o.broadcast + "/" + o.read_policy + " seed " + std::to_string(o.seed);
  auto say = [&](const std::string& line) { std::cerr << "[soak] " << line << std::endl; };
  const auto t0 = steady_clock::now();

  cl::LaunchOptions l;
  l.dir = o.dir;
  l.qlab = boost::dll::program_location().string();
  l.voters = o.nodes;
  l.broadcast = o.broadcast;
  l.storage = o.storage;
  l.read_policy = o.read_policy;
  l.sets = o.sets;
  l.zk_ports = false;
  cl::ClusterSpec spec;
  try {
    spec = cl::launch(l, say);
  } catch (const std::exception& e) {
    std::cerr << "qlab soak: cannot start the cluster: " << e.what() << " (folder kept: " << o.dir
              << ")\n";
    return 1;
  }

  // The nemesis runs beside the workload and always heals at its end.
  std::vector<cl::NemesisEvent> events;
  std::string nemesis_error;
  cl::ClusterSpec nemesis_spec = spec;
  cl::NemesisOptions n;
  n.mix = mix;
  n.schedule = schedule;
  n.interval = milliseconds(static_cast<long>(o.interval_s * 1000));
  n.duration = milliseconds(static_cast<long>(o.duration_s * 1000));
  n.seed = o.seed;
  std::ofstream event_log(fs::path(o.dir) / "nemesis.log");
  std::thread nemesis;
  auto start_nemesis = [&] {
    nemesis = std::thread([&] {
      try {
        cl::run_nemesis(nemesis_spec, n, [&](const cl::NemesisEvent& e) {
          events.push_back(e);  // kept also when the nemesis stops on an error
          std::ostringstream line;
          line << "[" << std::fixed << std::setprecision(1) << e.t_s << "s] " << e.what << " "
               << e.detail;
          event_log << line.str() << std::endl;
          say("nemesis " + line.str());
        });
      } catch (const std::exception& e) {
        nemesis_error = e.what();
      }
    });
  };

  cl::BenchOptions b;
  b.connect = cl::connect_string(spec);
  b.sessions = o.sessions;
  b.outstanding = 1;
  b.read_pct = o.read_pct;
  b.value_bytes = o.value_bytes;
  b.keys = o.keys;
  b.duration_s = o.duration_s + 5;  // the load goes on for a while after the heal
  b.warmup_s = 0;
  b.seed = o.seed;
  b.timeout_ms = o.session_timeout_ms;
  b.rate = o.rate;
  b.interval_s = 10;
  b.root = "/soak";
  b.history_file = (fs::path(o.dir) / "history.jsonl").string();
  b.history_meta = {
      {"broadcast", o.broadcast}, {"read_policy", o.read_policy}, {"seed", o.seed}, {"mix", o.mix}};
  b.on_interval = [&](double t, const cl::BenchPeriod& p, double secs, bool) {
    std::uint64_t errors = 0;
    for (const auto& [k, v] : p.errors)
      errors += v;
    std::ostringstream line;
    line << "load [" << std::fixed << std::setprecision(0) << t << "s] "
         << static_cast<double>(p.reads + p.writes) / secs << " ops/s, " << errors << " errors";
    say(line.str());
  };
  std::string settle_error;
  b.on_load_start = start_nemesis;
  b.before_final_reads = [&] {
    if (nemesis.joinable()) nemesis.join();
    say("healed; waiting for a leader and for the replicas to converge");
    try {
      cl::wait_for_leader(nemesis_spec, milliseconds(static_cast<long>(o.settle_s * 1000)));
    } catch (const std::exception& e) {
      settle_error = e.what();
    }
  };
  nlohmann::json bench;
  std::string failure;
  try {
    bench = cl::run_bench(b);
  } catch (const std::exception& e) {
    failure = std::string("the workload failed: ") + e.what();
  }
  if (nemesis.joinable()) nemesis.join();
  if (failure.empty() && bench.contains("history") &&
      bench["history"]["final_reads"].get<int>() < o.keys) {
    failure = "final reads incomplete: " + bench["history"]["final_reads"].dump() + " of " +
              std::to_string(o.keys) + " keys read" +
              (bench["history"].contains("final_reads_error")
                   ? " (" + bench["history"]["final_reads_error"].get<std::string>() + ")"
                   : std::string());
  }
  if (failure.empty() && !nemesis_error.empty()) failure = "the nemesis failed: " + nemesis_error;
  if (failure.empty() && !settle_error.empty())
    failure = "no leader after the heal: " + settle_error;

  // The replicas: the same state at the same zxid.
  Zxid zxid = 0;
  std::uint64_t digest = 0;
  if (failure.empty()) {
    try {
      const std::string diff = converge(
          nemesis_spec, milliseconds(static_cast<long>(o.settle_s * 1000)), &zxid, &digest);
      if (!diff.empty()) failure = "replicas_agree: " + diff;
    } catch (const std::exception& e) {
      failure = std::string("replicas_agree: ") + e.what();
    }
  }

  // The history, held to the read policy's promise.
  sim::HistoryCheckResult r;
  std::size_t ops = 0;
  if (fs::exists(b.history_file)) {
    try {
      auto loaded = sim::read_history_file(b.history_file);
      ops = loaded.history.ops.size();
      r = sim::check_recorded_history(loaded.history, check);
      if (r.violation && failure.empty())
        failure = r.violation->property + ": " + r.violation->message;
    } catch (const std::exception& e) {
      if (failure.empty()) failure = std::string("the history cannot be read: ") + e.what();
    }
  }
  for (const auto& node : nemesis_spec.nodes) {
    try {
      cl::signal_node(nemesis_spec, node.id, SIGTERM);
    } catch (const std::exception& e) {
      say("stopping node " + std::to_string(node.id) + ": " + e.what());
    }
  }

  std::size_t faults = 0;
  for (const auto& e : events)
    faults += std::find(known.begin(), known.end(), e.what) != known.end() ? 1 : 0;
  const double secs = duration<double>(steady_clock::now() - t0).count();
  const bool pass = failure.empty();
  if (pass && !o.keep) fs::remove_all(o.dir);
  nlohmann::json j = {{"verdict", pass ? "PASS" : "FAIL"},
                      {"broadcast", o.broadcast},
                      {"read_policy", o.read_policy},
                      {"model", model},
                      {"seed", o.seed},
                      {"mix", o.mix},
                      {"seconds", secs},
                      {"operations", ops},
                      {"faults", faults},
                      {"writes_acknowledged", r.acknowledged_writes},
                      {"writes_lost", r.lost_writes},
                      {"stale_reads", r.stale.stale},
                      {"reads", r.stale.reads},
                      {"final_zxid", zxid},
                      {"final_digest", digest}};
  if (bench.contains("history")) {
    j["without_reply"] = bench["history"]["unknown_outcome"];
    j["sessions_replaced"] = bench["history"]["sessions_replaced"];
  }
  if (!pass) {
    j["failure"] = failure;
    j["dir"] = o.dir;
  }
  if (o.json) {
    std::cout << j.dump() << std::endl;
  } else {
    std::cout << "soak " << label << ": " << (pass ? "PASS" : "FAIL") << " " << ops
              << " operations (" << r.acknowledged_writes << " writes acknowledged, "
              << r.lost_writes << " lost; " << r.stale.stale << " of " << r.stale.reads
              << " reads stale), " << faults << " faults, checked as " << model;
    if (pass) {
      std::cout << ", replicas agree at zxid " << hex(zxid) << " (digest " << hex(digest) << ")";
    }
    std::cout << ", " << std::fixed << std::setprecision(0) << secs << " s";
    if (!pass) std::cout << "\n  " << failure << "\n  folder kept: " << o.dir;
    std::cout << std::endl;
  }
  return pass ? 0 : 1;
}

}  // namespace

void add_soak(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "soak", "start a cluster, load it with a recorded history under the nemesis, check it");
  cmd->footer(
      "Starts a fresh local cluster in DIR, runs a workload that records every operation while\n"
      "the nemesis applies faults, heals, waits for a leader and for every replica to reach the\n"
      "same zxid, reads every key once more, then checks the history against the read policy's\n"
      "promise (linearizable for read-index and lease, ZooKeeper's guarantees otherwise, plus\n"
      "the bound of `bounded`) and the replicas' digests. Prints one verdict line; keeps DIR\n"
      "(history.jsonl, nemesis.log, the servers' logs and data) on FAIL or with --keep.\n"
      "Durability: qlab soak --mix kill --rounds 100 --read-pct 0 (kill -9 with fsync on).\n"
      "Exit 0 PASS, 1 FAIL, 2 bad options.");
  auto o = std::make_shared<SoakOptions>();
  cmd->add_option("--dir", o->dir, "an empty folder for the cluster (default: a new temp folder)");
  cmd->add_option("--nodes", o->nodes, "voting members")
      ->check(CLI::Range(1, 15))
      ->capture_default_str();
  cmd->add_option("--broadcast", o->broadcast, "broadcast plugin")->capture_default_str();
  cmd->add_option("--storage", o->storage, "storage plugin")->capture_default_str();
  cmd->add_option("--read-policy", o->read_policy, "read-policy plugin")->capture_default_str();
  cmd->add_option("--set", o->sets,
                  "KEY=VALUE server setting, e.g. read_policy.max_staleness_ms=50");
  cmd->add_option("--duration", o->duration_s, "seconds of faults (the load runs 5 s longer)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the nemesis and the workload")->capture_default_str();
  cmd->add_option("--mix", o->mix, "faults, comma-separated (see qlab nemesis)")
      ->capture_default_str();
  cmd->add_option("--schedule", o->schedule,
                  "a nemesis schedule (TOML [[fault]] tables, see qlab nemesis) instead of --mix")
      ->check(CLI::ExistingFile);
  cmd->add_option("--interval", o->interval_s, "seconds between fault starts (each lasts half)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--rounds", o->rounds, "run this many faults (sets the duration)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--rate", o->rate, "operations per second over all sessions")
      ->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  cmd->add_option("--sessions", o->sessions, "client sessions, one request in flight each")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--keys", o->keys, "znodes the workload reads and writes")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--read-pct", o->read_pct, "percentage of reads")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  cmd->add_option("--value-bytes", o->value_bytes, "bytes per value")
      ->check(CLI::Range(0, 1024 * 1024))
      ->capture_default_str();
  cmd->add_option("--session-timeout-ms", o->session_timeout_ms, "the clients' session timeout")
      ->check(CLI::Range(1000, 600000))
      ->capture_default_str();
  cmd->add_option("--settle", o->settle_s,
                  "seconds allowed for a leader and convergence after the heal")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--model", o->model, "auto (from the read policy), zookeeper or linearizable")
      ->check(CLI::IsMember({"auto", "zookeeper", "linearizable"}))
      ->capture_default_str();
  cmd->add_flag("--keep", o->keep, "keep the folder when the verdict is PASS too");
  cmd->add_flag("--json", o->json, "one JSON object instead of the verdict line");
  cmd->callback([&action, o] { action = [o] { return run_soak(*o); }; });
}

}  // namespace quorumlab::cli
