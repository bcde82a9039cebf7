// The five fixed read policies: each serves every read with one mechanism. The kernel implements
// the mechanisms (a local read after the session's last zxid is applied, or a barrier of one
// kind: sync_op, leader_commit, read_index, lease; see quorumlab/plugin/read_policy.hpp), so a
// fixed policy is only its choice and its declaration: the barrier kind it needs and the
// guarantee it gives, which the simulator checks. One source, one library per policy
// (QL_POLICY selects the descriptor a library exports). A policy that decides per read lives
// in its own file: bounded.cpp.
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

#define QL_POLICY_DESCRIPTOR(NAME, MECH, GUARANTEE, SUMMARY)                          \
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
      &make<ReadMechanism::MECH>,                                                     \
      quorumlab::barrier_bit_for(ReadMechanism::MECH),                                \
      quorumlab::ReadGuarantee::GUARANTEE,                                            \
      nullptr};                                                                       \
  QL_EXPORT_PLUGIN(ql_read_policy)

#if QL_POLICY == 1
QL_POLICY_DESCRIPTOR("local", local, ordered_sequential,
                     "local state once the session's last zxid is applied (ZooKeeper's reads)")
#elif QL_POLICY == 2
QL_POLICY_DESCRIPTOR("sync", sync_barrier, ordered_sequential,
                     "a sync_op barrier through the leader, then a local read")
#elif QL_POLICY == 3
QL_POLICY_DESCRIPTOR("leader", leader, ordered_sequential,
                     "the leader's commit point without a quorum round, then a local read")
#elif QL_POLICY == 4
QL_POLICY_DESCRIPTOR("read-index", read_index, linearizable,
                     "leader confirms leadership with a quorum round, read at its commit point")
#elif QL_POLICY == 5
QL_POLICY_DESCRIPTOR("lease", lease, linearizable_if_clocks_bounded,
                     "the leader's commit point while its lease holds, then a local read")
#else
#error "QL_POLICY must select a policy"
#endif
