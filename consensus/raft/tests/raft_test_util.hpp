// Helpers for the raft tests: a ScriptedNetwork of raft plugins and small queries on it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quorumlab/consensus/testing/scripted_network.hpp"
#include "quorumlab/raft/raft.hpp"
#include "quorumlab/raft/wire.hpp"

namespace quorumlab::raft::test {

using consensus::testing::Envelope;
using consensus::testing::ScriptedNetwork;

/// `voters` ids 1..voters, `observers` (learners) the next ids. `params` override the defaults.
std::unique_ptr<ScriptedNetwork> make_network(std::size_t voters, std::size_t observers = 0,
                                              std::map<std::string, ParamValue> params = {},
                                              std::uint64_t seed = 1);

Bytes txn(const std::string& s);
RaftBroadcast& raft_of(ScriptedNetwork& net, NodeId id);
std::optional<wire::Message> message_of(const Envelope& e);
/// In-flight messages of one type (from/to 0 = any), oldest first.
std::vector<std::uint64_t> in_flight(const ScriptedNetwork& net, wire::Type type, NodeId from = 0,
                                     NodeId to = 0);
/// Ticks only `id` until it sent a RequestVote (or pre-vote); other nodes do not move.
void time_out(ScriptedNetwork& net, NodeId id, std::size_t max_ticks = 1000);
/// Rounds (deliver everything, tick everyone) until a leader can propose, then delivers what is
/// in flight. Returns the leader (0 if none).
NodeId elect(ScriptedNetwork& net, std::size_t max_rounds = 300);
bool has_applied(const ScriptedNetwork& net, NodeId id, const Bytes& data);
/// Rounds until every up node (or `only`) applied `data`.
bool applied_everywhere(ScriptedNetwork& net, const Bytes& data, std::size_t max_rounds = 100,
                        const std::vector<NodeId>& only = {});

}  // namespace quorumlab::raft::test
