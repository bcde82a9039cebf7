#include "raft_test_util.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "quorumlab/log.hpp"

namespace quorumlab::raft::test {

std::unique_ptr<ScriptedNetwork> make_network(std::size_t voters, std::size_t observers,
                                              std::map<std::string, ParamValue> params,
                                              std::uint64_t seed) {
  ScriptedNetwork::Options o;
  for (std::size_t i = 1; i <= voters; ++i)
    o.membership.voters.push_back(static_cast<NodeId>(i));
  for (std::size_t i = 1; i <= observers; ++i)
    o.membership.observers.push_back(static_cast<NodeId>(voters + i));
  o.params = resolve_params("broadcast plugin 'raft'", param_schema(), params);
  o.seed = seed;
  o.logger_name = "raft";
  // QL_RAFT_LOG=info (or debug) shows the protocol's log while debugging a seed.
  const char* level = std::getenv("QL_RAFT_LOG");
  log::get("raft")->set_level(level ? spdlog::level::from_str(level) : spdlog::level::err);
  return std::make_unique<ScriptedNetwork>([](PluginContext& ctx) { return make_raft(ctx); }, o);
}

Bytes txn(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

RaftBroadcast& raft_of(ScriptedNetwork& net, NodeId id) {
  auto* r = dynamic_cast<RaftBroadcast*>(&net.plugin(id));
  if (!r) throw std::logic_error("not a raft plugin");
  return *r;
}

std::optional<wire::Message> message_of(const Envelope& e) {
  return wire::decode(e.payload);
}

std::vector<std::uint64_t> in_flight(const ScriptedNetwork& net, wire::Type type, NodeId from,
                                     NodeId to) {
  return net.messages_where([&](const Envelope& e) {
    if ((from != 0 && e.from != from) || (to != 0 && e.to != to)) return false;
    auto m = message_of(e);
    return m && m->type == type;
  });
}

void time_out(ScriptedNetwork& net, NodeId id, std::size_t max_ticks) {
  for (std::size_t i = 0; i < max_ticks; ++i) {
    net.tick(id);
    if (!in_flight(net, wire::Type::request_vote, id).empty()) return;
  }
  throw std::logic_error("node did not time out");
}

NodeId elect(ScriptedNetwork& net, std::size_t max_rounds) {
  if (!net.run_until([&] { return net.leader().has_value(); }, max_rounds)) return 0;
  net.deliver_all();
  return *net.leader();
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

}  // namespace quorumlab::raft::test
