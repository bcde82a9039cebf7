#include "nemesis.hpp"

#include <signal.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

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

}  // namespace

const std::vector<std::string>& nemesis_faults() {
  static const std::vector<std::string> faults = {"kill", "pause", "partition", "delay",
                                                  "drop", "disk",  "clock",     "clients"};
  return faults;
}

std::vector<NemesisEvent> run_nemesis(ClusterSpec& spec, const NemesisOptions& o,
                                      const std::function<void(const NemesisEvent&)>& progress) {
  const auto& known = nemesis_faults();
  if (o.mix.empty()) throw std::invalid_argument("the fault mix is empty");
  for (const auto& f : o.mix) {
    if (std::find(known.begin(), known.end(), f) == known.end()) {
      std::string list;
      for (const auto& k : known)
        list += (list.empty() ? "" : ", ") + k;
      throw std::invalid_argument("unknown fault '" + f + "' (known: " + list + ")");
    }
  }
  if (o.interval.count() <= 0) throw std::invalid_argument("the interval must be positive");
  Rng rng(o.seed);
  std::vector<NemesisEvent> events;
  const auto start = Clock::now();
  auto note = [&](const std::string& what, const std::string& detail) {
    NemesisEvent e{std::chrono::duration<double>(Clock::now() - start).count(), what, detail};
    events.push_back(e);
    progress(e);
  };
  std::vector<NodeId> voters, all;
  for (const auto& n : spec.nodes) {
    all.push_back(n.id);
    if (!n.observer) voters.push_back(n.id);
  }
  auto pick = [&](const std::vector<NodeId>& from) {
    return from[static_cast<std::size_t>(
        rng.uniform_range(0, static_cast<std::int64_t>(from.size()) - 1))];
  };
  std::vector<NodeId> killed, paused;
  bool rules = false;
  auto heal_all = [&] {
    for (NodeId id : paused) {
      signal_node(spec, id, SIGCONT);
      note("resume", std::to_string(id));
    }
    paused.clear();
    for (NodeId id : killed) {
      start_node(spec, id, o.timeout);
      note("restart", std::to_string(id));
    }
    killed.clear();
    if (rules) {
      apply_net_rules(spec, {}, o.timeout);
      note("heal", "every rule");
      rules = false;
    }
  };
  const auto stop_at = start + o.duration;
  try {
    for (auto next = start; next < stop_at; next += o.interval) {
      std::this_thread::sleep_until(next);  // the schedule's clock, not a synchronisation
      const std::string fault = o.mix[static_cast<std::size_t>(
          rng.uniform_range(0, static_cast<std::int64_t>(o.mix.size()) - 1))];
      const NodeId leader = leader_now(spec);
      // The leader half of the time when there is one, else any voter.
      const NodeId target = leader != 0 && rng.chance(0.5) ? leader : pick(voters);
      if (fault == "kill") {
        signal_node(spec, target, SIGKILL);
        killed.push_back(target);
        note("kill", std::to_string(target) + (target == leader ? " (leader)" : ""));
      } else if (fault == "pause") {
        signal_node(spec, target, SIGSTOP);
        paused.push_back(target);
        note("pause", std::to_string(target) + (target == leader ? " (leader)" : ""));
      } else if (fault == "partition") {
        std::vector<NodeId> rest;
        for (NodeId id : all)
          if (id != target) rest.push_back(id);
        std::string shape;
        switch (rng.uniform_range(0, 2)) {
          case 0:  // one node (the leader half of the time) alone
            shape = std::to_string(target) + "/" + ids_text(rest);
            break;
          case 1: {  // a bridge: `target` talks to both halves, they not to each other
            std::vector<NodeId> a, b;
            for (std::size_t i = 0; i < rest.size(); ++i)
              (i % 2 ? b : a).push_back(rest[i]);
            a.push_back(target);
            b.push_back(target);
            shape = b.size() > 1 ? ids_text(a) + "/" + ids_text(b)
                                 : std::to_string(target) + "/" + ids_text(rest);
            break;
          }
          default:  // one way: what `target` sends to the others is lost
            shape = std::to_string(target) + ">" + ids_text(rest);
        }
        rules = true;  // before: a half-applied change is healed too
        apply_net_rules(spec, partition_rules(spec, shape), o.timeout);
        note("partition", shape);
      } else if (fault == "disk" || fault == "clock" || fault == "clients") {
        std::optional<std::int64_t> disk, skew;
        std::string detail = std::to_string(target) + (target == leader ? " (leader)" : "");
        if (fault == "disk") {
          disk = 50 + rng.uniform_range(0, 150);
          detail += " +" + std::to_string(*disk) + " ms per fsync";
        } else if (fault == "clock") {
          skew = (rng.chance(0.5) ? 1 : -1) * (50000 + rng.uniform_range(0, 250000));
          detail += " " + std::string(*skew > 0 ? "+" : "") + std::to_string(*skew) + " ppm";
        }
        rules = true;
        apply_net_rules(spec,
                        node_rules(spec, current_net_rules(spec), target, disk, skew,
                                   fault == "clients" ? std::optional<bool>(true) : std::nullopt),
                        o.timeout);
        note(fault, detail);
      } else {
        const bool delay = fault == "delay";
        auto set = link_rules(
            spec, current_net_rules(spec), target,
            delay ? std::nullopt : std::optional<std::uint32_t>(10 + rng.uniform_range(0, 40)),
            delay ? std::optional<std::uint32_t>(100 + rng.uniform_range(0, 200)) : std::nullopt,
            delay ? std::optional<std::uint32_t>(20) : std::nullopt);
        rules = true;
        apply_net_rules(spec, set, o.timeout);
        note(fault, std::to_string(target));
      }
      // The fault lasts half an interval (cut short by the end of the run).
      std::this_thread::sleep_until(std::min(next + o.interval / 2, stop_at));
      heal_all();
    }
  } catch (...) {
    try {
      heal_all();
    } catch (...) {
    }
    throw;
  }
  heal_all();
  return events;
}

}  // namespace quorumlab::cluster
