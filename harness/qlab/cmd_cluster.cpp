// `qlab cluster`: start and manage a local cluster of `qlab server` processes.
#include <signal.h>

#include <boost/dll/runtime_symbol_info.hpp>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "../cluster/cluster.hpp"
#include "../cluster/failover.hpp"
#include "../cluster/nemesis.hpp"
#include "commands.hpp"
#include "quorumlab/config.hpp"
#include "quorumlab/plugin/loader.hpp"

namespace quorumlab::cli {

namespace {

using namespace std::chrono;
namespace cl = quorumlab::cluster;

struct ClusterOptions {
  std::string dir;
  std::size_t nodes = 3;
  std::size_t observers = 0;
  std::string broadcast = "zab";
  std::string storage = "wal";
  std::string read_policy = "local";
  std::vector<std::string> sets;
  double timeout_s = 30;
  bool json = false;
  bool zk = true;  ///< ZooKeeper wire ports (kernel/zkwire) beside the native ones
  NodeId node = 0;
};

const char* state_name(cl::ProcState s) {
  return s == cl::ProcState::paused ? "paused" : s == cl::ProcState::down ? "down" : "running";
}

int start(const ClusterOptions& o) {
  cl::LaunchOptions l;
  l.dir = o.dir;
  l.qlab = boost::dll::program_location().string();
  l.voters = o.nodes;
  l.observers = o.observers;
  l.broadcast = o.broadcast;
  l.storage = o.storage;
  l.read_policy = o.read_policy;
  l.sets = o.sets;
  l.zk_ports = o.zk;
  l.timeout = milliseconds(static_cast<long>(o.timeout_s * 1000));
  auto spec = cl::launch(l, [](const std::string& line) { std::cerr << line << "\n"; });
  std::cout << "connect: " << cl::connect_string(spec) << "\n";
  if (o.zk) std::cout << "zookeeper connect: " << cl::connect_string(spec, true) << "\n";
  return 0;
}

/// One line per rule in force after the status table: "network rule: node 1 -> 3: drop 100%",
/// "fault: node 2: disk delay 50 ms", "fault: node 2: clock skew +200000 ppm", "fault: node 2:
/// client links cut".
void print_rules(const nlohmann::json& arr) {
  for (const auto& j : arr) {
    if (!j.contains("net_rules")) continue;
    const unsigned id = j["id"].get<unsigned>();
    if (j["disk_delay_ms"].get<unsigned>() > 0)
      std::printf("fault: node %u: disk delay %u ms\n", id, j["disk_delay_ms"].get<unsigned>());
    if (j["clock_skew_ppm"].get<int>() != 0)
      std::printf("fault: node %u: clock skew %+d ppm\n", id, j["clock_skew_ppm"].get<int>());
    if (j["clients_cut"].get<bool>()) std::printf("fault: node %u: client links cut\n", id);
    for (const auto& r : j["net_rules"]) {
      std::printf("network rule: node %u -> %u:", j["id"].get<unsigned>(),
                  r["peer"].get<unsigned>());
      if (r["drop_pct"].get<unsigned>() > 0)
        std::printf(" drop %u%%", r["drop_pct"].get<unsigned>());
      if (r["delay_ms"].get<unsigned>() > 0 || r["jitter_ms"].get<unsigned>() > 0) {
        std::printf(" delay %u ms (+%u)", r["delay_ms"].get<unsigned>(),
                    r["jitter_ms"].get<unsigned>());
      }
      std::printf("\n");
    }
  }
}

int status(const ClusterOptions& o) {
  auto spec = cl::load(o.dir);
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& n : spec.nodes) {
    auto ps = cl::proc_state(n.pid);
    std::optional<cl::ServerStatus> st;
    if (ps == cl::ProcState::running) st = cl::probe("127.0.0.1", n.client_port, milliseconds(500));
    std::string role = ps != cl::ProcState::running ? "down" : st ? st->role : "down";
    if (ps == cl::ProcState::paused) role = "down";
    nlohmann::json j = {{"id", n.id},
                        {"pid", n.pid},
                        {"role", role},
                        {"process", state_name(ps)},
                        {"client_port", n.client_port},
                        {"peer_port", n.peer_port},
                        {"zk_port", n.zk_port}};
    if (st) {
      j["leader"] = st->leader;
      j["epoch"] = st->epoch;
      j["sub_state"] = st->sub_state;
      j["applied_zxid"] = st->applied_zxid;
      j["digest"] = st->digest;
      j["znodes"] = st->znode_count;
      j["sessions"] = st->session_count;
      nlohmann::json counters = nlohmann::json::object();
      for (const auto& [name, value] : st->counters)
        counters[name] = value;
      j["read_counters"] = counters;
      nlohmann::json rules = nlohmann::json::array();
      j["ticks"] = st->ticks;
      for (const auto& r : st->net_rules.links) {
        rules.push_back({{"peer", r.peer},
                         {"drop_pct", r.drop_pct},
                         {"delay_ms", r.delay_ms},
                         {"jitter_ms", r.jitter_ms}});
      }
      j["net_rules"] = rules;
      j["disk_delay_ms"] = st->net_rules.disk_delay_ms;
      j["clock_skew_ppm"] = st->net_rules.clock_skew_ppm;
      j["clients_cut"] = st->net_rules.clients_cut;
    }
    arr.push_back(j);
  }
  if (o.json) {
    std::cout << arr.dump() << "\n";
    return 0;
  }
  std::printf("%-4s %-8s %-9s %-22s %-6s %-8s %-7s %-6s %-7s %-18s %s\n", "id", "pid", "role",
              "plugin state", "term", "process", "client", "peer", "leader", "applied zxid",
              "digest");
  for (const auto& j : arr) {
    std::printf(
        "%-4u %-8d %-9s %-22s %-6s %-8s %-7d %-6d %-7s %-18s %s\n", j["id"].get<unsigned>(),
        j["pid"].get<int>(), j["role"].get<std::string>().c_str(),
        j.contains("sub_state") ? j["sub_state"].get<std::string>().c_str() : "-",
        j.contains("epoch") ? std::to_string(j["epoch"].get<std::uint64_t>()).c_str() : "-",
        j["process"].get<std::string>().c_str(), j["client_port"].get<int>(),
        j["peer_port"].get<int>(),
        j.contains("leader") ? std::to_string(j["leader"].get<unsigned>()).c_str() : "-",
        j.contains("applied_zxid") ? ("0x" +
                                      [&] {
                                        char b[32];
                                        std::snprintf(b, sizeof b, "%llx",
                                                      static_cast<unsigned long long>(
                                                          j["applied_zxid"].get<std::uint64_t>()));
                                        return std::string(b);
                                      }())
                                         .c_str()
                                   : "-",
        j.contains("digest") ? std::to_string(j["digest"].get<std::uint64_t>()).c_str() : "-");
  }
  print_rules(arr);
  return 0;
}

int stop(const ClusterOptions& o) {
  auto spec = cl::load(o.dir);
  for (const auto& n : spec.nodes)
    cl::signal_node(spec, n.id, SIGTERM);
  std::cerr << "cluster in " << spec.dir.string() << " stopped\n";
  return 0;
}

int one(const ClusterOptions& o, const std::string& what) {
  auto spec = cl::load(o.dir);
  cl::node(spec, o.node);  // validates the id
  if (what == "kill") cl::signal_node(spec, o.node, SIGKILL);
  if (what == "pause") cl::signal_node(spec, o.node, SIGSTOP);
  if (what == "resume") cl::signal_node(spec, o.node, SIGCONT);
  if (what == "restart") {
    cl::signal_node(spec, o.node, SIGKILL);
    cl::start_node(spec, o.node, milliseconds(static_cast<long>(o.timeout_s * 1000)));
  }
  std::cerr << what << ": node " << o.node << " done\n";
  return 0;
}

int transfer(const ClusterOptions& o) {
  auto spec = cl::load(o.dir);
  try {
    auto r =
        cl::transfer_leadership(spec, o.node, milliseconds(static_cast<long>(o.timeout_s * 1000)));
    if (r.already) {
      std::printf("leader: node %u (term %llu; it already led)\n", r.new_leader,
                  static_cast<unsigned long long>(r.term));
    } else {
      std::printf("leader: node %u (term %llu; was node %u; %.1f ms)\n", r.new_leader,
                  static_cast<unsigned long long>(r.term), r.old_leader, r.ms);
    }
    return 0;
  } catch (const std::runtime_error& e) {
    std::cerr << "qlab cluster transfer: " << e.what() << "\n";
    return 1;
  }
}

int failover(const ClusterOptions& o, int rounds, const std::string& fault, bool json) {
  auto spec = cl::load(o.dir);
  cl::FailoverOptions fo;
  fo.rounds = rounds;
  fo.fault = cl::parse_failover_fault(fault);
  fo.timeout = milliseconds(static_cast<long>(o.timeout_s * 1000));
  auto results =
      cl::measure_failover(spec, fo, [](const std::string& line) { std::cerr << line << "\n"; });
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : results) {
      arr.push_back({{"old_leader", r.old_leader},
                     {"new_leader", r.new_leader},
                     {"failover_ms", r.failover_ms},
                     {"failed_writes", r.failed_writes},
                     {"converged", r.converged}});
    }
    std::cout << arr.dump() << "\n";
    return 0;
  }
  std::printf("%-6s %-11s %-11s %-12s %-14s %s\n", "round", "old leader", "new leader",
              "failover ms", "failed writes", "converged");
  int i = 0;
  for (const auto& r : results) {
    std::printf("%-6d %-11u %-11u %-12.1f %-14llu %s\n", ++i, r.old_leader, r.new_leader,
                r.failover_ms, static_cast<unsigned long long>(r.failed_writes),
                r.converged ? "yes" : "no");
  }
  return 0;
}

/// partition, heal, delay, drop: the cluster's network fault rules.
int network(const ClusterOptions& o, const std::string& what, const std::string& groups,
            std::optional<std::uint32_t> drop, std::optional<std::uint32_t> delay,
            std::optional<std::uint32_t> jitter) {
  auto spec = cl::load(o.dir);
  std::size_t n = 0;
  try {
    n = cl::change_network(spec, what, groups, o.node, drop, delay, jitter,
                           milliseconds(static_cast<long>(o.timeout_s * 1000)));
  } catch (const std::exception& e) {
    std::cerr << "qlab cluster " << what << ": " << e.what() << "\n";
    return 2;
  }
  std::cout << what << ": " << n << " link rule(s) in force\n";
  return 0;
}

/// slow-disk, clock, cut-clients: one node's own faults.
int node_fault(const ClusterOptions& o, const std::string& what, std::optional<std::int64_t> disk,
               std::optional<std::int64_t> skew, std::optional<bool> cut) {
  auto spec = cl::load(o.dir);
  node::FaultRules now;
  try {
    now = cl::change_node_faults(spec, o.node, disk, skew, cut,
                                 milliseconds(static_cast<long>(o.timeout_s * 1000)));
  } catch (const std::exception& e) {
    std::cerr << "qlab cluster " << what << ": " << e.what() << "\n";
    return 2;
  }
  std::printf("%s: node %u: disk delay %u ms, clock skew %+d ppm, client links %s\n", what.c_str(),
              o.node, now.disk_delay_ms, now.clock_skew_ppm, now.clients_cut ? "cut" : "up");
  return 0;
}

}  // namespace

void add_cluster(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("cluster", "Start and manage a local cluster of qlab servers");
  cmd->require_subcommand(1);
  auto o = std::make_shared<ClusterOptions>();
  auto add_dir = [o](CLI::App* sub) {
    sub->add_option("--dir", o->dir, "cluster directory (state, logs, data)")->required();
  };
  auto* st =
      cmd->add_subcommand("start", "start N servers, wait for a leader, print connect strings");
  add_dir(st);
  st->add_option("--nodes", o->nodes, "voting members")
      ->capture_default_str()
      ->check(CLI::Range(1, 254));
  st->add_option("--observers", o->observers, "observers (non-voting)")->capture_default_str();
  st->add_option("--broadcast", o->broadcast, "broadcast plugin")->capture_default_str();
  st->add_option("--storage", o->storage, "storage plugin")->capture_default_str();
  st->add_option("--read-policy", o->read_policy, "read-policy plugin")->capture_default_str();
  st->add_option("--set", o->sets, "KEY=VALUE server setting, e.g. storage.fsync=false");
  st->add_option("--timeout", o->timeout_s, "seconds to wait for start and election")
      ->capture_default_str();
  st->callback([&action, o] { action = [o] { return start(*o); }; });

  auto* status_cmd = cmd->add_subcommand("status", "role, pid and ports of every node");
  add_dir(status_cmd);
  status_cmd->add_flag("--json", o->json, "one JSON array");
  status_cmd->callback([&action, o] { action = [o] { return status(*o); }; });

  auto* stop_cmd = cmd->add_subcommand("stop", "stop every node (SIGTERM, then SIGKILL)");
  add_dir(stop_cmd);
  stop_cmd->callback([&action, o] { action = [o] { return stop(*o); }; });

  auto* fo = cmd->add_subcommand(
      "failover",
      "kill -9 (or pause) the leader under a write load, time the first new write, restart it");
  add_dir(fo);
  auto rounds = std::make_shared<int>(3);
  auto fault = std::make_shared<std::string>("kill");
  fo->add_option("--fault", *fault,
                 "kill: kill -9 and restart; pause: SIGSTOP and SIGCONT after the round; "
                 "isolate: partition the leader from the others, heal after the round")
      ->check(CLI::IsMember({"kill", "pause", "isolate"}))
      ->capture_default_str();
  auto fo_json = std::make_shared<bool>(false);
  fo->add_option("--rounds", *rounds, "kill/restart rounds")->capture_default_str();
  fo->add_option("--timeout", o->timeout_s, "seconds allowed per step")->capture_default_str();
  fo->add_flag("--json", *fo_json, "one JSON array");
  fo->callback([&action, o, rounds, fault, fo_json] {
    action = [o, rounds, fault, fo_json] { return failover(*o, *rounds, *fault, *fo_json); };
  });

  auto* tr = cmd->add_subcommand(
      "transfer", "hand the leadership to voter NODE (Raft 3.10 TimeoutNow), print the new leader");
  add_dir(tr);
  tr->add_option("node", o->node, "node id of the new leader")->required();
  tr->add_option("--timeout", o->timeout_s, "seconds to wait for the new leader")
      ->capture_default_str();
  tr->callback([&action, o] { action = [o] { return transfer(*o); }; });

  auto groups = std::make_shared<std::string>();
  auto* part = cmd->add_subcommand(
      "partition",
      "cut the peer links between groups of nodes, through the servers' transport (no root)");
  add_dir(part);
  part->add_option("groups", *groups,
                   "1,2/3: nodes talk only within a group (1,2/2,3 is a bridge); 1,2>3: one way, "
                   "what 1 and 2 send to 3 is lost")
      ->required();
  part->callback([&action, o, groups] {
    action = [o, groups] { return network(*o, "partition", *groups, {}, {}, {}); };
  });
  auto* heal = cmd->add_subcommand(
      "heal", "remove every fault rule (links, disk delays, clock skews, cut client links)");
  add_dir(heal);
  heal->callback([&action, o] { action = [o] { return network(*o, "heal", "", {}, {}, {}); }; });
  auto ms = std::make_shared<std::uint32_t>(0);
  auto jitter = std::make_shared<std::uint32_t>(0);
  auto* delay = cmd->add_subcommand("delay", "delay the messages on NODE's peer links, both ways");
  add_dir(delay);
  delay->add_option("node", o->node, "node id")->required();
  delay->add_option("--ms", *ms, "delay in ms (0 removes it)")->required();
  delay->add_option("--jitter", *jitter, "up to this many ms more, at random (order is kept)")
      ->capture_default_str();
  delay->callback([&action, o, ms, jitter] {
    action = [o, ms, jitter] { return network(*o, "delay", "", {}, *ms, *jitter); };
  });
  auto pct = std::make_shared<std::uint32_t>(0);
  auto* drop = cmd->add_subcommand("drop", "lose a share of the messages on NODE's peer links");
  add_dir(drop);
  drop->add_option("node", o->node, "node id")->required();
  drop->add_option("--pct", *pct, "percentage lost (0 removes it)")
      ->required()
      ->check(CLI::Range(0, 100));
  drop->callback(
      [&action, o, pct] { action = [o, pct] { return network(*o, "drop", "", *pct, {}, {}); }; });

  auto disk_ms = std::make_shared<std::int64_t>(0);
  auto* slow = cmd->add_subcommand(
      "slow-disk", "slow NODE's disk: each fsync of its storage plugin takes --ms longer");
  add_dir(slow);
  slow->add_option("node", o->node, "node id")->required();
  slow->add_option("--ms", *disk_ms, "added to each fsync, in ms (0 removes it)")->required();
  slow->callback([&action, o, disk_ms] {
    action = [o, disk_ms] { return node_fault(*o, "slow-disk", *disk_ms, {}, {}); };
  });
  auto skew = std::make_shared<std::int64_t>(0);
  auto* clock = cmd->add_subcommand(
      "clock",
      "skew NODE's tick clock: its ticks run at rate 1 + ppm/1e6 (beyond the configured "
      "clock_drift_ppm, lease and bounded reads may return stale data)");
  add_dir(clock);
  clock->add_option("node", o->node, "node id")->required();
  clock
      ->add_option("--skew-ppm", *skew,
                   "parts per million, -500000 .. 500000 (200000: 20% fast; 0 removes it)")
      ->required();
  clock->callback([&action, o, skew] {
    action = [o, skew] { return node_fault(*o, "clock", {}, *skew, {}); };
  });
  auto restore = std::make_shared<bool>(false);
  auto* cut = cmd->add_subcommand(
      "cut-clients",
      "cut NODE's client links: it neither takes nor answers client messages (status and admin "
      "requests still), so clients time out and move to another server");
  add_dir(cut);
  cut->add_option("node", o->node, "node id")->required();
  cut->add_flag("--restore", *restore, "reconnect NODE's client links instead");
  cut->callback([&action, o, restore] {
    action = [o, restore] { return node_fault(*o, "cut-clients", {}, {}, !*restore); };
  });

  for (const char* what : {"kill", "restart", "pause", "resume"}) {
    const char* help = std::string(what) == "kill"      ? "SIGKILL one node"
                       : std::string(what) == "restart" ? "kill one node and start it again"
                       : std::string(what) == "pause"   ? "SIGSTOP one node"
                                                        : "SIGCONT one node";
    auto* sub = cmd->add_subcommand(what, help);
    add_dir(sub);
    sub->add_option("node", o->node, "node id")->required();
    sub->add_option("--timeout", o->timeout_s, "seconds to wait for a restart")
        ->capture_default_str();
    std::string w = what;
    sub->callback([&action, o, w] { action = [o, w] { return one(*o, w); }; });
  }
}

void add_nemesis(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "nemesis",
      "apply faults to a running local cluster on a seeded schedule, then heal everything");
  struct Options {
    std::string dir;
    std::string mix = "kill,pause,partition";
    std::string schedule;
    double interval_s = 5;
    double duration_s = 60;
    std::uint64_t seed = 1;
    double timeout_s = 30;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--dir", o->dir, "cluster directory (state, logs, data)")->required();
  cmd->add_option("--mix", o->mix,
                  "faults, comma-separated: kill, pause, partition, delay, drop, disk, clock, "
                  "clients")
      ->capture_default_str();
  cmd->add_option("--schedule", o->schedule,
                  "a TOML file of [[fault]] tables (at, duration, fault, node, shape, ms, jitter, "
                  "pct, ppm) run instead of the seeded mix")
      ->check(CLI::ExistingFile);
  cmd->add_option("--interval", o->interval_s, "seconds between fault starts (each lasts half)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--duration", o->duration_s, "seconds the schedule runs")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the schedule (faults, targets, shapes)")
      ->capture_default_str();
  cmd->add_option("--timeout", o->timeout_s, "seconds allowed per restart and rules request")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "one JSON array of the events on stdout");
  cmd->callback([&action, o] {
    action = [o] {
      auto spec = cl::load(o->dir);
      cl::NemesisOptions n;
      n.interval = milliseconds(static_cast<long>(o->interval_s * 1000));
      n.duration = milliseconds(static_cast<long>(o->duration_s * 1000));
      n.seed = o->seed;
      n.timeout = milliseconds(static_cast<long>(o->timeout_s * 1000));
      std::vector<cl::NemesisEvent> events;
      try {
        n.mix = cl::parse_mix(o->mix);
        if (!o->schedule.empty()) n.schedule = cl::load_schedule(o->schedule);
        events = cl::run_nemesis(spec, n, [json = o->json](const cl::NemesisEvent& e) {
          (json ? std::cerr : std::cout) << "[" << std::fixed << std::setprecision(1) << e.t_s
                                         << "s] " << e.what << " " << e.detail << std::endl;
        });
      } catch (const std::invalid_argument& e) {
        std::cerr << "qlab nemesis: " << e.what() << "\n";
        return 2;
      } catch (const std::exception& e) {
        std::cerr << "qlab nemesis: " << e.what() << " (the faults applied so far were healed)\n";
        return 1;
      }
      if (o->json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& e : events)
          arr.push_back({{"t", e.t_s}, {"what", e.what}, {"detail", e.detail}});
        std::cout << arr.dump() << "\n";
      }
      return 0;
    };
  });
}

}  // namespace quorumlab::cli
