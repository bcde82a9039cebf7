// The plugin module's descriptor: kind broadcast, name "zab".
#include "quorumlab/plugin/descriptor.hpp"
#include "quorumlab/zab/zab.hpp"

namespace {

std::vector<quorumlab::ParamSpec> schema() {
  return quorumlab::zab::param_schema();
}

std::unique_ptr<quorumlab::Broadcast> make(quorumlab::PluginContext& ctx) {
  return quorumlab::zab::make_zab(ctx);
}

}  // namespace

extern "C" BOOST_SYMBOL_EXPORT const quorumlab::PluginDescriptor ql_zab_descriptor = {
    quorumlab::kPluginMagic,
    quorumlab::kPluginAbiVersion,
    quorumlab::PluginKind::broadcast,
    "zab",
    "1.0",
    "ZooKeeper's atomic broadcast: fast leader election, discovery, DIFF/TRUNC/SNAP "
    "synchronization, quorum-ack broadcast with in-order commit",
    &schema,
    &make,
    nullptr,
    nullptr,
    quorumlab::zab::kBarrierKinds,
    quorumlab::ReadGuarantee::none,
    &quorumlab::zab::barrier_unavailable};
QL_EXPORT_PLUGIN(ql_zab_descriptor)
