// The nemesis: during the safety phase it injects one fault at a time at random intervals,
// each ending on its own (partitions heal, crashed replicas restart, paused ones resume).
#include <algorithm>

#include "simulator_impl.hpp"

namespace quorumlab::sim {

void Simulator::nemesis() {
  if (phase_ != Phase::safety) return;
  using Inject = void (Simulator::*)();
  std::vector<Inject> choices;
  if (config_.partition.enabled) choices.push_back(&Simulator::inject_partition);
  if (config_.crash.enabled) choices.push_back(&Simulator::inject_crash);
  if (config_.pause.enabled) choices.push_back(&Simulator::inject_pause);
  if (config_.clock.jumps_enabled) choices.push_back(&Simulator::inject_clock_jump);
  if (config_.disk.slow_enabled) choices.push_back(&Simulator::inject_slow_disk);
  if (config_.transfer.enabled) choices.push_back(&Simulator::inject_transfer);
  if (choices.empty()) return;
  (this->*choices[nemesis_rng_.uniform(choices.size())])();
  const auto wait = static_cast<std::int64_t>(
      nemesis_rng_.exponential(static_cast<double>(config_.nemesis.interval_mean_ms) * 1000));
  push(Event{now_us_ + 1 + wait, 0, EventKind::nemesis, 0, 0, 0, {}});
}

NodeId Simulator::current_leader() const {
  NodeId leader = 0;
  std::uint64_t epoch = 0;
  for (const auto& n : nodes_) {
    if (!n->up || !n->node) continue;
    const BroadcastStatus s = n->node->status();
    if (s.role == Role::leader && (leader == 0 || s.epoch > epoch)) {
      leader = n->id;
      epoch = s.epoch;
    }
  }
  return leader;
}

int Simulator::down_count() const {
  int down = 0;
  for (const auto& n : nodes_)
    down += (!n->up || n->paused) ? 1 : 0;
  return down;
}

std::vector<NodeId> Simulator::up_nodes() const {
  std::vector<NodeId> out;
  for (const auto& n : nodes_) {
    if (n->up && !n->paused) out.push_back(n->id);
  }
  return out;
}

void Simulator::inject_partition() {
  const auto& k = config_.partition;
  const int n = static_cast<int>(nodes_.size());
  const NodeId leader = current_leader();
  enum Kind { symmetric, asymmetric, isolate_leader, majority_minority, client, kinds };
  int weights[kinds] = {n >= 2 ? k.weight_symmetric : 0, n >= 2 ? k.weight_asymmetric : 0,
                        leader != 0 ? k.weight_isolate_leader : 0,
                        n >= 3 ? k.weight_majority_minority : 0,
                        clients_.empty() ? 0 : k.weight_client};
  int total = 0;
  for (int w : weights)
    total += w;
  if (total <= 0) return;
  int pick = static_cast<int>(nemesis_rng_.uniform(static_cast<std::uint64_t>(total)));
  int kind = 0;
  while (pick >= weights[kind])
    pick -= weights[kind++];

  ActiveFault f;
  auto both = [&](std::uint32_t a, std::uint32_t b) {
    f.blocked.emplace_back(a, b);
    f.blocked.emplace_back(b, a);
  };
  auto node_at = [&](std::uint64_t i) { return static_cast<NodeId>(i + 1); };
  std::vector<NodeId> ids;
  for (int i = 1; i <= n; ++i)
    ids.push_back(static_cast<NodeId>(i));
  switch (kind) {
    case symmetric:
    case majority_minority: {
      // Fisher-Yates with our RNG, then the first `side` nodes form one side.
      for (std::size_t i = ids.size() - 1; i > 0; --i) {
        std::swap(ids[i], ids[nemesis_rng_.uniform(i + 1)]);
      }
      const auto side = kind == symmetric
                            ? static_cast<std::size_t>(nemesis_rng_.uniform_range(1, n - 1))
                            : static_cast<std::size_t>(nemesis_rng_.uniform_range(1, (n - 1) / 2));
      for (std::size_t i = 0; i < side; ++i) {
        for (std::size_t j = side; j < ids.size(); ++j)
          both(ids[i], ids[j]);
      }
      f.description = std::string(kind == symmetric ? "split" : "minority") + " {";
      for (std::size_t i = 0; i < side; ++i)
        f.description += (i ? "," : "") + std::to_string(ids[i]);
      f.description += "} from the rest";
      break;
    }
    case asymmetric: {
      const NodeId a = node_at(nemesis_rng_.uniform(static_cast<std::uint64_t>(n)));
      NodeId b = node_at(nemesis_rng_.uniform(static_cast<std::uint64_t>(n - 1)));
      if (b >= a) ++b;
      f.blocked.emplace_back(a, b);
      f.description = "one way: " + std::to_string(a) + " cannot send to " + std::to_string(b);
      break;
    }
    case isolate_leader: {
      for (NodeId other : ids) {
        if (other != leader) both(leader, other);
      }
      for (std::size_t c = 0; c < clients_.size(); ++c)
        both(leader, client_endpoint(static_cast<int>(c)));
      f.description = "leader " + std::to_string(leader) + " isolated from replicas and clients";
      break;
    }
    default: {
      const int c = static_cast<int>(nemesis_rng_.uniform(clients_.size()));
      const NodeId a = node_at(nemesis_rng_.uniform(static_cast<std::uint64_t>(n)));
      both(a, client_endpoint(c));
      f.description = "client " + std::to_string(c) + " cut from node " + std::to_string(a);
      break;
    }
  }
  const std::int64_t duration_ms = nemesis_rng_.uniform_range(k.duration_min_ms, k.duration_max_ms);
  for (const auto& p : f.blocked)
    ++blocked_[p];
  const std::uint64_t id = next_fault_id_++;
  trace({now_us_, "partition", 0, id, static_cast<std::uint64_t>(duration_ms), 0, f.description});
  faults_.emplace(id, std::move(f));
  ++result_.faults;
  push(Event{now_us_ + duration_ms * 1000, 0, EventKind::fault_end, 0, 0, id, {}});
}

void Simulator::end_fault(std::uint64_t id) {
  auto it = faults_.find(id);
  if (it == faults_.end()) return;
  for (const auto& p : it->second.blocked) {
    auto b = blocked_.find(p);
    if (b != blocked_.end() && --b->second <= 0) blocked_.erase(b);
  }
  trace({now_us_, "heal_partition", 0, id, 0, 0, it->second.description});
  faults_.erase(it);
}

void Simulator::inject_crash() {
  const auto& k = config_.crash;
  const int max_down = config_.nemesis.max_down;
  if (max_down >= 0 && down_count() >= max_down) return;
  std::vector<NodeId> candidates;
  for (const auto& n : nodes_) {
    if (n->up) candidates.push_back(n->id);
  }
  if (candidates.empty()) return;
  SimNode& n = node(candidates[nemesis_rng_.uniform(candidates.size())]);
  crash_node(n);
  ++result_.faults;
  const std::int64_t down_ms = nemesis_rng_.uniform_range(k.downtime_min_ms, k.downtime_max_ms);
  push(Event{now_us_ + down_ms * 1000, 0, EventKind::restart, n.id, 0, 0, {}});
}

void Simulator::inject_pause() {
  const auto& k = config_.pause;
  const int max_down = config_.nemesis.max_down;
  if (max_down >= 0 && down_count() >= max_down) return;
  std::vector<NodeId> candidates = up_nodes();
  if (candidates.empty()) return;
  SimNode& n = node(candidates[nemesis_rng_.uniform(candidates.size())]);
  n.paused = true;
  ++n.tick_chain;
  ++result_.faults;
  const std::int64_t ms = nemesis_rng_.uniform_range(k.duration_min_ms, k.duration_max_ms);
  trace({now_us_, "pause", n.id, static_cast<std::uint64_t>(ms), 0, 0, {}});
  push(Event{now_us_ + ms * 1000, 0, EventKind::resume, n.id, 0, 0, {}});
}

void Simulator::inject_clock_jump() {
  const auto& k = config_.clock;
  SimNode& n = node(static_cast<NodeId>(nemesis_rng_.uniform(nodes_.size()) + 1));
  const std::int64_t wall_ms = nemesis_rng_.uniform_range(-k.jump_max_ms, k.jump_max_ms);
  n.wall_offset_us += wall_ms * 1000;
  std::int64_t mono_ms = 0;
  if (nemesis_rng_.chance(0.5)) {
    mono_ms = nemesis_rng_.uniform_range(0, std::max<std::int64_t>(k.jump_max_ms / 2, 0));
    n.mono_offset_us += mono_ms * 1000;
    n.mono_jumps.emplace_back(now_us_, mono_ms * 1000);
    if (n.up && !n.paused) {  // the runtime ticks at once when it finds the tick overdue
      ++n.tick_chain;
      schedule_tick(n, now_us_);
    }
  }
  ++result_.faults;
  trace({now_us_, "clock_jump", n.id, static_cast<std::uint64_t>(mono_ms),
         static_cast<std::uint64_t>(wall_ms), 0,
         "wall " + std::to_string(wall_ms) + " ms, monotonic +" + std::to_string(mono_ms) + " ms"});
}

void Simulator::inject_slow_disk() {
  const auto& k = config_.disk;
  SimNode& n = node(static_cast<NodeId>(nemesis_rng_.uniform(nodes_.size()) + 1));
  const std::int64_t ms =
      nemesis_rng_.uniform_range(100, std::max<std::int64_t>(k.slow_duration_max_ms, 100));
  n.slow_disk_until_us = now_us_ + ms * 1000;
  ++result_.faults;
  trace({now_us_, "slow_disk", n.id, static_cast<std::uint64_t>(ms), 0, 0, {}});
}

void Simulator::inject_transfer() {
  const NodeId leader = current_leader();
  if (leader == 0) return;
  SimNode& l = node(leader);
  if (l.paused) return;
  std::vector<NodeId> candidates;
  for (NodeId id : up_nodes()) {
    if (id != leader && static_cast<int>(id) <= config_.nodes) candidates.push_back(id);
  }
  if (candidates.empty()) return;
  const NodeId target = candidates[nemesis_rng_.uniform(candidates.size())];
  const TransferResult r = l.node->transfer_leadership(target);
  l.node->process();
  ++result_.faults;
  if (r.status == TransferStatus::started) ++result_.transfers;
  trace({now_us_, "transfer", leader, target, static_cast<std::uint64_t>(r.status), 0,
         to_string(r.status)});
}

void Simulator::heal_everything() {
  blocked_.clear();
  faults_.clear();
  for (auto& n : nodes_) {
    n->slow_disk_until_us = 0;
    if (!n->up) {
      start_node(*n);
    } else if (n->paused) {
      Event e;
      e.at_us = now_us_;
      e.kind = EventKind::resume;
      e.node = n->id;
      dispatch(e);
    }
  }
}

}  // namespace quorumlab::sim
