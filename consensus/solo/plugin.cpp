#include "solo.hpp"

namespace {

std::vector<quorumlab::ParamSpec> schema() {
  return {};
}

std::unique_ptr<quorumlab::Broadcast> make(quorumlab::PluginContext& ctx) {
  if (ctx.membership.voters.size() != 1 || !ctx.membership.observers.empty()) {
    throw quorumlab::ConfigError("broadcast plugin 'solo' runs one member only; the ensemble has " +
                                 std::to_string(ctx.membership.voters.size()) + " voters and " +
                                 std::to_string(ctx.membership.observers.size()) + " observers");
  }
  return std::make_unique<quorumlab::solo::Solo>(ctx);
}

}  // namespace

extern "C" BOOST_SYMBOL_EXPORT const quorumlab::PluginDescriptor ql_solo_descriptor = {
    quorumlab::kPluginMagic,
    quorumlab::kPluginAbiVersion,
    quorumlab::PluginKind::broadcast,
    "solo",
    "1.0",
    "one member, commits when storage says durable (unreplicated baseline)",
    &schema,
    &make,
    nullptr,
    nullptr,
    quorumlab::solo::kBarrierKinds,
    quorumlab::ReadGuarantee::none,
    nullptr};
QL_EXPORT_PLUGIN(ql_solo_descriptor)
