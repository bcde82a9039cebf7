// Helpers for the zab tests: a ScriptedNetwork of zab plugins and small queries on it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quorumlab/consensus/testing/scripted_network.hpp"
#include "quorumlab/zab/wire.hpp"
#include "quorumlab/zab/zab.hpp"

namespace quorumlab::zab::test {

using consensus::testing::Envelope;
using consensus::testing::ScriptedNetwork;

/// `voters` ids 1..voters, `observers` the next ids. `params` override the defaults.
std::unique_ptr<ScriptedNetwork> make_network(std::size_t voters, std::size_t observers = 0,
                                              std::map<std::string, ParamValue> params = {},
                                              std::uint64_t seed = 1);

Bytes txn(const std::string& s);
std::string text(const Bytes& b);

ZabBroadcast& zab_of(ScriptedNetwork& net, NodeId id);

std::optional<wire::Kind> kind_of(const Envelope& e);
/// In-flight messages of one kind (from/to 0 = any), oldest first.
std::vector<std::uint64_t> in_flight(const ScriptedNetwork& net, wire::Kind kind, NodeId from = 0,
                                     NodeId to = 0);
/// Delivers every in-flight message of one kind (from/to 0 = any), each after the older
/// messages of its link (links are FIFO); returns how many of that kind.
std::size_t deliver_kind(ScriptedNetwork& net, wire::Kind kind, NodeId from = 0, NodeId to = 0);

/// One message at a time (oldest first; a tick of every node when nothing is in flight) until
/// `pred` holds. False after `max_steps`.
bool step_until(ScriptedNetwork& net, const std::function<bool()>& pred,
                std::size_t max_steps = 2000);

/// Rounds (deliver everything, tick everyone) until a leader can propose, then delivers what
/// is in flight. Returns the leader.
NodeId elect(ScriptedNetwork& net, std::size_t max_rounds = 100);
/// Rounds until every up node has applied `data`. False after max_rounds.
bool applied_everywhere(ScriptedNetwork& net, const Bytes& data, std::size_t max_rounds = 50,
                        const std::vector<NodeId>& only = {});
bool has_applied(const ScriptedNetwork& net, NodeId id, const Bytes& data);
/// Texts of the applied txns of a node.
std::vector<std::string> applied_texts(const ScriptedNetwork& net, NodeId id);

}  // namespace quorumlab::zab::test
