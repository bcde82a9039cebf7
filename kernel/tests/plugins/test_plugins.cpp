// Plugins built only for the loader tests. One source, compiled several times with different
// definitions: a good broadcast plugin, a storage plugin, one with a future ABI version, and
// a shared library that is no plugin at all.
#include <stdexcept>

#include "quorumlab/plugin/descriptor.hpp"

#ifndef QL_TEST_NOT_A_PLUGIN

namespace {

class CountingBroadcast final : public quorumlab::Broadcast {
 public:
  explicit CountingBroadcast(quorumlab::PluginContext& ctx) : limit_(ctx.params.get_int("limit")) {}
  void restore(const quorumlab::RecoveredLog&) override {}
  void set_snapshot_source(quorumlab::SnapshotSource*) override {}
  void step(const quorumlab::PeerMessage&) override {}
  void tick() override { ticks_++; }
  quorumlab::ProposeResult propose(const std::vector<quorumlab::Bytes>&) override {
    return {ticks_ < limit_, 0, 0};
  }
  void persisted(quorumlab::LogIndex) override {}
  void compacted(const quorumlab::Snapshot&) override {}
  void request_barrier(std::uint64_t, quorumlab::BarrierKind) override {}
  bool has_ready() const override { return false; }
  quorumlab::Ready ready() override { return {}; }
  quorumlab::BroadcastStatus status() const override { return {}; }
  std::string check_invariants() override { return {}; }

 private:
  std::int64_t limit_;
  std::int64_t ticks_ = 0;
};

std::vector<quorumlab::ParamSpec> schema() {
  using quorumlab::ParamType;
  return {
      {"limit", ParamType::integer, std::int64_t{3}, "ticks before refusing proposals", 0, 100, {}},
      {"mode", ParamType::string, std::string("fast"), "a choice", {}, {}, {"fast", "slow"}},
      {"ratio", ParamType::real, 0.5, "a real", 0.0, 1.0, {}},
  };
}

std::unique_ptr<quorumlab::Broadcast> make(quorumlab::PluginContext& ctx) {
  return std::make_unique<CountingBroadcast>(ctx);
}

}  // namespace

#ifndef QL_TEST_ABI
#define QL_TEST_ABI quorumlab::kPluginAbiVersion
#endif

#ifdef QL_TEST_ABI2_LAYOUT
// A plugin as ABI 2 built it: the descriptor without the capability fields of ABI 3.
struct DescriptorAbi2 {
  std::uint32_t magic;
  std::uint32_t abi_version;
  quorumlab::PluginKind kind;
  const char* name;
  const char* version;
  const char* summary;
  std::vector<quorumlab::ParamSpec> (*params)();
  std::unique_ptr<quorumlab::Broadcast> (*make_broadcast)(quorumlab::PluginContext& ctx);
  void* make_storage;
  void* make_read_policy;
};
extern "C" BOOST_SYMBOL_EXPORT const DescriptorAbi2 ql_test_descriptor = {
    quorumlab::kPluginMagic,
    2,
    quorumlab::PluginKind::broadcast,
    "test-abi2",
    "0.1",
    "a broadcast plugin built against ABI 2",
    &schema,
    &make,
    nullptr,
    nullptr};
#else
#ifndef QL_TEST_NAME
#define QL_TEST_NAME "test-counting"
#endif

extern "C" BOOST_SYMBOL_EXPORT const quorumlab::PluginDescriptor ql_test_descriptor = {
    quorumlab::kPluginMagic,
    QL_TEST_ABI,
    quorumlab::PluginKind::broadcast,
    QL_TEST_NAME,
    "0.1",
    "a broadcast plugin for loader tests",
    &schema,
    &make,
    nullptr,
    nullptr,
    quorumlab::barrier_bit(quorumlab::BarrierKind::sync_op),
    quorumlab::ReadGuarantee::none,
    nullptr};
#endif
QL_EXPORT_PLUGIN(ql_test_descriptor)

#else

extern "C" BOOST_SYMBOL_EXPORT int ql_not_a_plugin() {
  return 42;
}

#endif
