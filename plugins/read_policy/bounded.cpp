// `bounded`: reads at most max_staleness_ms stale, the dial between `local` and `read-index`.
//
// The replica keeps the newest commit point it confirmed with a read_index barrier and the tick
// at which it asked for it (ReadInfo::confirmed): every write acknowledged before that tick is
// at or below the point. While this replica has applied the point and at most
// max_staleness_ms of real time passed since it asked, a local read sees every write
// acknowledged more than max_staleness_ms before the read began; otherwise the read takes a
// read_index barrier, which also renews the point. Real time is bounded from the node's own
// ticks and its clock drift bound: n elapsed ticks are at most (n + 1) * tick_ms / (1 - drift)
// of real time (the asking happened somewhere within its tick).
//
// Why barriers and not the leader's heartbeats: a heartbeat tells a follower the leader's
// commit point at some unknown time before it arrived (its delay has no bound), so it bounds
// nothing; a round trip the replica started does. max_staleness_ms = 0 takes a barrier for
// every read (read-index); a large bound serves nearly every read locally (local).
#include <limits>

#include "quorumlab/plugin/descriptor.hpp"

namespace {

using quorumlab::ReadInfo;
using quorumlab::ReadMechanism;

constexpr const char* kMaxStaleness = "max_staleness_ms";
__extension__ using i128 = __int128;

class BoundedPolicy final : public quorumlab::ReadPolicy {
 public:
  explicit BoundedPolicy(const quorumlab::PluginContext& ctx)
      : bound_ms_(ctx.params.get_int(kMaxStaleness)),
        tick_ms_(ctx.tick_ms > 0 ? ctx.tick_ms : 10),
        drift_ppm_(ctx.clock_drift_ppm < 0 ? 0 : ctx.clock_drift_ppm) {}

  ReadMechanism choose(const ReadInfo& info) override {
    const auto& c = info.confirmed;
    if (c.asked_at_tick >= 0 && info.applied_zxid >= c.zxid &&
        within_bound(info.now_tick - c.asked_at_tick)) {
      return ReadMechanism::local;
    }
    return ReadMechanism::read_index;
  }

  std::optional<std::int64_t> staleness_bound_ms() const override { return bound_ms_; }

 private:
  // (elapsed + 1) ticks of this clock, in real time at the slowest the bound allows, within
  // the bound: (elapsed + 1) * tick_ms * 1e6 <= bound_ms * (1e6 - drift_ppm).
  bool within_bound(std::int64_t elapsed_ticks) const {
    if (elapsed_ticks < 0) return false;
    const i128 lhs = static_cast<i128>(elapsed_ticks + 1) * tick_ms_ * 1'000'000;
    const i128 rhs = static_cast<i128>(bound_ms_) * (1'000'000 - drift_ppm_);
    return lhs <= rhs;
  }

  std::int64_t bound_ms_;
  std::int64_t tick_ms_;
  std::int64_t drift_ppm_;
};

std::vector<quorumlab::ParamSpec> params() {
  quorumlab::ParamSpec p;
  p.name = kMaxStaleness;
  p.type = quorumlab::ParamType::integer;
  p.default_value = std::int64_t{100};
  p.min = 0;
  p.max = 86'400'000;
  p.help =
      "A read sees every write acknowledged more than this many milliseconds before it began: "
      "served locally while this replica confirmed the leader's commit point (read_index) "
      "within the bound, measured with the node's clock drift bound; otherwise a read_index "
      "barrier first. 0 behaves as read-index.";
  return {p};
}

std::unique_ptr<quorumlab::ReadPolicy> make(quorumlab::PluginContext& ctx) {
  return std::make_unique<BoundedPolicy>(ctx);
}

}  // namespace

extern "C" BOOST_SYMBOL_EXPORT const quorumlab::PluginDescriptor ql_read_policy_bounded = {
    quorumlab::kPluginMagic,
    quorumlab::kPluginAbiVersion,
    quorumlab::PluginKind::read_policy,
    "bounded",
    "1.0",
    "local reads while this replica confirmed the commit point within max_staleness_ms, "
    "else a read_index barrier first",
    &params,
    nullptr,
    nullptr,
    &make,
    quorumlab::barrier_bit(quorumlab::BarrierKind::read_index),
    quorumlab::ReadGuarantee::bounded_staleness,
    nullptr};
QL_EXPORT_PLUGIN(ql_read_policy_bounded)
