// DataTree benchmarks (run on one core):
//   ql_tree_bench --benchmark_counters_tabular=true
// Targets: >= 2M getData/s and >= 500k setData applies/s on a 100k-node tree; snapshot of 1M
// nodes with 100-byte data < 1 s; < 300 bytes per node beyond name and data.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <memory>
#include <string>
#include <vector>

#include "quorumlab/sm/data_tree.hpp"
#include "quorumlab/sm/txn.hpp"

namespace quorumlab::sm {
namespace {

constexpr int kChildrenPerParent = 1000;
const AuthInfo kAuth{{Id{"ip", "127.0.0.1"}}, false};

std::string child_path(int i) {
  return "/n" + std::to_string(i / kChildrenPerParent) + "/c" +
         std::to_string(i % kChildrenPerParent);
}

Txn create_txn(std::string path, std::size_t data_bytes) {
  return Txn{TxnHeader{1, 0, 1000, kAuth},
             CreateOp{std::move(path), Bytes(data_bytes, 'd'), open_acl_unsafe(), 0, -1}};
}

/// A tree with `nodes` leaves of `data_bytes` under parents of 1000 children each.
std::unique_ptr<DataTree> build_tree(int nodes, std::size_t data_bytes, Zxid* zxid) {
  auto tree = std::make_unique<DataTree>();
  for (int p = 0; p * kChildrenPerParent < nodes; ++p) {
    tree->apply(create_txn("/n" + std::to_string(p), 0), ++*zxid, nullptr);
  }
  for (int i = 0; i < nodes; ++i)
    tree->apply(create_txn(child_path(i), data_bytes), ++*zxid, nullptr);
  return tree;
}

struct Tree100k {
  Zxid zxid = 0;
  std::unique_ptr<DataTree> tree = build_tree(100000, 100, &zxid);
  std::vector<std::string> paths;
  Tree100k() {
    // A fixed pseudo-random order so lookups are not cache-friendly by construction.
    for (int i = 0; i < 100000; ++i)
      paths.push_back(child_path(static_cast<int>((i * 7919ull) % 100000)));
  }
};
Tree100k& tree100k() {
  static Tree100k t;
  return t;
}

void BM_GetData(benchmark::State& state) {
  Tree100k& t = tree100k();
  Bytes data;
  Stat stat;
  std::size_t i = 0;
  for (auto _ : state) {
    Err e = t.tree->get_data(t.paths[i], kAuth, &data, &stat);
    benchmark::DoNotOptimize(e);
    if (++i == t.paths.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetData);

void BM_Exists(benchmark::State& state) {
  Tree100k& t = tree100k();
  Stat stat;
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(t.tree->exists(t.paths[i], kAuth, &stat));
    if (++i == t.paths.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Exists);

void BM_SetDataApply(benchmark::State& state) {
  Tree100k& t = tree100k();
  std::vector<Txn> txns;
  for (int i = 0; i < 4096; ++i) {
    txns.push_back(Txn{TxnHeader{1, i, 2000, kAuth},
                       SetDataOp{t.paths[static_cast<std::size_t>(i) * 13 % t.paths.size()],
                                 Bytes(100, static_cast<std::uint8_t>(i)), -1}});
  }
  std::vector<WatchTrigger> triggers;
  std::size_t i = 0;
  for (auto _ : state) {
    triggers.clear();
    TxnResult r = t.tree->apply(txns[i], ++t.zxid, &triggers);
    benchmark::DoNotOptimize(r);
    if (++i == txns.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SetDataApply);

void BM_CreateDeleteApply(benchmark::State& state) {
  Tree100k& t = tree100k();
  std::vector<Txn> creates, deletes;
  for (int i = 0; i < 1024; ++i) {
    const std::string p = "/n" + std::to_string(i % 100) + "/tmp" + std::to_string(i);
    creates.push_back(create_txn(p, 100));
    deletes.push_back(Txn{TxnHeader{1, 0, 1000, kAuth}, DeleteOp{p, -1}});
  }
  std::vector<WatchTrigger> triggers;
  std::size_t i = 0;
  for (auto _ : state) {
    triggers.clear();
    benchmark::DoNotOptimize(t.tree->apply(creates[i], ++t.zxid, &triggers));
    benchmark::DoNotOptimize(t.tree->apply(deletes[i], ++t.zxid, &triggers));
    if (++i == creates.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations() * 2);
  state.SetLabel("items = create + delete txns");
}
BENCHMARK(BM_CreateDeleteApply);

void BM_GetChildren10k(benchmark::State& state) {
  static Zxid zxid = 0;
  static std::unique_ptr<DataTree> tree = [] {
    auto t = std::make_unique<DataTree>();
    t->apply(create_txn("/wide", 0), ++zxid, nullptr);
    for (int i = 0; i < 10000; ++i) {
      // Random-looking names, so the answer needs a real sort.
      t->apply(create_txn("/wide/m" + std::to_string((i * 7919) % 10000), 0), ++zxid, nullptr);
    }
    return t;
  }();
  std::vector<std::string> children;
  for (auto _ : state) {
    benchmark::DoNotOptimize(tree->get_children("/wide", kAuth, &children, nullptr));
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["children"] = static_cast<double>(children.size());
}
BENCHMARK(BM_GetChildren10k)->Unit(benchmark::kMicrosecond);

// The same read when a child changed since the last one (no cached answer): each iteration
// applies a create and a delete under the node, then lists it.
void BM_GetChildren10kAfterChange(benchmark::State& state) {
  static Zxid zxid = 0;
  static std::unique_ptr<DataTree> tree = [] {
    auto t = std::make_unique<DataTree>();
    t->apply(create_txn("/wide", 0), ++zxid, nullptr);
    for (int i = 0; i < 10000; ++i) {
      t->apply(create_txn("/wide/m" + std::to_string((i * 7919) % 10000), 0), ++zxid, nullptr);
    }
    return t;
  }();
  const Txn create = create_txn("/wide/extra", 0);
  const Txn remove{TxnHeader{1, 0, 1000, kAuth}, DeleteOp{"/wide/extra", -1}};
  std::vector<std::string> children;
  for (auto _ : state) {
    tree->apply(create, ++zxid, nullptr);
    tree->apply(remove, ++zxid, nullptr);
    benchmark::DoNotOptimize(tree->get_children("/wide", kAuth, &children, nullptr));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetChildren10kAfterChange)->Unit(benchmark::kMicrosecond);

void BM_ApplyEncodedMixedStream(benchmark::State& state) {
  Tree100k& t = tree100k();
  // 40% setData, 20% create, 20% delete (of those creates), 10% multi, 10% check.
  std::vector<Bytes> stream;
  for (int i = 0; i < 2000; ++i) {
    const std::string p = "/n" + std::to_string(i % 100) + "/mix" + std::to_string(i);
    const std::string& existing = t.paths[static_cast<std::size_t>(i) * 31 % t.paths.size()];
    const TxnHeader h{1, i, 3000, kAuth};
    stream.push_back(encode(Txn{h, SetDataOp{existing, Bytes(100, 'x'), -1}}));
    stream.push_back(encode(create_txn(p, 100)));
    stream.push_back(encode(Txn{h, SetDataOp{existing, Bytes(100, 'y'), -1}}));
    stream.push_back(
        encode(Txn{h, MultiOp{{CheckOp{existing, -1}, SetDataOp{p, Bytes(10, 'z'), -1}}}}));
    stream.push_back(encode(Txn{h, CheckOp{existing, -1}}));
    stream.push_back(encode(Txn{h, SetDataOp{existing, Bytes(100, 'w'), -1}}));
    stream.push_back(encode(Txn{h, SetDataOp{existing, Bytes(100, 'v'), -1}}));
    stream.push_back(encode(Txn{h, DeleteOp{p, -1}}));
    stream.push_back(encode(create_txn(p + "b", 100)));
    stream.push_back(encode(Txn{h, DeleteOp{p + "b", -1}}));
  }
  std::vector<WatchTrigger> triggers;
  std::size_t i = 0;
  for (auto _ : state) {
    triggers.clear();
    auto txn = decode(stream[i], nullptr);
    TxnResult r = t.tree->apply(*txn, ++t.zxid, &triggers);
    benchmark::DoNotOptimize(r);
    if (++i == stream.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ApplyEncodedMixedStream);

struct Tree1M {
  Zxid zxid = 0;
  std::unique_ptr<DataTree> tree = build_tree(1000000, 100, &zxid);
};
Tree1M& tree1m() {
  static Tree1M t;
  return t;
}

void BM_Snapshot1M(benchmark::State& state) {
  Tree1M& t = tree1m();
  std::size_t bytes = 0;
  for (auto _ : state) {
    Bytes snap = t.tree->serialize();
    bytes = snap.size();
    benchmark::DoNotOptimize(snap.data());
  }
  state.counters["nodes"] = static_cast<double>(t.tree->node_count());
  state.counters["snapshot_MB"] = static_cast<double>(bytes) / (1 << 20);
}
BENCHMARK(BM_Snapshot1M)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Restore1M(benchmark::State& state) {
  Tree1M& t = tree1m();
  const Bytes snap = t.tree->serialize();
  for (auto _ : state) {
    auto restored = DataTree::restore(snap.data(), snap.size(), nullptr);
    if (!restored || restored->digest() != t.tree->digest()) state.SkipWithError("restore failed");
    state.PauseTiming();
    restored.reset();  // freeing is not part of restore
    state.ResumeTiming();
  }
  state.counters["nodes"] = static_cast<double>(t.tree->node_count());
}
BENCHMARK(BM_Restore1M)->Unit(benchmark::kMillisecond)->Iterations(3);

// Heap bytes per node beyond its path and data (mallinfo2 before and after building).
void BM_MemoryPerNode(benchmark::State& state) {
  const int nodes = static_cast<int>(state.range(0));
  for (auto _ : state) {
    malloc_trim(0);
    const std::size_t before = mallinfo2().uordblks;
    Zxid zxid = 0;
    auto tree = build_tree(nodes, 100, &zxid);
    const std::size_t after = mallinfo2().uordblks;
    std::size_t names = 0;
    for (int i = 0; i < nodes; ++i)
      names += child_path(i).size();
    const double payload = static_cast<double>(names) + 100.0 * nodes;
    const double total = static_cast<double>(after - before);
    state.counters["heap_bytes_per_node"] = total / nodes;
    state.counters["overhead_bytes_per_node"] = (total - payload) / nodes;
  }
}
BENCHMARK(BM_MemoryPerNode)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
}  // namespace quorumlab::sm

BENCHMARK_MAIN();
