// `qlab check FILE --model zookeeper|linearizable`: the simulator's history checks
// (quorumlab/sim/checkers.hpp, check_recorded_history) on a history recorded by real clients
// (`qlab bench --history`, `qlab soak`, the Python package's workloads). Real clocks: an
// operation took effect somewhere between its invoke and complete times, the bounds Porcupine
// uses for etcd.
//
// Exit codes: 0 the history passes, 1 a violation (printed with the operations involved),
// 2 the file cannot be read.
#include <cinttypes>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "quorumlab/sim/checkers.hpp"
#include "quorumlab/sim/history_io.hpp"

namespace quorumlab::cli {

namespace {

struct CheckOptions {
  std::string file;
  std::string model = "zookeeper";
  std::int64_t staleness_bound_ms = -1;
  std::vector<std::string> disable;
  bool json = false;
};

/// The properties check_recorded_history can report, for --disable.
const std::set<std::string>& properties() {
  static const std::set<std::string> p = {
      "one_txn_per_zxid",       "one_state_per_zxid",   "acknowledged_write_lost",
      "session_zxid_monotonic", "fifo_execution_order", "read_matches_zxid",
      "read_your_writes",       "bounded_staleness",    "linearizable"};
  return p;
}

int run_check(const CheckOptions& o) {
  sim::LoadedHistory loaded;
  try {
    loaded = sim::read_history_file(o.file);
  } catch (const std::exception& e) {
    std::cerr << "qlab check: " << e.what() << "\n";
    return 2;
  }
  const sim::History& h = loaded.history;
  sim::HistoryCheckOptions options;
  options.linearizable_reads = o.model == "linearizable";
  if (o.staleness_bound_ms >= 0) options.staleness_bound_ms = o.staleness_bound_ms;
  options.disabled.insert(o.disable.begin(), o.disable.end());
  const sim::HistoryCheckResult r = sim::check_recorded_history(h, options);

  std::set<std::pair<int, SessionId>> sessions;
  std::set<std::string> keys;
  std::uint64_t reads = 0, writes = 0, unknown = 0;
  for (const auto& op : h.ops) {
    sessions.insert({op.client, op.session});
    if (op.kind != sim::OpKind::sync) keys.insert(op.key);
    reads += sim::is_read(op.kind) ? 1 : 0;
    writes += sim::is_write(op.kind) ? 1 : 0;
    unknown += op.completed() ? 0 : 1;
  }
  const bool ok = !r.violation;
  if (o.json) {
    nlohmann::json j = {{"file", o.file},
                        {"model", o.model},
                        {"ok", ok},
                        {"operations", h.ops.size()},
                        {"sessions", sessions.size()},
                        {"keys", keys.size()},
                        {"reads", reads},
                        {"writes", writes},
                        {"without_reply", unknown},
                        {"writes_acknowledged", r.acknowledged_writes},
                        {"writes_lost", r.lost_writes},
                        {"keys_with_final_read", r.keys_with_final_read},
                        {"stale_reads", r.stale.stale},
                        {"reads_checked", r.stale.reads},
                        {"linearizability",
                         {{"keys_checked", r.linearizability.keys_checked},
                          {"ops_checked", r.linearizability.ops_checked},
                          {"keys_unknown", r.linearizability.keys_unknown}}}};
    if (r.violation) {
      j["violation"] = {{"property", r.violation->property}, {"message", r.violation->message}};
    }
    std::cout << j.dump() << std::endl;
    return ok ? 0 : 1;
  }
  std::cout << "qlab check " << o.file << " (model " << o.model << "): " << h.ops.size()
            << " operations of " << sessions.size() << " sessions on " << keys.size()
            << " keys: " << reads << " reads, " << writes << " writes (" << r.acknowledged_writes
            << " acknowledged), " << unknown << " without a reply\n"
            << "  acknowledged writes lost: " << r.lost_writes << " (" << r.keys_with_final_read
            << " keys with a final read)\n"
            << "  " << r.stale.to_string() << "\n";
  if (r.linearizability.keys_checked > 0) {
    std::cout << "  linearizability ("
              << (options.linearizable_reads ? "reads and writes" : "writes")
              << "): " << r.linearizability.keys_checked << " keys, "
              << r.linearizability.ops_checked << " operations"
              << (r.linearizability.keys_unknown
                      ? ", " + std::to_string(r.linearizability.keys_unknown) +
                            " keys undecided (search budget)"
                      : std::string())
              << "\n";
  }
  if (ok) {
    std::cout << "verdict: OK\n";
    return 0;
  }
  std::cout << "verdict: VIOLATION of " << r.violation->property << ": " << r.violation->message
            << "\n";
  return 1;
}

}  // namespace

void add_check(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "check", "check a history recorded by real clients (qlab bench --history, qlab soak)");
  cmd->footer(
      "Models:\n"
      "  zookeeper     ZooKeeper's guarantees: linearizable writes, FIFO client order, reads\n"
      "                that match their zxid and show the session's own writes, sessions that\n"
      "                never go back in zxid. Stale reads are counted, not failed.\n"
      "  linearizable  all of the above, and every read linearizable too.\n"
      "Either model also fails on an acknowledged write missing from its key's final read.\n"
      "Exit 0: the history passes; 1: a violation, printed with the operations involved;\n"
      "2: the file cannot be read.");
  auto o = std::make_shared<CheckOptions>();
  cmd->add_option("file", o->file, "history file (JSON lines)")->required();
  cmd->add_option("--model", o->model, "what the history is held to")
      ->check(CLI::IsMember({"zookeeper", "linearizable"}))
      ->capture_default_str();
  cmd->add_option("--staleness-bound-ms", o->staleness_bound_ms,
                  "also fail reads that missed a write completed more than this before them "
                  "(the bounded read policy's promise)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--disable", o->disable, "properties not to check")
      ->check(CLI::IsMember(properties()));
  cmd->add_flag("--json", o->json, "print one JSON object instead of the report");
  cmd->callback([&action, o] { action = [o] { return run_check(*o); }; });
}

}  // namespace quorumlab::cli
