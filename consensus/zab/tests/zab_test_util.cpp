#include "zab_test_util.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "quorumlab/log.hpp"

namespace quorumlab::zab::test {

std::unique_ptr<ScriptedNetwork> make_network(std::size_t voters, std::size_t observers,
                                              std::map<std::string, ParamValue> params,
                                              std::uint64_t seed) {
  ScriptedNetwork::Options o;
  for (std::size_t i = 1; i <= voters; ++i)
    o.membership.voters.push_back(static_cast<NodeId>(i));
  for (std::size_t i = 1; i <= observers; ++i) {
    o.membership.observers.push_back(static_cast<NodeId>(voters + i));
  }
  o.params = resolve_params("broadcast plugin 'zab'", param_schema(), params);
  o.seed = seed;
  o.logger_name = "zab";
  // QL_ZAB_LOG=info (or debug) shows the protocol's log while debugging a seed.
  const char* level = std::getenv("QL_ZAB_LOG");
  log::get("zab")->set_level(level ? spdlog::level::from_str(level) : spdlog::level::warn);
  auto net = std::make_unique<ScriptedNetwork>(
      [](PluginContext& ctx) { return std::make_unique<ZabBroadcast>(ctx); }, o);
  return net;
}

Bytes txn(const std::string& s) {
  return Bytes(s.begin(), s.end());
}
std::string text(const Bytes& b) {
  return std::string(b.begin(), b.end());
}

ZabBroadcast& zab_of(ScriptedNetwork& net, NodeId id) {
  auto* z = dynamic_cast<ZabBroadcast*>(&net.plugin(id));
  if (!z) throw std::logic_error("not a zab plugin");
  return *z;
}

std::optional<wire::Kind> kind_of(const Envelope& e) {
  return wire::peek_kind(e.payload);
}

std::vector<std::uint64_t> in_flight(const ScriptedNetwork& net, wire::Kind kind, NodeId from,
                                     NodeId to) {
  return net.messages_where([&](const Envelope& e) {
    return (from == 0 || e.from == from) && (to == 0 || e.to == to) && kind_of(e) == kind;
  });
}

std::size_t deliver_kind(ScriptedNetwork& net, wire::Kind kind, NodeId from, NodeId to) {
  std::size_t n = 0;
  for (;;) {
    auto ids = in_flight(net, kind, from, to);
    if (ids.empty()) return n;
    // Links are FIFO (as TCP or ZeroMQ): older messages on the same link go first.
    const Envelope* target = net.find(ids.front());
    NodeId f = target->from, t = target->to;
    for (;;) {
      auto link = net.messages(f, t);
      std::uint64_t id = link.front();
      net.deliver(id);
      if (id == ids.front()) break;
    }
    n++;
  }
}

bool step_until(ScriptedNetwork& net, const std::function<bool()>& pred, std::size_t max_steps) {
  for (std::size_t i = 0; i < max_steps; ++i) {
    if (pred()) return true;
    if (net.in_flight().empty()) {
      net.tick_all();
    } else {
      net.deliver(net.in_flight().front().id);
    }
  }
  return pred();
}

NodeId elect(ScriptedNetwork& net, std::size_t max_rounds) {
  if (!net.run_until([&] { return net.leader().has_value(); }, max_rounds)) {
    throw std::runtime_error("no leader elected:\n" + net.describe());
  }
  NodeId leader = *net.leader();
  net.deliver_all();  // UPTODATE and friends: leave a quiet network behind
  return leader;
}

bool has_applied(const ScriptedNetwork& net, NodeId id, const Bytes& data) {
  const auto& a = net.applied(id);
  return std::any_of(a.begin(), a.end(), [&](const auto& t) { return t.data == data; });
}

bool applied_everywhere(ScriptedNetwork& net, const Bytes& data, std::size_t max_rounds,
                        const std::vector<NodeId>& only) {
  auto done = [&] {
    const auto& ids = only.empty() ? net.ids() : only;
    for (NodeId id : ids) {
      if (net.is_up(id) && !has_applied(net, id, data)) return false;
    }
    return true;
  };
  return net.run_until(done, max_rounds);
}

std::vector<std::string> applied_texts(const ScriptedNetwork& net, NodeId id) {
  std::vector<std::string> out;
  for (const auto& t : net.applied(id))
    out.push_back(text(t.data));
  return out;
}

}  // namespace quorumlab::zab::test
