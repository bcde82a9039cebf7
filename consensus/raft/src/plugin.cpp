// The plugin module's descriptor. One protocol library (ql_raft), one module per preset: the
// presets differ only in their parameter defaults, chosen by QL_RAFT_PRESET at build time
//   0 raft             the thesis baseline: no PreVote, no CheckQuorum
//   1 raft-prevote     PreVote (9.6)
//   2 raft-cq          CheckQuorum (6.2, 4.2.3)
//   3 raft-prevote-cq  both
// Every parameter can still be set explicitly, so `raft` with prevote=true is raft-prevote.
#include "quorumlab/plugin/descriptor.hpp"
#include "quorumlab/raft/raft.hpp"

#ifndef QL_RAFT_PRESET
#define QL_RAFT_PRESET 0
#endif

namespace {

constexpr bool kPrevote = (QL_RAFT_PRESET & 1) != 0;
constexpr bool kCheckQuorum = (QL_RAFT_PRESET & 2) != 0;
constexpr const char* kNames[] = {"raft", "raft-prevote", "raft-cq", "raft-prevote-cq"};

quorumlab::raft::RaftConfig defaults() {
  quorumlab::raft::RaftConfig c;
  c.prevote = kPrevote;
  c.check_quorum = kCheckQuorum;
  return c;
}

std::vector<quorumlab::ParamSpec> schema() {
  return quorumlab::raft::param_schema(defaults());
}

std::unique_ptr<quorumlab::Broadcast> make(quorumlab::PluginContext& ctx) {
  return quorumlab::raft::make_raft(ctx, defaults());
}

}  // namespace

extern "C" BOOST_SYMBOL_EXPORT const quorumlab::PluginDescriptor ql_raft_descriptor = {
    quorumlab::kPluginMagic,
    quorumlab::kPluginAbiVersion,
    quorumlab::PluginKind::broadcast,
    kNames[QL_RAFT_PRESET],
    "1.0",
    "Raft (Ongaro's thesis): randomized elections, AppendEntries with fast backtracking, "
    "chunked InstallSnapshot, read-index barriers; presets differ in prevote/check_quorum",
    &schema,
    &make,
    nullptr,
    nullptr,
    quorumlab::raft::kBarrierKinds,
    quorumlab::ReadGuarantee::none,
    &quorumlab::raft::barrier_unavailable};
QL_EXPORT_PLUGIN(ql_raft_descriptor)
