// `qlab sim`: runs the deterministic simulator for one seed or a range of seeds.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <iostream>

#include <filesystem>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "quorumlab/config.hpp"
#include "quorumlab/log.hpp"
#include "quorumlab/plugin/loader.hpp"
#include "quorumlab/sim/simulator.hpp"

namespace quorumlab::cli {

namespace {

struct SimOptions {
  sim::SimConfig config;
  std::uint64_t seed = 1;
  std::uint64_t seeds = 1;
  std::string faults = "all";
  int nodes = 0;  // 0: 1 for solo, 3 otherwise
  std::vector<std::string> broadcast_params;
  std::vector<std::string> read_policy_params;
  bool keep_going = false;
  bool json = false;
  bool verbose = false;
  std::vector<std::string> skip_checks;
  std::string peer_delay_us;
  std::string fsync_delay_us;
  // The performance model and the throughput workload.
  bool perf_model = false;
  std::string perf_profile;
  std::vector<std::string> perf;
  std::string workload = "check";
  std::optional<int> keys;
};

/// "MIN,MEAN,MAX" in microseconds.
sim::DelayDist parse_delay(const std::string& text, const char* flag) {
  sim::DelayDist d;
  char tail = 0;
  long long a = 0, b = 0, c = 0;
  if (std::sscanf(text.c_str(), "%lld,%lld,%lld%c", &a, &b, &c, &tail) != 3 || a < 0 || b < a ||
      c < b) {
    throw std::invalid_argument(std::string(flag) +
                                " wants MIN,MEAN,MAX microseconds with MIN <= "
                                "MEAN <= MAX, got '" +
                                text + "'");
  }
  d.min_us = a;
  d.mean_us = b;
  d.max_us = c;
  return d;
}

/// What a scenario's trials add up to over the seeds.
struct ScenarioTotals {
  std::vector<double> elected_ms, serving_ms;
  std::uint64_t terms_sum = 0;
  std::uint64_t trials = 0, censored = 0;
  // disruptive
  double window_ms = 0, unavailable_ms = 0, max_gap_ms = 0;
  double baseline_window_ms = 0, baseline_unavailable_ms = 0;
  std::uint64_t terms_gained = 0, leader_changes = 0, writes = 0, baseline_writes = 0;
  std::uint64_t baseline_leader_changes = 0;

  void add(const sim::ScenarioResult& r) {
    elected_ms.insert(elected_ms.end(), r.elected_ms.begin(), r.elected_ms.end());
    serving_ms.insert(serving_ms.end(), r.serving_ms.begin(), r.serving_ms.end());
    for (auto t : r.terms)
      terms_sum += t;
    trials += static_cast<std::uint64_t>(r.trials);
    censored += static_cast<std::uint64_t>(r.censored);
    window_ms += r.window_ms;
    unavailable_ms += r.unavailable_ms;
    max_gap_ms = std::max(max_gap_ms, r.max_gap_ms);
    terms_gained += r.terms_gained;
    leader_changes += r.leader_changes;
    writes += r.writes;
  }
  void add_baseline(const sim::ScenarioResult& r) {
    baseline_window_ms += r.window_ms;
    baseline_unavailable_ms += r.unavailable_ms;
    baseline_writes += r.writes;
    baseline_leader_changes += r.leader_changes;
  }
};

double mean_of(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v)
    sum += x;
  return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
}

/// The scenario's figures as flat JSON keys (the experiment runner's columns).
void scenario_json(nlohmann::json& j, const std::string& name, const ScenarioTotals& t) {
  j["scenario"] = name;
  j["trials"] = t.trials;
  if (name == "leader-crash") {
    j["censored"] = t.censored;
    j["election_ms_median"] = sim::percentile(t.elected_ms, 50);
    j["election_ms_mean"] = mean_of(t.elected_ms);
    j["election_ms_p90"] = sim::percentile(t.elected_ms, 90);
    j["election_ms_p99"] = sim::percentile(t.elected_ms, 99);
    j["election_ms_min"] = sim::percentile(t.elected_ms, 0);
    j["election_ms_max"] = sim::percentile(t.elected_ms, 100);
    j["serving_ms_median"] = sim::percentile(t.serving_ms, 50);
    j["serving_ms_mean"] = mean_of(t.serving_ms);
    j["terms_per_trial"] = t.elected_ms.empty() ? 0.0
                                                : static_cast<double>(t.terms_sum) /
                                                      static_cast<double>(t.elected_ms.size());
    j["election_ms_trials"] = t.elected_ms;  // per trial, in order: the CDF
    return;
  }
  const auto per_s = [](double n, double ms) { return ms > 0 ? n * 1000.0 / ms : 0.0; };
  const double rounds = std::max<double>(1.0, static_cast<double>(t.trials));
  j["terms_gained"] = t.terms_gained;
  j["terms_per_round"] = static_cast<double>(t.terms_gained) / rounds;
  j["leader_changes"] = t.leader_changes;
  j["leader_changes_per_round"] = static_cast<double>(t.leader_changes) / rounds;
  j["writes"] = t.writes;
  j["throughput_wps"] = per_s(static_cast<double>(t.writes), t.window_ms);
  j["unavailable_ms"] = t.unavailable_ms;
  j["unavailable_ms_per_round"] = t.unavailable_ms / rounds;
  j["max_gap_ms"] = t.max_gap_ms;
  j["baseline_writes"] = t.baseline_writes;
  j["baseline_throughput_wps"] =
      per_s(static_cast<double>(t.baseline_writes), t.baseline_window_ms);
  j["baseline_unavailable_ms"] = t.baseline_unavailable_ms;
  j["baseline_leader_changes"] = t.baseline_leader_changes;
  const double base = per_s(static_cast<double>(t.baseline_writes), t.baseline_window_ms);
  j["throughput_lost"] =
      base > 0 ? 1.0 - per_s(static_cast<double>(t.writes), t.window_ms) / base : 0.0;
}

/// The performance model's settings: --perf-model, --perf-profile FILE, --perf KEY=VALUE (each
/// turns the model on; later settings win).
void apply_perf(SimOptions& o, sim::SimConfig& c) {
  if (!o.perf_model && o.perf_profile.empty() && o.perf.empty()) return;
  c.perf.enabled = true;
  if (!o.perf_profile.empty()) c.perf.profile.load_file(o.perf_profile);
  for (const auto& kv : o.perf) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw std::invalid_argument("--perf wants KEY=VALUE, got '" + kv + "'");
    }
    c.perf.profile.set(kv.substr(0, eq), kv.substr(eq + 1));
  }
}

void apply_workload(SimOptions& o, sim::SimConfig& c) {
  if (o.workload == "bench") {
    c.throughput.enabled = true;
    if (o.keys) c.throughput.keys = *o.keys;
    // A real server's snapshot interval (the checking workload snapshots every 100 txns).
    c.snapshot_every_txns = 100000;
    const auto& t = c.throughput;
    auto range = [](const char* name, std::int64_t v, std::int64_t lo, std::int64_t hi) {
      if (v < lo || v > hi) {
        throw std::invalid_argument(std::string(name) + " must be in " + std::to_string(lo) + ".." +
                                    std::to_string(hi) + ", got " + std::to_string(v));
      }
    };
    range("--read-pct", t.read_pct, 0, 100);
    range("--value-size", t.value_bytes, 0, 1024 * 1024);
    range("--keys", t.keys, 1, 10000000);
    range("--warmup-ms", t.warmup_ms, 0, 3600000);
    range("--measure-ms", t.measure_ms, 1, 3600000);
    range("--outstanding", c.workload.max_outstanding, 1, 100000);
  } else if (o.workload == "check") {
    if (o.keys) c.workload.keys = *o.keys;
  } else {
    throw std::invalid_argument("--workload must be check or bench, got '" + o.workload + "'");
  }
}

int run(SimOptions& o) {
  if (global_log_level().empty()) log::configure("off");  // replicas' logs drown the report
  sim::SimConfig base = o.config;
  base.nodes = o.nodes > 0 ? o.nodes : (base.broadcast == "solo" ? 1 : 3);
  sim::apply_fault_mix(base, o.faults);
  apply_workload(o, base);
  apply_perf(o, base);
  for (const auto& p : o.skip_checks)
    base.disabled_checks.insert(p);
  auto key_values = [](const std::vector<std::string>& kvs, const char* flag,
                       std::map<std::string, std::string>& out) {
    for (const auto& kv : kvs) {
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw std::invalid_argument(std::string(flag) + " wants KEY=VALUE, got '" + kv + "'");
      }
      out[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  };
  key_values(o.broadcast_params, "--broadcast-param", base.broadcast_params);
  key_values(o.read_policy_params, "--read-policy-param", base.read_policy_params);
  if (!o.peer_delay_us.empty())
    base.network.peer_delay = parse_delay(o.peer_delay_us, "--peer-delay-us");
  if (!o.fsync_delay_us.empty())
    base.disk.fsync_delay = parse_delay(o.fsync_delay_us, "--fsync-delay-us");
  if (base.tick_ms < 1) throw std::invalid_argument("--tick-ms must be at least 1");
  const std::string& scenario = base.scenario.name;
  ScenarioTotals totals;
  // A refused plugin pair fails here with one line, before any seed runs.
  require_supported_pair(
      PluginLoader(base.plugin_dir.empty() ? PluginLoader::default_dir()
                                           : std::filesystem::path(base.plugin_dir)),
      PluginChoice{base.broadcast, {}, base.broadcast_params}, base.read_policy);

  const auto start = std::chrono::steady_clock::now();
  auto elapsed_s = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  // The read policy's declaration, and its parameters checked before any seed runs.
  const PluginLoader loader(base.plugin_dir.empty() ? PluginLoader::default_dir()
                                                    : std::filesystem::path(base.plugin_dir));
  const PluginInfo policy = loader.describe(PluginKind::read_policy, base.read_policy);
  PluginChoice{base.read_policy, {}, base.read_policy_params}.resolve(
      "read policy '" + policy.name + "'", policy.params);
  sim::StaleReadStats stale;
  std::uint64_t passed = 0, failed = 0, ops = 0, faults = 0, events = 0, lin_unknown = 0;
  std::uint64_t order_anomalies = 0, peer_messages = 0, peer_bytes = 0;
  std::map<std::string, std::uint64_t> counters, violations;
  std::optional<std::int64_t> bound_ms;
  std::vector<std::uint64_t> failed_seeds;
  std::vector<std::string> digests;  // per seed, in seed order: what a replay must reproduce
  sim::ThroughputResult tput;        // sums over the seeds, averaged below
  std::vector<double> cpu_util;
  const std::uint64_t report_every = std::max<std::uint64_t>(1, o.seeds / 20);
  int exit_code = 0;
  for (std::uint64_t i = 0; i < o.seeds; ++i) {
    sim::SimConfig cfg = base;
    cfg.seed = o.seed + i;
    sim::RunResult r = sim::run_simulation(cfg);
    char digest[17];
    std::snprintf(digest, sizeof digest, "%016" PRIx64, r.trace_digest);
    digests.emplace_back(digest);
    if (!scenario.empty()) {
      totals.add(r.scenario);
      if (scenario == "disruptive" && r.ok) {  // the same seed without the partitions
        sim::SimConfig b = cfg;
        b.scenario.baseline = true;
        sim::RunResult rb = sim::run_simulation(b);
        totals.add_baseline(rb.scenario);
        if (!rb.ok) r = std::move(rb);  // a failing baseline is a failure of this seed
      }
    }
    ops += r.ops;
    faults += r.faults;
    events += r.events;
    lin_unknown += r.linearizability.keys_unknown;
    order_anomalies += r.session_order_anomalies;
    stale.merge(r.stale);
    peer_messages += r.peer_messages;
    peer_bytes += r.peer_bytes;
    for (const auto& [k, v] : r.read_counters)
      counters[k] += v;
    if (r.staleness_bound_ms) bound_ms = r.staleness_bound_ms;
    if (r.throughput) {
      const auto& t = *r.throughput;
      tput.seconds += t.seconds;
      tput.reads += t.reads;
      tput.writes += t.writes;
      tput.errors += t.errors;
      tput.ops_per_s += t.ops_per_s;
      tput.reads_per_s += t.reads_per_s;
      tput.writes_per_s += t.writes_per_s;
      tput.latency_ms_p50 += t.latency_ms_p50;
      tput.latency_ms_p90 += t.latency_ms_p90;
      tput.latency_ms_p99 += t.latency_ms_p99;
      tput.latency_ms_mean += t.latency_ms_mean;
      cpu_util.resize(t.cpu_utilization.size());
      for (std::size_t k = 0; k < t.cpu_utilization.size(); ++k)
        cpu_util[k] += t.cpu_utilization[k];
    }
    if (r.throughput && (o.seeds == 1 || o.verbose) && !o.json) {
      const auto& t = *r.throughput;
      std::printf("seed %" PRIu64
                  ": %.0f ops/s (%.0f reads/s, %.0f writes/s), latency p50 %.3f ms, "
                  "p99 %.3f ms, %" PRIu64 " errors\n",
                  r.seed, t.ops_per_s, t.reads_per_s, t.writes_per_s, t.latency_ms_p50,
                  t.latency_ms_p99, t.errors);
      if (!t.cpu_utilization.empty()) {
        std::printf("  CPU busy:");
        for (std::size_t k = 0; k < t.cpu_utilization.size(); ++k)
          std::printf(" node %zu %.0f%%", k + 1, 100 * t.cpu_utilization[k]);
        std::printf("\n");
      }
    }
    if (!r.ok) {
      ++violations[r.property];
      if (failed_seeds.size() < 20) failed_seeds.push_back(r.seed);
    }
    const bool detail = (o.seeds == 1 || o.verbose) && !o.json;
    if (detail) {
      std::printf("seed %" PRIu64 ": %s, trace digest %016" PRIx64 ", %" PRIu64
                  " events, %.3f s simulated, %" PRIu64 " ops (%" PRIu64 " ok, %" PRIu64
                  " without reply), %" PRIu64 " faults, %" PRIu64 " crashes, %" PRIu64
                  " leaders, final zxid %#" PRIx64 "%s\n",
                  r.seed, r.ok ? "ok" : "FAILED", r.trace_digest, r.events,
                  static_cast<double>(r.sim_time_us) / 1e6, r.ops, r.ops_ok, r.ops_no_reply,
                  r.faults, r.crashes, r.leaders, r.final_zxid,
                  r.linearizability.keys_unknown ? ", linearizability undecided" : "");
    }
    if (detail && !r.session_order_example.empty()) {
      std::printf("  FIFO execution order: %s\n", r.session_order_example.c_str());
    }
    if (r.ok) {
      ++passed;
    } else {
      ++failed;
      exit_code = 1;
      std::fflush(stdout);
      if (!o.json || !o.keep_going) std::cerr << sim::format_failure(cfg, r) << std::flush;
      if (!o.keep_going) break;
    }
    if (o.seeds > 1 && ((i + 1) % report_every == 0 || i + 1 == o.seeds)) {
      std::fprintf(stderr, "  %" PRIu64 "/%" PRIu64 " seeds, %" PRIu64 " failed, %.1f seeds/s\n",
                   i + 1, o.seeds, failed, static_cast<double>(i + 1) / elapsed_s());
    }
  }
  const double secs = elapsed_s();
  const std::uint64_t ran = passed + failed;
  const auto per = [](std::uint64_t n, std::uint64_t d) {
    return d ? static_cast<double>(n) / static_cast<double>(d) : 0.0;
  };
  // Per read the policy served (started, whether or not the client saw the answer); barriers
  // without the clients' own syncs.
  const std::uint64_t reads_started = counters["reads_local"] + counters["reads_sync"] +
                                      counters["reads_leader"] + counters["reads_read_index"] +
                                      counters["reads_lease"];
  const std::uint64_t barriers = counters["barriers"] - counters["syncs"];
  if (o.json) {
    nlohmann::json j;
    j["broadcast"] = base.broadcast;
    j["broadcast_params"] = base.broadcast_params;
    j["read_policy"] = base.read_policy;
    j["read_policy_params"] = base.read_policy_params;
    j["guarantee"] = to_string(policy.read_guarantee);
    if (bound_ms) j["staleness_bound_ms"] = *bound_ms;
    j["nodes"] = base.nodes;
    j["observers"] = base.observers;
    j["faults"] = o.faults;
    j["first_seed"] = o.seed;
    j["seeds"] = ran;
    j["passed"] = passed;
    j["failed"] = failed;
    j["violations"] = violations;
    j["failed_seeds"] = failed_seeds;
    j["linearizability_violations"] =
        violations.count("linearizable") ? violations["linearizable"] : 0;
    j["ops"] = ops;
    j["reads"] = stale.reads;
    j["stale_reads"] = stale.stale;
    j["stale_rate"] = per(stale.stale, stale.reads);
    j["staleness_versions"] = {{"mean", per(stale.versions_sum, stale.stale)},
                               {"p99", sim::percentile(stale.versions_samples, 99)},
                               {"max", stale.versions_max}};
    j["staleness_ms"] = {
        {"mean",
         stale.stale ? static_cast<double>(stale.ms_sum) / static_cast<double>(stale.stale) : 0.0},
        {"p99", sim::percentile(stale.ms_samples, 99)},
        {"max", stale.ms_max}};
    double lat_sum = 0;
    for (auto v : stale.latency_us)
      lat_sum += static_cast<double>(v);
    j["read_latency_ms"] = {
        {"mean", stale.latency_us.empty()
                     ? 0.0
                     : lat_sum / static_cast<double>(stale.latency_us.size()) / 1000.0},
        {"p99", static_cast<double>(sim::percentile(stale.latency_us, 99)) / 1000.0}};
    j["reads_over_bound"] = stale.over_bound;
    j["read_counters"] = counters;
    j["barriers_per_read"] = per(barriers, reads_started);
    j["read_rounds_per_read"] = per(counters["read_rounds"], reads_started);
    j["barrier_wait_ms_mean"] = per(counters["barrier_wait_ms"], counters["barriers"]);
    j["peer_messages"] = peer_messages;
    j["peer_bytes"] = peer_bytes;
    j["peer_messages_per_op"] = per(peer_messages, ops);
    j["peer_bytes_per_op"] = per(peer_bytes, ops);
    j["fifo_execution_order_anomalies"] = order_anomalies;
    j["linearizability_keys_undecided"] = lin_unknown;
    if (!scenario.empty()) scenario_json(j, scenario, totals);
    j["seconds"] = secs;
    j["trace_digests"] = digests;
    j["git_revision"] = sim::git_revision();
    j["workload"] = o.workload;
    j["perf_model"] = base.perf.enabled;
    if (base.perf.enabled) {
      nlohmann::json p = nlohmann::json::object();
      for (const auto& [k, v] : base.perf.profile.items())
        p[k] = v;
      j["perf"] = p;
    }
    if (base.throughput.enabled && ran > 0) {
      const double n = static_cast<double>(ran);
      j["sessions"] = base.workload.clients;
      j["outstanding"] = base.workload.max_outstanding;
      j["read_pct"] = base.throughput.read_pct;
      j["value_bytes"] = base.throughput.value_bytes;
      j["keys"] = base.throughput.keys;
      j["warmup_ms"] = base.throughput.warmup_ms;
      j["measure_ms"] = base.throughput.measure_ms;
      j["throughput_ops_s"] = tput.ops_per_s / n;
      j["reads_per_s"] = tput.reads_per_s / n;
      j["writes_per_s"] = tput.writes_per_s / n;
      j["op_errors"] = tput.errors;
      j["latency_ms"] = {{"p50", tput.latency_ms_p50 / n},
                         {"p90", tput.latency_ms_p90 / n},
                         {"p99", tput.latency_ms_p99 / n},
                         {"mean", tput.latency_ms_mean / n}};
      j["latency_ms_p50"] = tput.latency_ms_p50 / n;  // flat too, for tables
      j["latency_ms_p99"] = tput.latency_ms_p99 / n;
      for (auto& u : cpu_util)
        u /= n;
      j["cpu_utilization"] = cpu_util;
      j["cpu_utilization_max"] =
          cpu_util.empty() ? 0.0 : *std::max_element(cpu_util.begin(), cpu_util.end());
    }
    std::cout << j.dump() << std::endl;
    return exit_code;
  }
  std::printf("%s %s, %d node(s) + %d observer(s), read policy %s, faults %s: %" PRIu64
              " of %" PRIu64 " seeds passed (%" PRIu64 "..%" PRIu64 ") in %.1f s, %.2f seeds/s\n",
              failed ? "FAILED" : "ok", base.broadcast.c_str(), base.nodes, base.observers,
              base.read_policy.c_str(), o.faults.c_str(), passed, ran, o.seed, o.seed + ran - 1,
              secs, secs > 0 ? static_cast<double>(ran) / secs : 0.0);
  std::printf("  %" PRIu64 " ops, %" PRIu64 " faults, %" PRIu64 " events; linearizability: %" PRIu64
              " keys undecided (search budget)\n",
              ops, faults, events, lin_unknown);
  std::printf("  stale reads: %s\n", stale.to_string().c_str());
  if (bound_ms) {
    std::printf("  reads staler than the policy's bound (%" PRId64 " ms): %" PRIu64 "\n", *bound_ms,
                stale.over_bound);
  }
  std::printf(
      "  read path: %.3f barriers per read (%.1f ms mean wait), %.3f quorum rounds per "
      "read, lease hits %" PRIu64 " misses %" PRIu64
      "; %.1f peer messages, %.0f bytes "
      "per op\n",
      per(barriers, reads_started), per(counters["barrier_wait_ms"], counters["barriers"]),
      per(counters["read_rounds"], reads_started), counters["lease_hits"], counters["lease_misses"],
      per(peer_messages, ops), per(peer_bytes, ops));
  std::printf(
      "  reads executed after a later write of their session (FIFO execution order): %" PRIu64 "\n",
      order_anomalies);
  if (!scenario.empty()) {
    nlohmann::json j;
    scenario_json(j, scenario, totals);
    j.erase("election_ms_trials");
    std::printf("  scenario %s: %s\n", scenario.c_str(), j.dump().c_str());
  }
  std::printf("  git revision %s\n", sim::git_revision());
  return exit_code;
}

}  // namespace

void add_sim(CLI::App& app, Action& action) {
  auto o = std::make_shared<SimOptions>();
  auto* cmd = app.add_subcommand(
      "sim",
      "run the deterministic simulator: replicas, clients, faults and checkers, one seed each");
  cmd->add_option("--broadcast", o->config.broadcast, "broadcast plugin (solo, zab, ...)")
      ->capture_default_str();
  cmd->add_option("--nodes", o->nodes, "voting replicas (default 1 for solo, otherwise 3)");
  cmd->add_option("--observers", o->config.observers, "non-voting replicas")->capture_default_str();
  cmd->add_option("--read-policy", o->config.read_policy,
                  "read-policy plugin (local, sync, read-index, ...)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "first seed")->capture_default_str();
  cmd->add_option("--seeds", o->seeds, "number of seeds to run (seed .. seed+N-1)")
      ->capture_default_str();
  cmd->add_option("--faults", o->faults,
                  "fault mix: none, network, crash, all, or a comma list of loss, partition, "
                  "client, crash, disk, pause, clock")
      ->capture_default_str();
  cmd->add_option("--duration-ms", o->config.duration_ms, "simulated length of the safety phase")
      ->capture_default_str();
  cmd->add_option("--steps", o->config.max_steps,
                  "end the safety phase after this many events (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--liveness-timeout-ms", o->config.liveness_timeout_ms,
                  "after healing, time allowed for progress and convergence")
      ->capture_default_str();
  cmd->add_option("--clients", o->config.workload.clients, "simulated client sessions")
      ->capture_default_str();
  cmd->add_option("--keys", o->keys,
                  "znodes the workload uses (default 4; 1000 for --workload bench)");
  cmd->add_option("--workload", o->workload,
                  "check: the checking workload (random ops, faults, checkers); bench: the "
                  "throughput workload of `qlab bench` (getData/setData, closed loop, measured "
                  "after a warm-up; no faults, no history checks)")
      ->capture_default_str();
  cmd->add_option("--sessions", o->config.workload.clients, "same as --clients");
  cmd->add_option("--outstanding", o->config.workload.max_outstanding,
                  "requests in flight per session")
      ->capture_default_str();
  cmd->add_option("--read-pct", o->config.throughput.read_pct,
                  "bench: percentage of getData (the rest setData)")
      ->capture_default_str();
  cmd->add_option("--value-size", o->config.throughput.value_bytes, "bench: setData value bytes")
      ->capture_default_str();
  cmd->add_option("--warmup-ms", o->config.throughput.warmup_ms,
                  "bench: simulated warm-up before the measured window")
      ->capture_default_str();
  cmd->add_option("--measure-ms", o->config.throughput.measure_ms,
                  "bench: simulated length of the measured window")
      ->capture_default_str();
  cmd->add_flag("--perf-model", o->perf_model,
                "turn the performance model on (CPU costs, link latency and bandwidth, fsync "
                "time; default costs unless --perf-profile/--perf set them)");
  cmd->add_option("--perf-profile", o->perf_profile,
                  "performance-model costs from FILE (written by `qlab calibrate`); turns the "
                  "model on");
  std::string keys_help =
      "performance-model cost KEY=VALUE (repeatable; turns the model on). Keys:";
  for (const auto& [k, h] : sim::perf_profile_keys())
    keys_help += " " + k;
  cmd->add_option("--perf", o->perf, keys_help);
  cmd->add_option("--session-timeout-ms", o->config.workload.session_timeout_ms,
                  "session timeout the clients ask for (short: partitions outlast sessions)")
      ->capture_default_str();
  cmd->add_option("--broadcast-param", o->broadcast_params,
                  "broadcast plugin parameter KEY=VALUE (repeatable)");
  cmd->add_option("--read-policy-param", o->read_policy_params,
                  "read policy parameter KEY=VALUE (repeatable), e.g. max_staleness_ms=50");
  cmd->add_flag(
      "--json", o->json,
      "print the report as one JSON object (stale reads, staleness, violations by "
      "property, read costs, the trace digest of every seed); with --keep-going failures are only "
      "counted");
  cmd->add_flag("--check-linearizable-reads", o->config.check_reads_linearizable,
                "hold every read to linearizability whatever the policy declares (finds the "
                "anomalies a weaker policy allows)");
  cmd->add_option("--check-staleness-bound-ms", o->config.check_staleness_bound_ms,
                  "hold every read to this staleness bound whatever the policy declares");
  cmd->add_option("--plugin-dir", o->config.plugin_dir, "plugin directory (default: next to qlab)");
  cmd->add_option("--trace", o->config.trace_file,
                  "write the whole trace of the run to FILE (with --seeds: the last seed run)");
  cmd->add_flag("--keep-going", o->keep_going, "run every seed even after a failure");
  cmd->add_flag("-v,--verbose", o->verbose, "one line per seed (trace digest, counts)");
  cmd->add_option("--skip-check", o->skip_checks,
                  "do not check this property (repeatable; for known open bugs only)");
  cmd->add_flag(
      "--mangle-kernel-envelopes",
      [o](std::int64_t) { o->config.network.kernel_envelopes_fifo = false; },
      "let loss/duplication/reordering hit the kernel's own peer envelopes too (forwarded "
      "txns, session touches), which the real transport never duplicates or reorders");
  cmd->add_option("--tick-ms", o->config.tick_ms,
                  "length of a replica's tick (plugins count time in ticks): 1 gives "
                  "millisecond timeouts")
      ->capture_default_str();
  cmd->add_option("--tick-jitter-us", o->config.clock.tick_jitter_us,
                  "each tick comes up to this many microseconds early or late (a random walk), "
                  "and replicas start at random points of a tick")
      ->capture_default_str();
  cmd->add_option("--peer-delay-us", o->peer_delay_us,
                  "replica-to-replica message delay MIN,MEAN,MAX in microseconds (min plus an "
                  "exponential, capped; default 100,800,20000)");
  cmd->add_option("--fsync-delay-us", o->fsync_delay_us,
                  "fsync delay MIN,MEAN,MAX in microseconds (default 200,1500,15000)");
  cmd->add_option("--scenario", o->config.scenario.name,
                  "a measurement scenario instead of random faults: leader-crash (Raft "
                  "Figure 16: crash the leader, time the election, repeat) or disruptive (a "
                  "follower partitioned away and healed, repeated; against a no-fault baseline)");
  cmd->add_option("--trials", o->config.scenario.trials,
                  "scenario: leader crashes (leader-crash) or partition rounds (disruptive) per "
                  "seed")
      ->capture_default_str();
  cmd->add_option("--settle-ms", o->config.scenario.settle_ms,
                  "leader-crash: quiet time after the cluster settled, before the crash window")
      ->capture_default_str();
  cmd->add_option("--crash-window-ms", o->config.scenario.crash_window_ms,
                  "leader-crash: the crash falls uniformly within this window (0: the raft "
                  "heartbeat interval, or 10 ticks)")
      ->capture_default_str();
  cmd->add_option("--trial-timeout-ms", o->config.scenario.trial_timeout_ms,
                  "scenario: a trial without a serving leader by then is censored")
      ->capture_default_str();
  cmd->add_flag("--crash-notifies-peers", o->config.scenario.crash_notifies_peers,
                "leader-crash: the peers see the crashed leader's connections drop");
  cmd->add_flag("--diverge-logs", o->config.scenario.diverge_logs,
                "leader-crash: before each crash a client writes once and 0 .. (voters - quorum) "
                "random followers miss that entry (the paper's different log lengths; needs "
                "--clients 1 or more)");
  cmd->add_option("--partition-ms", o->config.scenario.partition_ms,
                  "disruptive: how long the follower is cut off each round")
      ->capture_default_str();
  cmd->add_option("--heal-ms", o->config.scenario.heal_ms,
                  "disruptive: time after each heal before the next round")
      ->capture_default_str();
  cmd->add_option("--unavailable-gap-ms", o->config.scenario.unavailable_gap_ms,
                  "disruptive: a gap between completed writes longer than this is unavailable "
                  "time")
      ->capture_default_str();
  cmd->callback([o, &action] { action = [o] { return run(*o); }; });
}

}  // namespace quorumlab::cli
