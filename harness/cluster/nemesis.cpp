#include "nemesis.hpp"

#include <signal.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <tuple>

#include <toml++/toml.h>

#include "quorumlab/rng.hpp"

namespace quorumlab::cluster {

namespace {

using Clock = std::chrono::steady_clock;

/// The one node every running voter reports as leader, or 0.
NodeId leader_now(const ClusterSpec& spec) {
  for (const auto& n : spec.nodes) {
    if (n.observer || proc_state(n.pid) != ProcState::running) continue;
    auto st = probe("127.0.0.1", n.client_port, std::chrono::milliseconds(500));
    if (st && st->role == "leader") return n.id;
  }
  return 0;
}

std::string ids_text(const std::vector<NodeId>& ids) {
  std::string out;
  for (NodeId id : ids)
    out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

/// What a nemesis run did (its events) and has not undone yet; applying one fault, undoing it,
/// and undoing everything. Both the seeded mix and a schedule go through it.
struct Faults {
  Faults(ClusterSpec& s, std::chrono::milliseconds t, std::function<void(const NemesisEvent&)> p)
      : spec(s), timeout(t), progress(std::move(p)) {}

  ClusterSpec& spec;
  std::chrono::milliseconds timeout;
  std::function<void(const NemesisEvent&)> progress;
  Clock::time_point start = Clock::now();
  std::vector<NemesisEvent> events;
  std::vector<NodeId> killed, paused;
  bool rules = false;  ///< set before rules are applied: a half-applied change is healed too

  void note(const std::string& what, const std::string& detail) {
    NemesisEvent e{std::chrono::duration<double>(Clock::now() - start).count(), what, detail};
    events.push_back(e);
    progress(e);
  }

  void set_rules(const NetRuleSet& set) {
    rules = true;
    apply_net_rules(spec, set, timeout);
  }

  /// Starts fault `f.fault` on `target` with f's values (a partition takes f.shape, or
  /// `target` alone when it is empty). The caller notes the event.
  void begin(const ScheduledFault& f, NodeId target) {
    if (f.fault == "kill") {
      signal_node(spec, target, SIGKILL);
      killed.push_back(target);
    } else if (f.fault == "pause") {
      signal_node(spec, target, SIGSTOP);
      paused.push_back(target);
    } else if (f.fault == "partition") {
      rules = true;
      change_network(spec, "partition", f.shape.empty() ? alone(target) : f.shape, 0, std::nullopt,
                     std::nullopt, std::nullopt, timeout);
    } else if (f.fault == "delay") {
      set_rules(link_rules(spec, current_net_rules(spec), target, std::nullopt, f.ms, f.jitter_ms));
    } else if (f.fault == "drop") {
      set_rules(
          link_rules(spec, current_net_rules(spec), target, f.pct, std::nullopt, std::nullopt));
    } else {
      set_rules(node_rules(spec, current_net_rules(spec), target,
                           f.fault == "disk" ? std::optional<std::int64_t>(f.ms) : std::nullopt,
                           f.fault == "clock" ? std::optional<std::int64_t>(f.ppm) : std::nullopt,
                           f.fault == "clients" ? std::optional<bool>(true) : std::nullopt));
    }
  }

  /// Undoes fault `fault` begun on `target`, only that one, and notes it.
  void end(const std::string& fault, NodeId target) {
    const std::string who = std::to_string(target);
    if (fault == "kill") {
      start_node(spec, target, timeout);
      killed.erase(std::find(killed.begin(), killed.end(), target));
      note("restart", who);
    } else if (fault == "pause") {
      signal_node(spec, target, SIGCONT);
      paused.erase(std::find(paused.begin(), paused.end(), target));
      note("resume", who);
    } else if (fault == "partition") {
      NetRuleSet set = current_net_rules(spec);
      for (auto& [id, r] : set)
        r.links.clear();  // the nodes' own faults (disk, clock, clients) stay
      set_rules(set);
      note("heal", "the partition");
    } else if (fault == "delay" || fault == "drop") {
      const bool delay = fault == "delay";
      set_rules(link_rules(spec, current_net_rules(spec), target,
                           delay ? std::nullopt : std::optional<std::uint32_t>(0),
                           delay ? std::optional<std::uint32_t>(0) : std::nullopt,
                           delay ? std::optional<std::uint32_t>(0) : std::nullopt));
      note("heal", fault + " " + who);
    } else {
      set_rules(node_rules(spec, current_net_rules(spec), target,
                           fault == "disk" ? std::optional<std::int64_t>(0) : std::nullopt,
                           fault == "clock" ? std::optional<std::int64_t>(0) : std::nullopt,
                           fault == "clients" ? std::optional<bool>(false) : std::nullopt));
      note("heal", fault + " " + who);
    }
  }

  void heal_all() {
    for (NodeId id : paused) {
      signal_node(spec, id, SIGCONT);
      note("resume", std::to_string(id));
    }
    paused.clear();
    for (NodeId id : killed) {
      start_node(spec, id, timeout);
      note("restart", std::to_string(id));
    }
    killed.clear();
    if (rules) {
      apply_net_rules(spec, {}, timeout);
      note("heal", "every rule");
      rules = false;
    }
  }

  /// "T/every other node": `target` cut off from the rest.
  std::string alone(NodeId target) const {
    std::vector<NodeId> rest;
    for (const auto& n : spec.nodes)
      if (n.id != target) rest.push_back(n.id);
    return std::to_string(target) + "/" + ids_text(rest);
  }

  /// Runs `body`, healing everything afterwards, also when it throws (then rethrown).
  template <class F>
  std::vector<NemesisEvent> healing(F&& body) {
    try {
      body();
    } catch (...) {
      try {
        heal_all();
      } catch (...) {
      }
      throw;
    }
    heal_all();
    return std::move(events);
  }
};

}  // namespace

const std::vector<std::string>& nemesis_faults() {
  static const std::vector<std::string> faults = {"kill", "pause", "partition", "delay",
                                                  "drop", "disk",  "clock",     "clients"};
  return faults;
}

namespace {

bool known_fault(const std::string& f) {
  const auto& known = nemesis_faults();
  return std::find(known.begin(), known.end(), f) != known.end();
}

std::string known_list() {
  std::string list;
  for (const auto& k : nemesis_faults())
    list += (list.empty() ? "" : ", ") + k;
  return list;
}

void check_mix(const std::vector<std::string>& mix) {
  if (mix.empty()) throw std::invalid_argument("the fault mix is empty");
  for (const auto& f : mix) {
    if (!known_fault(f))
      throw std::invalid_argument("unknown fault '" + f + "' (known: " + known_list() + ")");
  }
}

/// The node a scheduled fault hits now: the leader, a follower (the lowest id that is not the
/// leader) or the given id.
NodeId resolve_target(const ClusterSpec& spec, const std::string& node,
                      std::chrono::milliseconds timeout) {
  if (node == "leader" || node == "follower") {
    const NodeId leader = leader_now(spec);
    if (node == "leader") {
      if (leader == 0) return wait_for_leader(spec, timeout);  // between elections: wait
      return leader;
    }
    for (const auto& n : spec.nodes) {
      if (!n.observer && n.id != leader && proc_state(n.pid) == ProcState::running) return n.id;
    }
    throw std::runtime_error("the schedule names a follower, but no running follower is left");
  }
  return static_cast<NodeId>(std::stoul(node));
}

std::vector<NemesisEvent> run_schedule(ClusterSpec& spec, const NemesisOptions& o,
                                       const std::function<void(const NemesisEvent&)>& progress) {
  // Everything checked before the first fault.
  for (std::size_t i = 0; i < o.schedule.size(); ++i) {
    const auto& f = o.schedule[i];
    const std::string where = "schedule entry " + std::to_string(i + 1) + ": ";
    if (!known_fault(f.fault)) {
      throw std::invalid_argument(where + "unknown fault '" + f.fault +
                                  "' (known: " + known_list() + ")");
    }
    if (f.node != "leader" && f.node != "follower") {
      if (f.node.empty() || f.node.find_first_not_of("0123456789") != std::string::npos) {
        throw std::invalid_argument(where + "node must be leader, follower or a node id, got '" +
                                    f.node + "'");
      }
      try {
        node(spec, static_cast<NodeId>(std::stoul(f.node)));
      } catch (const std::exception& e) {
        throw std::invalid_argument(where + e.what());
      }
    }
    if (!f.shape.empty()) {
      if (f.fault != "partition") throw std::invalid_argument(where + "shape is for partitions");
      try {
        partition_rules(spec, f.shape);
      } catch (const std::exception& e) {
        throw std::invalid_argument(where + e.what());
      }
    }
  }
  Faults faults(spec, o.timeout, progress);
  // (time, 0 end / 1 start, entry): ends before starts at the same time.
  std::vector<std::tuple<double, int, std::size_t>> steps;
  for (std::size_t i = 0; i < o.schedule.size(); ++i) {
    steps.emplace_back(o.schedule[i].at_s, 1, i);
    if (o.schedule[i].duration_s)
      steps.emplace_back(o.schedule[i].at_s + *o.schedule[i].duration_s, 0, i);
  }
  std::sort(steps.begin(), steps.end());
  std::map<std::size_t, NodeId> target_of;
  const auto stop_at = faults.start + o.duration;
  return faults.healing([&] {
    for (const auto& [t, is_start, i] : steps) {
      const auto when = faults.start + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(t));
      if (when >= stop_at) break;
      std::this_thread::sleep_until(when);  // the schedule's clock, not a synchronisation
      const ScheduledFault& f = o.schedule[i];
      if (!is_start) {
        faults.end(f.fault, target_of.at(i));
        continue;
      }
      const NodeId target = resolve_target(spec, f.node, o.timeout);
      target_of[i] = target;
      faults.begin(f, target);
      const std::string who = std::to_string(target);
      if (f.fault == "partition") {
        faults.note("partition", f.shape.empty() ? faults.alone(target) : f.shape);
      } else if (f.fault == "delay") {
        faults.note("delay", who + " " + std::to_string(f.ms) + " ms");
      } else if (f.fault == "drop") {
        faults.note("drop", who + " " + std::to_string(f.pct) + "%");
      } else {
        faults.note(f.fault, who);
      }
    }
    std::this_thread::sleep_until(stop_at);
  });
}

}  // namespace

std::vector<std::string> parse_mix(const std::string& text) {
  std::vector<std::string> mix;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    if (comma > pos) mix.push_back(text.substr(pos, comma - pos));
    pos = comma + 1;
  }
  check_mix(mix);
  return mix;
}

std::vector<ScheduledFault> load_schedule(const std::string& path) {
  toml::table doc;
  try {
    doc = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << path << ": " << e.description() << " (line " << e.source().begin.line << ")";
    throw std::invalid_argument(os.str());
  }
  for (const auto& [key, value] : doc) {
    if (key.str() != "fault") {
      throw std::invalid_argument(path + ": unknown key '" + std::string(key.str()) +
                                  "' (a schedule is a list of [[fault]] tables)");
    }
  }
  const toml::array* list = doc["fault"].as_array();
  if (list == nullptr || list->empty()) {
    throw std::invalid_argument(path + ": no [[fault]] tables");
  }
  std::vector<ScheduledFault> out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string where = path + ": fault " + std::to_string(i + 1);
    const toml::table* t = (*list)[i].as_table();
    if (t == nullptr) throw std::invalid_argument(where + " is not a table");
    static const std::set<std::string> keys = {"at", "duration", "fault", "node", "shape",
                                               "ms", "jitter",   "pct",   "ppm"};
    for (const auto& [key, value] : *t) {
      if (!keys.count(std::string(key.str()))) {
        throw std::invalid_argument(where + ": unknown key '" + std::string(key.str()) +
                                    "' (keys: at, duration, fault, node, shape, ms, jitter, pct, "
                                    "ppm)");
      }
    }
    auto number = [&](const char* key) -> std::optional<double> {
      auto n = (*t)[key];
      if (!n) return std::nullopt;
      if (auto v = n.value<double>()) return v;
      throw std::invalid_argument(where + ": " + key + " must be a number");
    };
    auto count = [&](const char* key, double lo, double hi) -> std::int64_t {
      auto v = number(key);
      if (!v) return 0;
      if (*v < lo || *v > hi || *v != static_cast<double>(static_cast<std::int64_t>(*v))) {
        std::ostringstream os;
        os << where << ": " << key << " must be a whole number in " << lo << ".." << hi;
        throw std::invalid_argument(os.str());
      }
      return static_cast<std::int64_t>(*v);
    };
    ScheduledFault f;
    auto at = number("at");
    if (!at || *at < 0) throw std::invalid_argument(where + ": at (seconds, >= 0) is required");
    f.at_s = *at;
    f.duration_s = number("duration");
    if (f.duration_s && *f.duration_s <= 0)
      throw std::invalid_argument(where + ": duration must be positive");
    auto fault = (*t)["fault"].value<std::string>();
    if (!fault) throw std::invalid_argument(where + ": fault (a name) is required");
    f.fault = *fault;
    if (!known_fault(f.fault)) {
      throw std::invalid_argument(where + ": unknown fault '" + f.fault +
                                  "' (known: " + known_list() + ")");
    }
    if (auto n = (*t)["node"]) {
      if (auto id = n.value<std::int64_t>()) {
        f.node = std::to_string(*id);
      } else if (auto name = n.value<std::string>()) {
        f.node = *name;
      } else {
        throw std::invalid_argument(where + ": node must be leader, follower or a node id");
      }
    }
    if (auto shape = (*t)["shape"].value<std::string>()) f.shape = *shape;
    f.ms = static_cast<std::uint32_t>(count("ms", 0, 600000));
    f.jitter_ms = static_cast<std::uint32_t>(count("jitter", 0, 600000));
    f.pct = static_cast<std::uint32_t>(count("pct", 0, 100));
    f.ppm = count("ppm", -500000, 500000);
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<NemesisEvent> run_nemesis(ClusterSpec& spec, const NemesisOptions& o,
                                      const std::function<void(const NemesisEvent&)>& progress) {
  if (!o.schedule.empty()) return run_schedule(spec, o, progress);
  check_mix(o.mix);
  if (o.interval.count() <= 0) throw std::invalid_argument("the interval must be positive");
  Rng rng(o.seed);
  Faults faults(spec, o.timeout, progress);
  std::vector<NodeId> voters, all;
  for (const auto& n : spec.nodes) {
    all.push_back(n.id);
    if (!n.observer) voters.push_back(n.id);
  }
  auto pick = [&](const std::vector<NodeId>& from) {
    return from[static_cast<std::size_t>(
        rng.uniform_range(0, static_cast<std::int64_t>(from.size()) - 1))];
  };
  const auto stop_at = faults.start + o.duration;
  return faults.healing([&] {
    for (auto next = faults.start; next < stop_at; next += o.interval) {
      std::this_thread::sleep_until(next);  // the schedule's clock, not a synchronisation
      ScheduledFault f;
      f.fault = o.mix[static_cast<std::size_t>(
          rng.uniform_range(0, static_cast<std::int64_t>(o.mix.size()) - 1))];
      const NodeId leader = leader_now(spec);
      // The leader half of the time when there is one, else any voter.
      const NodeId target = leader != 0 && rng.chance(0.5) ? leader : pick(voters);
      std::string detail = std::to_string(target) + (target == leader ? " (leader)" : "");
      // The fault's values, drawn in the order the seed has always drawn them.
      if (f.fault == "partition") {
        std::vector<NodeId> rest;
        for (NodeId id : all)
          if (id != target) rest.push_back(id);
        switch (rng.uniform_range(0, 2)) {
          case 0:  // one node (the leader half of the time) alone
            f.shape = std::to_string(target) + "/" + ids_text(rest);
            break;
          case 1: {  // a bridge: `target` talks to both halves, they not to each other
            std::vector<NodeId> a, b;
            for (std::size_t i = 0; i < rest.size(); ++i)
              (i % 2 ? b : a).push_back(rest[i]);
            a.push_back(target);
            b.push_back(target);
            f.shape = b.size() > 1 ? ids_text(a) + "/" + ids_text(b)
                                   : std::to_string(target) + "/" + ids_text(rest);
            break;
          }
          default:  // one way: what `target` sends to the others is lost
            f.shape = std::to_string(target) + ">" + ids_text(rest);
        }
        detail = f.shape;
      } else if (f.fault == "disk") {
        f.ms = static_cast<std::uint32_t>(50 + rng.uniform_range(0, 150));
        detail += " +" + std::to_string(f.ms) + " ms per fsync";
      } else if (f.fault == "clock") {
        f.ppm = (rng.chance(0.5) ? 1 : -1) * (50000 + rng.uniform_range(0, 250000));
        detail += " " + std::string(f.ppm > 0 ? "+" : "") + std::to_string(f.ppm) + " ppm";
      } else if (f.fault == "drop") {
        f.pct = static_cast<std::uint32_t>(10 + rng.uniform_range(0, 40));
        detail = std::to_string(target);
      } else if (f.fault == "delay") {
        f.ms = static_cast<std::uint32_t>(100 + rng.uniform_range(0, 200));
        f.jitter_ms = 20;
        detail = std::to_string(target);
      }
      faults.begin(f, target);
      faults.note(f.fault, detail);
      // The fault lasts half an interval (cut short by the end of the run).
      std::this_thread::sleep_until(std::min(next + o.interval / 2, stop_at));
      faults.heal_all();
    }
  });
}

}  // namespace quorumlab::cluster
