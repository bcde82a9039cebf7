#include "quorumlab/consensus/testing/chaos.hpp"

#include <algorithm>
#include <set>
#include <sstream>

namespace quorumlab::consensus::testing {

namespace {

enum class Action {
  deliver_fifo,
  deliver_any,
  drop,
  duplicate,
  tick,
  propose,
  barrier,
  persist,
  toggle_persist,
  crash,
  restart,
  partition,
  heal,
  compact,
};

Bytes text_bytes(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

}  // namespace

Chaos::Chaos(ScriptedNetwork& net, std::uint64_t seed, ChaosOptions options)
    : net_(net), rng_(seed), options_(options) {
  if (options_.max_down == static_cast<std::size_t>(-1)) {
    const auto& m = net_.membership();
    options_.max_down = m.voters.size() - m.quorum_size();
  }
}

NodeId Chaos::random_node() {
  const auto& ids = net_.ids();
  return ids[static_cast<std::size_t>(rng_.uniform(ids.size()))];
}

std::size_t Chaos::down_count() const {
  std::size_t down = 0;
  for (NodeId id : net_.ids())
    down += net_.is_up(id) ? 0 : 1;
  return down;
}

void Chaos::note(std::string action) {
  recent_.push_back(std::move(action));
  while (recent_.size() > options_.history)
    recent_.pop_front();
}

std::string Chaos::recent() const {
  std::ostringstream os;
  for (const auto& a : recent_)
    os << "    " << a << "\n";
  return os.str();
}

void Chaos::run(std::size_t steps) {
  for (std::size_t i = 0; i < steps; ++i)
    step();
}

void Chaos::step() {
  const std::pair<unsigned, Action> table[] = {
      {options_.deliver_fifo, Action::deliver_fifo},
      {options_.deliver_any, Action::deliver_any},
      {options_.drop, Action::drop},
      {options_.duplicate, Action::duplicate},
      {options_.tick, Action::tick},
      {options_.propose, Action::propose},
      {options_.barrier, Action::barrier},
      {options_.persist, Action::persist},
      {options_.toggle_persist, Action::toggle_persist},
      {options_.crash, Action::crash},
      {options_.restart, Action::restart},
      {options_.partition, Action::partition},
      {options_.heal, Action::heal},
      {options_.compact, Action::compact},
  };
  std::uint64_t total = 0;
  for (const auto& [w, a] : table)
    total += w;
  std::uint64_t r = rng_.uniform(total);
  Action action = Action::tick;
  for (const auto& [w, a] : table) {
    if (r < w) {
      action = a;
      break;
    }
    r -= w;
  }
  const auto& flight = net_.in_flight();
  if (flight.size() > options_.max_in_flight &&
      (action == Action::tick || action == Action::propose || action == Action::barrier ||
       action == Action::duplicate)) {
    action = Action::deliver_fifo;
  }
  if (flight.empty() && (action == Action::deliver_fifo || action == Action::deliver_any ||
                         action == Action::drop || action == Action::duplicate)) {
    action = Action::tick;
  }

  switch (action) {
    case Action::deliver_fifo: {
      const Envelope& e = flight[static_cast<std::size_t>(rng_.uniform(flight.size()))];
      NodeId from = e.from, to = e.to;
      note("deliver oldest " + std::to_string(from) + "->" + std::to_string(to));
      net_.deliver_next(from, to);
      break;
    }
    case Action::deliver_any: {
      const Envelope& e = flight[static_cast<std::size_t>(rng_.uniform(flight.size()))];
      note("deliver out of order #" + std::to_string(e.id) + " " + std::to_string(e.from) + "->" +
           std::to_string(e.to));
      net_.deliver(e.id);
      break;
    }
    case Action::drop: {
      const Envelope& e = flight[static_cast<std::size_t>(rng_.uniform(flight.size()))];
      note("drop #" + std::to_string(e.id) + " " + std::to_string(e.from) + "->" +
           std::to_string(e.to));
      net_.drop(e.id);
      break;
    }
    case Action::duplicate: {
      const Envelope& e = flight[static_cast<std::size_t>(rng_.uniform(flight.size()))];
      note("duplicate #" + std::to_string(e.id));
      net_.duplicate(e.id);
      break;
    }
    case Action::tick: {
      NodeId id = random_node();
      note("tick " + std::to_string(id));
      net_.tick(id);
      break;
    }
    case Action::propose: {
      // Mostly at the leader, so that runs commit a lot; sometimes anywhere (rejections).
      auto leader = net_.leader();
      NodeId id = leader && rng_.chance(0.8) ? *leader : random_node();
      std::string txn = "c" + std::to_string(next_txn_++);
      note("propose " + txn + " at " + std::to_string(id));
      if (net_.propose(id, {text_bytes(txn)}).accepted) proposals_accepted_++;
      break;
    }
    case Action::barrier: {
      NodeId id = random_node();
      auto kind = rng_.chance(0.5) ? BarrierKind::sync_op : BarrierKind::read_index;
      std::uint64_t bid = next_barrier_++;
      note("barrier " + std::to_string(bid) + " at " + std::to_string(id));
      net_.request_barrier(id, bid, kind);
      break;
    }
    case Action::persist: {
      std::vector<NodeId> candidates;
      for (NodeId id : net_.ids()) {
        if (net_.is_up(id) && net_.pending_persist(id) > 0) candidates.push_back(id);
      }
      if (candidates.empty()) break;
      NodeId id = candidates[static_cast<std::size_t>(rng_.uniform(candidates.size()))];
      note("persist one batch at " + std::to_string(id));
      net_.complete_persist(id, 1);
      break;
    }
    case Action::toggle_persist: {
      NodeId id = random_node();
      bool manual = manual_.count(id) == 0;
      if (manual) {
        manual_.insert(id);
      } else {
        manual_.erase(id);
      }
      note(std::string(manual ? "manual" : "auto") + " persistence at " + std::to_string(id));
      net_.set_auto_persist(id, !manual);
      break;
    }
    case Action::crash: {
      if (down_count() >= options_.max_down) break;
      NodeId id = random_node();
      if (!net_.is_up(id)) break;
      note("crash " + std::to_string(id));
      net_.crash(id);
      break;
    }
    case Action::restart: {
      std::vector<NodeId> down;
      for (NodeId id : net_.ids()) {
        if (!net_.is_up(id)) down.push_back(id);
      }
      if (down.empty()) break;
      NodeId id = down[static_cast<std::size_t>(rng_.uniform(down.size()))];
      note("restart " + std::to_string(id));
      net_.restart(id);
      break;
    }
    case Action::partition: {
      std::vector<std::vector<NodeId>> groups(2);
      for (NodeId id : net_.ids())
        groups[static_cast<std::size_t>(rng_.uniform(2))].push_back(id);
      std::ostringstream os;
      os << "partition";
      for (const auto& g : groups) {
        os << " {";
        for (NodeId id : g)
          os << " " << id;
        os << " }";
      }
      note(os.str());
      net_.partition(groups);
      break;
    }
    case Action::heal:
      note("heal");
      net_.heal();
      break;
    case Action::compact: {
      NodeId id = random_node();
      if (!net_.is_up(id)) break;
      note("compact " + std::to_string(id));
      net_.compact(id);
      break;
    }
  }
}

std::string Chaos::heal_and_check_progress(std::size_t max_rounds) {
  note("heal everything");
  net_.heal();
  for (NodeId id : net_.ids()) {
    if (!net_.is_up(id)) net_.restart(id);
  }
  manual_.clear();
  net_.set_auto_persist_all(true);

  auto has_leader = [&] { return net_.leader().has_value(); };
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::uint64_t before = net_.steps();
    if (!net_.run_until(has_leader, max_rounds)) {
      return "no leader within " + std::to_string(max_rounds) + " rounds after healing\n" +
             net_.describe();
    }
    heal_steps_leader_ += net_.steps() - before;
    std::string txn = "progress-" + std::to_string(attempt);
    Bytes data = text_bytes(txn);
    if (!net_.propose(*net_.leader(), {data}).accepted) {
      net_.round();
      continue;
    }
    auto everywhere = [&] {
      for (NodeId id : net_.ids()) {
        const auto& applied = net_.applied(id);
        bool found = std::any_of(applied.rbegin(), applied.rend(),
                                 [&](const AppliedTxn& t) { return t.data == data; });
        if (!found) return false;
      }
      return true;
    };
    before = net_.steps();
    bool done = net_.run_until(everywhere, max_rounds);
    heal_steps_commit_ += net_.steps() - before;
    if (done) return {};
  }
  return "a proposal made after healing was not applied on every node\n" + net_.describe();
}

}  // namespace quorumlab::consensus::testing
