// A node for the native-protocol and peer-envelope fuzz targets: one replica built by the
// kernel's own Node with the `solo` broadcast plugin and `memory` storage, loaded through the
// PluginLoader from the build's plugin directory ($QL_PLUGIN_DIR, else the directory compiled
// in as QL_FUZZ_PLUGIN_DIR). A fake environment collects what the node sends; time moves only
// when the input says so. One fresh node per input, so a crash replays from its input alone.
#pragma once

#include <dlfcn.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "quorumlab/config.hpp"
#include "quorumlab/log.hpp"
#include "quorumlab/node/node.hpp"
#include "quorumlab/plugin/loader.hpp"
#include "quorumlab/trace.hpp"

namespace quorumlab::fuzz {

class FakeEnv final : public node::NodeEnv {
 public:
  void send_peer(NodeId, Bytes) override { ++peer_messages; }
  void send_client(node::ConnId, Bytes) override { ++client_messages; }
  void close_client(node::ConnId) override { ++closed; }
  std::int64_t now_ms() override { return now; }
  std::int64_t wall_ms() override { return 1700000000000 + now; }

  std::int64_t now = 1000;
  std::size_t peer_messages = 0, client_messages = 0, closed = 0;
};

inline const PluginLoader& fuzz_loader() {
  static const PluginLoader loader = [] {
    log::configure(std::getenv("QL_FUZZ_LOG") ? std::getenv("QL_FUZZ_LOG") : "off");
    const char* env = std::getenv("QL_PLUGIN_DIR");
    const std::filesystem::path dir = env ? env : QL_FUZZ_PLUGIN_DIR;
    // Pin every plugin for the life of the process: libFuzzer keeps pointers to the coverage
    // counters of each instrumented library it saw load, and a plugin unloaded with its last
    // node would leave them dangling (a SEGV in TracePC::ClearInlineCounters).
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().extension() == ".so") ::dlopen(e.path().c_str(), RTLD_NOW | RTLD_NODELETE);
    }
    return PluginLoader(dir);
  }();
  return loader;
}

struct FuzzNode {
  FakeEnv env;
  NullTracer tracer;
  std::unique_ptr<node::Node> node;

  FuzzNode() {
    const auto& loader = fuzz_loader();
    auto cfg =
        load_config(std::nullopt, {"data_dir=" + scratch_dir("node").string(), "storage=memory",
                                   "min_session_timeout_ms=100", "max_session_timeout_ms=10000"});
    node = std::make_unique<node::Node>(cfg, loader, env, tracer);
    node->set_storage_waker([] {});
    settle();
  }

  /// Runs the node until nothing waits (memory storage completes inside flush()).
  void settle() {
    for (int i = 0; i < 1000; ++i) {
      node->on_storage_wakeup();
      node->process();
      if (node->idle()) return;
    }
    fuzz_fail("the node did not become idle after 1000 rounds");
  }

  void tick(int ms) {
    env.now += ms;
    node->on_tick();
    settle();
  }

  /// The tree's own consistency check (links, counts, digest recomputed).
  void check() {
    try {
      node->tree().check_invariants();
    } catch (const std::exception& e) {
      fuzz_fail(std::string("tree invariant broken: ") + e.what());
    }
  }
};

}  // namespace quorumlab::fuzz
