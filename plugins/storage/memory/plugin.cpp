// The `memory` storage plugin: descriptor and factory. It has no parameters.
#include <memory>

#include "memory/memory_storage.hpp"
#include "quorumlab/plugin/descriptor.hpp"

namespace {

std::vector<quorumlab::ParamSpec> schema() {
  return {};
}

std::unique_ptr<quorumlab::Storage> make(quorumlab::PluginContext&) {
  return std::make_unique<quorumlab::storage::MemoryStorage>();
}

}  // namespace

extern "C" BOOST_SYMBOL_EXPORT const quorumlab::PluginDescriptor ql_storage_memory_descriptor = {
    quorumlab::kPluginMagic,
    quorumlab::kPluginAbiVersion,
    quorumlab::PluginKind::storage,
    "memory",
    "1.0",
    "log, hard state and snapshot in RAM; flush completes at once (no disk)",
    &schema,
    nullptr,
    &make,
    nullptr,
    0,
    quorumlab::ReadGuarantee::none,
    nullptr};
QL_EXPORT_PLUGIN(ql_storage_memory_descriptor)
