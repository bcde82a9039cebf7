// WAL throughput: 1 KiB entries, flushed one by one (waiting for each), pipelined (group
// commit: many flushes in flight share an fdatasync), in batches, and with fsync off.
//
//   build-st/bin/ql_wal_bench --benchmark_min_time=0.2
//
// Counters: entries_per_s, fsyncs (segment fdatasyncs in the run) and entries_per_fsync.
#include <stdlib.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>

#include <benchmark/benchmark.h>

#include "wal/wal_storage.hpp"

namespace {

using quorumlab::Bytes;
using quorumlab::LogEntry;
using quorumlab::LogIndex;
using quorumlab::storage::WalOptions;
using quorumlab::storage::WalStorage;

constexpr std::size_t kEntryBytes = 1024;

class BenchWal {
 public:
  explicit BenchWal(bool fsync) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ql-wal-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    WalOptions o;
    o.dir = dir_ / "wal";
    o.fsync = fsync;
    wal_ = std::make_unique<WalStorage>(o, std::make_shared<spdlog::logger>("bench"));
    wal_->recover();
    wal_->set_wakeup([this] {
      std::lock_guard lk(mu_);
      cv_.notify_all();
    });
  }
  ~BenchWal() {
    wal_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::vector<LogEntry> next_entries(std::size_t n) {
    std::vector<LogEntry> out(n);
    for (auto& e : out) {
      e.index = ++last_;
      e.epoch = 1;
      e.zxid = (std::uint64_t{1} << 32) | e.index;
      e.data.assign(kEntryBytes, static_cast<std::uint8_t>(e.index));
    }
    return out;
  }

  void wait(std::uint64_t ticket) {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return wal_->durable_ticket() >= ticket; });
  }

  WalStorage& wal() { return *wal_; }

  void report(benchmark::State& state, std::uint64_t entries, std::uint64_t syncs_before) {
    const auto syncs = static_cast<double>(wal_->debug_stats().log_fdatasyncs - syncs_before);
    state.SetItemsProcessed(static_cast<std::int64_t>(entries));
    state.SetBytesProcessed(static_cast<std::int64_t>(entries * kEntryBytes));
    state.counters["entries_per_s"] =
        benchmark::Counter(static_cast<double>(entries), benchmark::Counter::kIsRate);
    state.counters["fsyncs"] = syncs;
    state.counters["entries_per_fsync"] = syncs > 0 ? static_cast<double>(entries) / syncs : 0.0;
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<WalStorage> wal_;
  LogIndex last_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
};

// One entry, one flush, wait until durable: one fdatasync per entry.
void BM_FlushEachEntryAndWait(benchmark::State& state) {
  BenchWal b(true);
  const auto before = b.wal().debug_stats().log_fdatasyncs;
  std::uint64_t n = 0;
  for (auto _ : state) {
    b.wal().append(b.next_entries(1));
    b.wait(b.wal().flush());
    ++n;
  }
  b.report(state, n, before);
}
BENCHMARK(BM_FlushEachEntryAndWait)->UseRealTime();

// One flush per entry, up to `window` tickets in flight: flushes queued during an fdatasync
// share the next one (group commit).
void BM_FlushEachEntryPipelined(benchmark::State& state) {
  BenchWal b(true);
  const auto window = static_cast<std::size_t>(state.range(0));
  const auto before = b.wal().debug_stats().log_fdatasyncs;
  std::deque<std::uint64_t> in_flight;
  std::uint64_t n = 0;
  for (auto _ : state) {
    b.wal().append(b.next_entries(1));
    in_flight.push_back(b.wal().flush());
    if (in_flight.size() >= window) {
      b.wait(in_flight.front());
      while (!in_flight.empty() && in_flight.front() <= b.wal().durable_ticket()) {
        in_flight.pop_front();
      }
    }
    ++n;
  }
  if (!in_flight.empty()) b.wait(in_flight.back());
  b.report(state, n, before);
}
BENCHMARK(BM_FlushEachEntryPipelined)->Arg(16)->Arg(256)->UseRealTime();

// `batch` entries in one append, one flush, wait.
void BM_FlushBatchAndWait(benchmark::State& state) {
  BenchWal b(true);
  const auto batch = static_cast<std::size_t>(state.range(0));
  const auto before = b.wal().debug_stats().log_fdatasyncs;
  std::uint64_t n = 0;
  for (auto _ : state) {
    b.wal().append(b.next_entries(batch));
    b.wait(b.wal().flush());
    n += batch;
  }
  b.report(state, n, before);
}
BENCHMARK(BM_FlushBatchAndWait)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();

// fsync = false: tickets complete once written; measures encoding and the writer thread.
void BM_FlushEachEntryNoFsync(benchmark::State& state) {
  BenchWal b(false);
  std::uint64_t n = 0;
  for (auto _ : state) {
    b.wal().append(b.next_entries(1));
    benchmark::DoNotOptimize(b.wal().flush());
    ++n;
  }
  b.report(state, n, 0);
}
BENCHMARK(BM_FlushEachEntryNoFsync)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
