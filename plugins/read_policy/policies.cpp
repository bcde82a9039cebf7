// The read-policy plugins. Each is tiny: the kernel implements the mechanisms (local read
// after the session's last zxid is applied, sync_op barrier, forwarding to the leader,
// read-index barrier, lease) and a policy only chooses one per read. One source file, built
// once per policy with QL_POLICY selecting which descriptor the library exports.
#include "quorumlab/plugin/descriptor.hpp"

namespace {

using quorumlab::ReadInfo;
using quorumlab::ReadMechanism;

/// Serves every read with one fixed mechanism.
class FixedPolicy final : public quorumlab::ReadPolicy {
 public:
  explicit FixedPolicy(ReadMechanism m) : mechanism_(m) {}
  ReadMechanism choose(const ReadInfo&) override { return mechanism_; }

 private:
  ReadMechanism mechanism_;
};

std::vector<quorumlab::ParamSpec> no_params() {
  return {};
}

template <ReadMechanism M>
std::unique_ptr<quorumlab::ReadPolicy> make(quorumlab::PluginContext&) {
  return std::make_unique<FixedPolicy>(M);
}

}  // namespace

#define QL_POLICY_DESCRIPTOR(NAME, MECH, SUMMARY)                                     \
  extern "C" BOOST_SYMBOL_EXPORT const quorumlab::PluginDescriptor ql_read_policy = { \
      quorumlab::kPluginMagic,                                                        \
      quorumlab::kPluginAbiVersion,                                                   \
      quorumlab::PluginKind::read_policy,                                             \
      NAME,                                                                           \
      "1.0",                                                                          \
      SUMMARY,                                                                        \
      &no_params,                                                                     \
      nullptr,                                                                        \
      nullptr,                                                                        \
      &make<ReadMechanism::MECH>};                                                    \
  QL_EXPORT_PLUGIN(ql_read_policy)

#if QL_POLICY == 1
QL_POLICY_DESCRIPTOR("local", local,
                     "local state once the session's last zxid is applied (ZooKeeper's reads)")
#elif QL_POLICY == 2
QL_POLICY_DESCRIPTOR("sync", sync_barrier,
                     "a sync_op barrier through the leader, then a local read")
#elif QL_POLICY == 3
QL_POLICY_DESCRIPTOR("leader", leader, "forward every read to the leader, no quorum check")
#elif QL_POLICY == 4
QL_POLICY_DESCRIPTOR("read-index", read_index,
                     "leader confirms leadership with a quorum round, read at its commit point")
#elif QL_POLICY == 5
QL_POLICY_DESCRIPTOR("lease", lease, "the leader serves while its lease holds; others forward")
#else
#error "QL_POLICY must select a policy"
#endif
