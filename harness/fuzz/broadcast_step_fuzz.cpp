// broadcast_step_fuzz: every broadcast plugin's message decoding and handling (`step` with
// arbitrary payloads from a peer).
//
// Feeds: a cluster of one plugin (zab, raft, raft-prevote, raft-cq, raft-prevote-cq; solo has
// no peers and is covered by peer_envelope_fuzz) driven by the project's ScriptedNetwork, which
// plays the kernel for each node with the kernel's Ready executor and in-memory disk. Byte 0
// picks the plugin; byte 1 the starting state: 3 voters with an elected leader and committed
// txns, 3 voters and an observer likewise, or 3 voters that have not elected anyone yet. Then
// records: a control byte (bits 0-2: the sender, 1..5, possibly not a member; bits 3-5: the
// receiver; bit 6: a round of delivery and ticks afterwards; bit 7: the payload replaces the
// body of a real in-flight message, keeping its first bytes) and a chunk, delivered to the
// receiver's step as a message from the sender.
//
// Asserts: nothing crashes (ASan/UBSan) and step never throws (the ABI: "malformed payloads
// are dropped (and logged), never thrown"). A forged message that decodes may legitimately
// mislead a crash-fault protocol, so the network's cross-node checks (InvariantViolation:
// agreement, one leader per epoch, each plugin's check_invariants) end the run without a
// failure.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "fuzz_util.hpp"
#include "quorumlab/consensus/testing/scripted_network.hpp"
#include "quorumlab/log.hpp"
#include "quorumlab/params.hpp"
#include "quorumlab/raft/raft.hpp"
#include "quorumlab/zab/zab.hpp"

using namespace quorumlab;
using consensus::testing::InvariantViolation;
using consensus::testing::ScriptedNetwork;
using quorumlab::fuzz::fuzz_fail;

namespace {

constexpr int kPlugins = 5;

std::unique_ptr<ScriptedNetwork> make(int plugin, std::size_t voters, std::size_t observers) {
  static const bool logs_off = [] {
    log::configure(std::getenv("QL_FUZZ_LOG") ? std::getenv("QL_FUZZ_LOG") : "off");
    return true;
  }();
  (void)logs_off;
  ScriptedNetwork::Options o;
  for (std::size_t i = 1; i <= voters; ++i)
    o.membership.voters.push_back(static_cast<NodeId>(i));
  for (std::size_t i = 1; i <= observers; ++i)
    o.membership.observers.push_back(static_cast<NodeId>(voters + i));
  o.trace = false;
  o.seed = 7;
  if (plugin == 0) {
    o.params = resolve_params("broadcast plugin 'zab'", zab::param_schema(), {});
    o.logger_name = "zab";
    return std::make_unique<ScriptedNetwork>([](PluginContext& ctx) { return zab::make_zab(ctx); },
                                             o);
  }
  raft::RaftConfig defaults;  // the presets of consensus/raft/src/plugin.cpp
  defaults.prevote = ((plugin - 1) & 1) != 0;
  defaults.check_quorum = ((plugin - 1) & 2) != 0;
  o.params = resolve_params("broadcast plugin 'raft'", raft::param_schema(defaults), {});
  o.logger_name = "raft";
  return std::make_unique<ScriptedNetwork>(
      [defaults](PluginContext& ctx) { return raft::make_raft(ctx, defaults); }, o);
}

/// Elects a leader and commits a few txns (the "plausible state" most messages meet).
void warm_up(ScriptedNetwork& net) {
  if (!net.run_until([&] { return net.leader().has_value(); }, 400)) {
    fuzz_fail("no leader after 400 rounds in a healthy cluster");
  }
  for (int i = 0; i < 3; ++i) {
    auto leader = net.leader();
    if (!leader) break;
    net.propose(*leader, {Bytes{'t', static_cast<std::uint8_t>('0' + i)}});
    net.round();
  }
  net.deliver_all();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const int plugin = in.byte() % kPlugins;
  const int state = in.byte() % 3;
  const std::size_t observers = state == 1 ? 1 : 0;
  auto net = make(plugin, 3, observers);
  const std::size_t members = 3 + observers;
  try {
    net->start();
    if (state != 2) warm_up(*net);
    int messages = 0;
    while (!in.empty() && messages++ < 32) {
      const std::uint8_t control = in.byte();
      Bytes payload = in.chunk();
      const auto from = static_cast<NodeId>(1 + (control & 7u) % 5);
      const auto to = static_cast<NodeId>(1 + ((control >> 3) & 7u) % members);
      if ((control & 0x80u) && !net->in_flight().empty()) {
        // Splice: a real message's first bytes (its framing) with the fuzzer's tail.
        const Bytes& real = net->in_flight().front().payload;
        Bytes spliced(real.begin(), real.begin() + static_cast<std::ptrdiff_t>(real.size() / 2));
        spliced.insert(spliced.end(), payload.begin(), payload.end());
        payload = std::move(spliced);
      }
      net->deliver(net->inject(from, to, std::move(payload)));
      if (control & 0x40u) net->round();
    }
    for (int i = 0; i < 5; ++i)
      net->round();
  } catch (const InvariantViolation&) {
    // A forged message misled the protocol (see the file comment): not a crash.
  } catch (const std::exception& e) {
    fuzz_fail(std::string("exception out of a broadcast plugin: ") + e.what());
  }
  return 0;
}
