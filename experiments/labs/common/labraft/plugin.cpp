// The plugin's descriptor: a broadcast plugin named "lab-raft" (Boost.DLL, the plugin ABI of
// quorumlab/plugin/descriptor.hpp). Your raft.cpp defines labraft::make_raft.
#include "labraft.hpp"

namespace labraft {
std::unique_ptr<quorumlab::Broadcast> make_raft(quorumlab::PluginContext& ctx);
}

extern "C" BOOST_SYMBOL_EXPORT const quorumlab::PluginDescriptor ql_lab_raft_descriptor = {
    quorumlab::kPluginMagic,
    quorumlab::kPluginAbiVersion,
    quorumlab::PluginKind::broadcast,
    "lab-raft",
    "lab",
    "the Raft of labs 4 and 5 (experiments/labs): elections, replication, persistence",
    &labraft::param_schema,
    &labraft::make_raft,
    nullptr,
    nullptr,
    labraft::kBarrierKinds,
    quorumlab::ReadGuarantee::none,
    nullptr};
QL_EXPORT_PLUGIN(ql_lab_raft_descriptor)
