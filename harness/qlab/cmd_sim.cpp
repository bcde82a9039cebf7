// `qlab sim`: runs the deterministic simulator for one seed or a range of seeds.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "quorumlab/log.hpp"
#include "quorumlab/config.hpp"
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
  bool keep_going = false;
  bool verbose = false;
  std::vector<std::string> skip_checks;
};

int run(SimOptions& o) {
  if (global_log_level().empty()) log::configure("off");  // replicas' logs drown the report
  sim::SimConfig base = o.config;
  base.nodes = o.nodes > 0 ? o.nodes : (base.broadcast == "solo" ? 1 : 3);
  sim::apply_fault_mix(base, o.faults);
  for (const auto& p : o.skip_checks)
    base.disabled_checks.insert(p);
  for (const auto& kv : o.broadcast_params) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw std::invalid_argument("--broadcast-param wants KEY=VALUE, got '" + kv + "'");
    }
    base.broadcast_params[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  // A refused plugin pair fails here with one line, before any seed runs.
  require_supported_pair(
      PluginLoader(base.plugin_dir.empty() ? PluginLoader::default_dir()
                                           : std::filesystem::path(base.plugin_dir)),
      PluginChoice{base.broadcast, {}, base.broadcast_params}, base.read_policy);

  const auto start = std::chrono::steady_clock::now();
  auto elapsed_s = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  sim::StaleReadStats stale;
  std::uint64_t passed = 0, failed = 0, ops = 0, faults = 0, events = 0, lin_unknown = 0;
  std::uint64_t order_anomalies = 0;
  const std::uint64_t report_every = std::max<std::uint64_t>(1, o.seeds / 20);
  int exit_code = 0;
  for (std::uint64_t i = 0; i < o.seeds; ++i) {
    sim::SimConfig cfg = base;
    cfg.seed = o.seed + i;
    sim::RunResult r = sim::run_simulation(cfg);
    ops += r.ops;
    faults += r.faults;
    events += r.events;
    lin_unknown += r.linearizability.keys_unknown;
    order_anomalies += r.session_order_anomalies;
    stale.merge(r.stale);
    const bool detail = o.seeds == 1 || o.verbose;
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
      std::cerr << sim::format_failure(cfg, r) << std::flush;
      if (!o.keep_going) break;
    }
    if (o.seeds > 1 && ((i + 1) % report_every == 0 || i + 1 == o.seeds)) {
      std::fprintf(stderr, "  %" PRIu64 "/%" PRIu64 " seeds, %" PRIu64 " failed, %.1f seeds/s\n",
                   i + 1, o.seeds, failed, static_cast<double>(i + 1) / elapsed_s());
    }
  }
  const double secs = elapsed_s();
  const std::uint64_t ran = passed + failed;
  std::printf("%s %s, %d node(s) + %d observer(s), read policy %s, faults %s: %" PRIu64
              " of %" PRIu64 " seeds passed (%" PRIu64 "..%" PRIu64 ") in %.1f s, %.2f seeds/s\n",
              failed ? "FAILED" : "ok", base.broadcast.c_str(), base.nodes, base.observers,
              base.read_policy.c_str(), o.faults.c_str(), passed, ran, o.seed, o.seed + ran - 1,
              secs, secs > 0 ? static_cast<double>(ran) / secs : 0.0);
  std::printf("  %" PRIu64 " ops, %" PRIu64 " faults, %" PRIu64 " events; linearizability: %" PRIu64
              " keys undecided (search budget)\n",
              ops, faults, events, lin_unknown);
  std::printf("  stale reads: %s\n", stale.to_string().c_str());
  std::printf(
      "  reads executed after a later write of their session (FIFO execution order): %" PRIu64 "\n",
      order_anomalies);
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
  cmd->add_option("--keys", o->config.workload.keys, "znodes the workload uses")
      ->capture_default_str();
  cmd->add_option("--session-timeout-ms", o->config.workload.session_timeout_ms,
                  "session timeout the clients ask for (short: partitions outlast sessions)")
      ->capture_default_str();
  cmd->add_option("--broadcast-param", o->broadcast_params,
                  "broadcast plugin parameter KEY=VALUE (repeatable)");
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
  cmd->callback([o, &action] { action = [o] { return run(*o); }; });
}

}  // namespace quorumlab::cli
