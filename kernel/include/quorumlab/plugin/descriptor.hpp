// The plugin ABI: what every plugin shared library exports.
//
// A plugin library exports exactly one `PluginDescriptor` under the alias
// `quorumlab_plugin` (use QL_EXPORT_PLUGIN). The loader first reads `magic` and
// `abi_version`, which stay at the start of the struct in every ABI version, and refuses a
// mismatch before touching anything else.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/config.hpp>
#include <boost/dll/alias.hpp>

#include "quorumlab/params.hpp"
#include "quorumlab/plugin/broadcast.hpp"
#include "quorumlab/plugin/context.hpp"
#include "quorumlab/plugin/read_policy.hpp"
#include "quorumlab/plugin/storage.hpp"

namespace quorumlab {

/// Bump whenever any interface in quorumlab/plugin/ or a type it uses changes layout.
/// 2: Broadcast::peer_disconnected. 3: protocol-neutral contracts (HardState term/vote/bytes,
/// neutral roles with a sub-state, entries' epochs in CommittedTxn, four barrier kinds with a
/// failure reason, capabilities in the descriptor, no advance(), tick_ms and clock drift in
/// the context). 4: Broadcast::transfer_leadership (a virtual, so the vtable changed);
/// barrier_unavailable in the descriptor (capabilities that depend on the plugin's parameters,
/// e.g. raft's lease only with check_quorum); read-path counters in BroadcastStatus.
/// 5: Storage::set_fsync_delay (a virtual: a slow disk as a fault on real clusters).
constexpr std::uint32_t kPluginAbiVersion = 5;
constexpr std::uint32_t kPluginMagic = 0x514c4142;  // "QLAB"

enum class PluginKind : std::uint32_t { broadcast = 1, storage = 2, read_policy = 3 };
const char* to_string(PluginKind k);

struct PluginDescriptor {
  std::uint32_t magic;        ///< kPluginMagic
  std::uint32_t abi_version;  ///< kPluginAbiVersion of the headers it was built with
  PluginKind kind;
  const char* name;                    ///< unique per kind, e.g. "zab"
  const char* version;                 ///< the plugin's own version, e.g. "1.0"
  const char* summary;                 ///< one line for `qlab plugins`
  std::vector<ParamSpec> (*params)();  ///< parameter schema with defaults and help
  /// Exactly one factory is set, matching `kind`. The context outlives the object.
  std::unique_ptr<Broadcast> (*make_broadcast)(PluginContext& ctx);
  std::unique_ptr<Storage> (*make_storage)(PluginContext& ctx);
  std::unique_ptr<ReadPolicy> (*make_read_policy)(PluginContext& ctx);
  /// Capabilities (see barrier_bit()). broadcast: the barrier kinds it implements.
  /// read_policy: the barrier kinds its mechanisms need (every kind choose() may lead to).
  /// storage: 0.
  std::uint32_t barrier_kinds;
  /// read_policy: the guarantee its reads give. Others: ReadGuarantee::none.
  ReadGuarantee read_guarantee;
  /// broadcast (optional, may be null): why the plugin, with these resolved parameters, cannot
  /// serve barriers of `kind` although `barrier_kinds` lists it; empty when it can. Null: every
  /// listed kind is served with any parameters. The kernel asks before it starts a node, so a
  /// read policy that needs the kind is refused with this text (e.g. raft's lease needs
  /// check_quorum; zab's needs lease=true).
  std::string (*barrier_unavailable)(const Params& params, BarrierKind kind);
};

}  // namespace quorumlab

/// Exports `descriptor` (a namespace-scope PluginDescriptor) as this library's plugin.
#define QL_EXPORT_PLUGIN(descriptor) BOOST_DLL_ALIAS(descriptor, quorumlab_plugin)
