// Measurement scenarios (ScenarioKnobs in config.hpp): scripted trials on a settled cluster
// instead of the nemesis's random faults.
//
// leader-crash (the Raft paper's Figure 16):
//   settling --settled--> waiting --crash step--> electing --new leader serves--> settling ...
//   The crash falls settle_ms + uniform[0, crash_window_ms) after the cluster settled; the
//   times run from the crash to the first replica that is leader in a later term (elected) and
//   to that leader being able to propose (serving). The crashed replica restarts once the new
//   leader serves (or the trial timed out), and the next trial waits until it caught up.
// disruptive (thesis 9.6):
//   settling --settled--> rounds: partition a follower for partition_ms, heal for heal_ms,
//   `trials` times; the window runs from the settled cluster to the last heal + heal_ms.
#include <algorithm>
#include <string>

#include "simulator_impl.hpp"

namespace quorumlab::sim {

namespace {

enum Step : std::uint32_t {
  kCrash = 1,
  kTrialTimeout = 2,
  kSettleTimeout = 3,
  kPartition = 4,
  kHeal = 5,
  kEnd = 6,
  kWrite = 7,
};

double ms_since(std::int64_t from_us, std::int64_t to_us) {
  return static_cast<double>(to_us - from_us) / 1000.0;
}

/// Writes that went through the broadcast: a reply with success or a ZooKeeper error the
/// leader decided (not a connection loss or timeout).
bool counted_write(const HistoryOp& op) {
  if (!is_write(op.kind) || !op.completed()) return false;
  return op.err == zerr::ok || op.err == zerr::no_node || op.err == zerr::node_exists ||
         op.err == zerr::bad_version || op.err == zerr::not_empty;
}

}  // namespace

void Simulator::scenario_schedule(std::uint32_t kind, std::int64_t at_us) {
  push(Event{at_us, 0, EventKind::scenario, 0, kind, scenario_gen_, {}});
}

void Simulator::scenario_start() {
  const auto& k = config_.scenario;
  if (k.name != "leader-crash" && k.name != "disruptive") {
    throw std::invalid_argument("unknown scenario '" + k.name +
                                "'; use leader-crash or disruptive");
  }
  if (k.trials < 1) throw std::invalid_argument("a scenario needs at least one trial");
  if (config_.nodes < 3) throw std::invalid_argument("a scenario needs at least 3 voters");
  if (k.diverge_logs) {
    if (k.name != "leader-crash" || clients_.empty()) {
      throw std::invalid_argument("diverge_logs needs the leader-crash scenario and a client");
    }
    for (auto& c : clients_)
      c->stop_issuing();  // they write only when the scenario asks
  }
  result_.scenario.name = k.name;
  stage_ = Stage::settling;
  trace({now_us_, "scenario", 0, 0, 0, 0, k.name + ", " + std::to_string(k.trials) + " trials"});
  scenario_schedule(kSettleTimeout, now_us_ + k.trial_timeout_ms * 1000);
}

bool Simulator::settled(NodeId* leader_out) const {
  NodeId leader = 0;
  BroadcastStatus ls;
  for (const auto& n : nodes_) {
    if (!n->up || n->paused || !n->node) return false;
    const BroadcastStatus s = n->node->status();
    if (s.role == Role::leader && s.can_propose) {
      if (leader != 0) return false;
      leader = n->id;
      ls = s;
    }
  }
  if (leader == 0) return false;
  for (const auto& n : nodes_) {
    if (n->id == leader) continue;
    const BroadcastStatus s = n->node->status();
    if (s.leader != leader || s.epoch != ls.epoch || s.last_index != ls.last_index) return false;
  }
  *leader_out = leader;
  return true;
}

void Simulator::scenario_after_event() {
  const auto& k = config_.scenario;
  switch (stage_) {
    case Stage::settling: {
      NodeId leader = 0;
      if (!settled(&leader)) return;
      if (k.name == "disruptive") {
        stage_ = Stage::rounds;
        window_start_us_ = now_us_;
        const BroadcastStatus s = node(leader).node->status();
        start_epoch_ = s.epoch;
        serving_leader_ = {leader, s.epoch};
        trace({now_us_, "scenario", leader, s.epoch, 0, 0, "settled: rounds start"});
        scenario_step(kPartition, scenario_gen_);
        return;
      }
      if (k.diverge_logs) {
        stage_ = Stage::writing;
        crashed_ = 0;
        scenario_schedule(kWrite, now_us_ + k.settle_ms * 1000);
        return;
      }
      stage_ = Stage::waiting;
      scenario_schedule(kCrash, now_us_ + k.settle_ms * 1000 + crash_offset_us());
      return;
    }
    case Stage::writing: {
      // The leader appended the scripted write: it crashes within the window from now.
      if (crashed_ == 0 || !node(crashed_).up) return;
      if (node(crashed_).node->status().last_index <= write_from_index_) return;
      stage_ = Stage::waiting;
      scenario_schedule(kCrash, now_us_ + crash_offset_us());
      return;
    }
    case Stage::electing: {
      for (const auto& n : nodes_) {
        if (!n->up || !n->node) continue;
        const BroadcastStatus s = n->node->status();
        if (s.role != Role::leader || s.epoch <= crashed_epoch_) continue;
        if (!elected_) {
          elected_ = true;
          result_.scenario.elected_ms.push_back(ms_since(crash_us_, now_us_));
          result_.scenario.terms.push_back(s.epoch - crashed_epoch_);
          trace(
              {now_us_, "scenario", n->id, s.epoch, 0, 0,
               "elected " + std::to_string(ms_since(crash_us_, now_us_)) + " ms after the crash"});
        }
        if (s.can_propose) {
          result_.scenario.serving_ms.push_back(ms_since(crash_us_, now_us_));
          push(Event{now_us_, 0, EventKind::restart, crashed_, 0, 0, {}});
          scenario_next_trial();
        }
        return;
      }
      return;
    }
    case Stage::rounds: {
      NodeId leader = 0;
      std::uint64_t epoch = 0;
      for (const auto& n : nodes_) {
        if (!n->up || !n->node) continue;
        const BroadcastStatus s = n->node->status();
        if (s.role == Role::leader && s.can_propose && (leader == 0 || s.epoch > epoch)) {
          leader = n->id;
          epoch = s.epoch;
        }
      }
      if (leader != 0 && std::make_pair(leader, epoch) != serving_leader_) {
        ++result_.scenario.leader_changes;
        serving_leader_ = {leader, epoch};
        trace({now_us_, "scenario", leader, epoch, 0, 0, "new serving leader"});
      }
      return;
    }
    default:
      return;
  }
}

void Simulator::scenario_step(std::uint32_t kind, std::uint64_t generation) {
  const auto& k = config_.scenario;
  if (generation != scenario_gen_ || stage_ == Stage::done) return;
  switch (kind) {
    case kSettleTimeout:
      if (stage_ == Stage::settling || stage_ == Stage::writing) {
        fail("liveness", "scenario " + k.name + ": the cluster did not settle within " +
                             std::to_string(k.trial_timeout_ms) + " ms (trial " +
                             std::to_string(trial_) + ")\n" + cluster_state());
      }
      return;
    case kWrite: {
      NodeId leader = 0;
      if (stage_ != Stage::writing) return;
      if (!settled(&leader)) {
        stage_ = Stage::settling;
        return;
      }
      // Some followers will miss the write: the leader's messages to them are dropped from now
      // until it restarts.
      std::vector<NodeId> followers;
      for (int i = 1; i <= config_.nodes; ++i) {
        if (static_cast<NodeId>(i) != leader) followers.push_back(static_cast<NodeId>(i));
      }
      for (std::size_t i = followers.size() - 1; i > 0; --i)
        std::swap(followers[i], followers[scenario_rng_.uniform(i + 1)]);
      const int stale =
          static_cast<int>(scenario_rng_.uniform_range(0, config_.nodes - (config_.nodes / 2 + 1)));
      // A connected client writes once (any client, starting at a random one).
      const std::size_t first = scenario_rng_.uniform(clients_.size());
      bool wrote = false;
      for (std::size_t i = 0; i < clients_.size() && !wrote; ++i) {
        wrote = clients_[(first + i) % clients_.size()]->write_now();
      }
      if (!wrote) {  // no client connected yet: try again shortly
        scenario_schedule(kWrite, now_us_ + 10'000);
        return;
      }
      crashed_ = leader;
      write_from_index_ = node(leader).node->status().last_index;
      if (stale > 0) {
        ActiveFault f;
        f.description = "leader " + std::to_string(leader) + " cannot reach";
        for (int i = 0; i < stale; ++i) {
          f.blocked.emplace_back(leader, followers[static_cast<std::size_t>(i)]);
          f.description += " " + std::to_string(followers[static_cast<std::size_t>(i)]);
        }
        for (const auto& p : f.blocked)
          ++blocked_[p];
        stale_fault_ = next_fault_id_++;
        trace({now_us_, "partition", 0, stale_fault_, 0, 0, f.description});
        faults_.emplace(stale_fault_, std::move(f));
      }
      trace({now_us_, "scenario", leader, static_cast<std::uint64_t>(stale), 0, 0,
             "trial " + std::to_string(trial_) + ": a client writes; " + std::to_string(stale) +
                 " follower(s) miss it"});
      return;
    }
    case kCrash: {
      NodeId leader = 0;
      if (stage_ != Stage::waiting) return;
      if (k.diverge_logs) {  // the stale followers cannot be settled: the leader must still lead
        const bool leads = crashed_ != 0 && node(crashed_).up &&
                           node(crashed_).node->status().role == Role::leader;
        leader = leads ? crashed_ : 0;
      } else {
        settled(&leader);
      }
      if (leader == 0) {  // something moved meanwhile: settle again
        end_stale_block();
        stage_ = Stage::settling;
        return;
      }
      SimNode& l = node(leader);
      crashed_ = leader;
      crashed_epoch_ = l.node->status().epoch;
      crash_us_ = now_us_;
      elected_ = false;
      trace({now_us_, "scenario", leader, crashed_epoch_, 0, 0,
             "trial " + std::to_string(trial_) + ": crash the leader"});
      crash_node(l, k.crash_notifies_peers);
      stage_ = Stage::electing;
      scenario_schedule(kTrialTimeout, now_us_ + k.trial_timeout_ms * 1000);
      return;
    }
    case kTrialTimeout:
      if (stage_ != Stage::electing) return;
      ++result_.scenario.censored;
      trace({now_us_, "scenario", crashed_, crashed_epoch_, 0, 0,
             "trial " + std::to_string(trial_) + ": no serving leader in time (censored)"});
      if (elected_) result_.scenario.serving_ms.push_back(ms_since(crash_us_, now_us_));
      push(Event{now_us_, 0, EventKind::restart, crashed_, 0, 0, {}});
      scenario_next_trial();
      return;
    case kPartition: {
      // A follower of the current leader (any other voter while there is none).
      const NodeId leader = current_leader();
      std::vector<NodeId> followers;
      for (int i = 1; i <= config_.nodes; ++i) {
        if (static_cast<NodeId>(i) != leader) followers.push_back(static_cast<NodeId>(i));
      }
      const NodeId victim = followers[scenario_rng_.uniform(followers.size())];
      if (!k.baseline) {
        ActiveFault f;
        for (const auto& n : nodes_) {
          if (n->id == victim) continue;
          f.blocked.emplace_back(victim, n->id);
          f.blocked.emplace_back(n->id, victim);
        }
        f.description = "follower " + std::to_string(victim) + " cut from every replica";
        for (const auto& p : f.blocked)
          ++blocked_[p];
        partition_fault_ = next_fault_id_++;
        trace({now_us_, "partition", 0, partition_fault_,
               static_cast<std::uint64_t>(k.partition_ms), 0, f.description});
        faults_.emplace(partition_fault_, std::move(f));
        ++result_.faults;
      }
      scenario_schedule(kHeal, now_us_ + k.partition_ms * 1000);
      return;
    }
    case kHeal:
      if (!k.baseline) end_fault(partition_fault_);
      ++trial_;
      result_.scenario.trials = trial_;
      scenario_schedule(trial_ >= k.trials ? kEnd : kPartition, now_us_ + k.heal_ms * 1000);
      return;
    case kEnd:
      scenario_finish();
      return;
    default:
      return;
  }
}

std::int64_t Simulator::crash_offset_us() {
  std::int64_t window_ms = config_.scenario.crash_window_ms;
  if (window_ms <= 0) {
    auto it = config_.broadcast_params.find("heartbeat_interval_ticks");
    window_ms =
        (it != config_.broadcast_params.end() ? std::stoll(it->second) : 10) * config_.tick_ms;
  }
  return scenario_rng_.uniform_range(0, std::max<std::int64_t>(window_ms * 1000 - 1, 0));
}

void Simulator::end_stale_block() {
  if (stale_fault_ != 0) end_fault(stale_fault_);
  stale_fault_ = 0;
}

void Simulator::scenario_next_trial() {
  end_stale_block();
  ++scenario_gen_;  // a pending timeout of this trial no longer counts
  ++trial_;
  result_.scenario.trials = trial_;
  if (trial_ >= config_.scenario.trials) return scenario_finish();
  stage_ = Stage::settling;
  scenario_schedule(kSettleTimeout, now_us_ + config_.scenario.trial_timeout_ms * 1000);
}

void Simulator::scenario_finish() {
  auto& r = result_.scenario;
  if (config_.scenario.name == "disruptive") {
    r.window_ms = ms_since(window_start_us_, now_us_);
    std::uint64_t epoch = 0;
    for (const auto& n : nodes_) {
      if (n->up && n->node) epoch = std::max(epoch, n->node->status().epoch);
    }
    r.terms_gained = epoch > start_epoch_ ? epoch - start_epoch_ : 0;
    std::vector<std::int64_t> done;
    for (const auto& op : history_.ops) {
      if (counted_write(op) && op.complete_us >= window_start_us_ && op.complete_us <= now_us_) {
        done.push_back(op.complete_us);
      }
    }
    std::sort(done.begin(), done.end());
    r.writes = done.size();
    std::int64_t prev = window_start_us_;
    done.push_back(now_us_);
    const std::int64_t gap_limit = config_.scenario.unavailable_gap_ms * 1000;
    for (std::int64_t t : done) {
      const std::int64_t gap = t - prev;
      if (gap > gap_limit) r.unavailable_ms += static_cast<double>(gap) / 1000.0;
      r.max_gap_ms = std::max(r.max_gap_ms, static_cast<double>(gap) / 1000.0);
      prev = t;
    }
  }
  stage_ = Stage::done;
  phase_ = Phase::done;
  trace({now_us_, "scenario", 0, static_cast<std::uint64_t>(r.trials), 0, 0, "done"});
}

}  // namespace quorumlab::sim
