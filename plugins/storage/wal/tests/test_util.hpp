// Helpers shared by the WAL tests: temporary directories, deterministic entries, waiting for
// durability without sleeping.
#pragma once

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/logger.h>

#include "quorumlab/plugin/storage.hpp"
#include "wal/format.hpp"
#include "wal/wal_storage.hpp"

namespace quorumlab::storage::test {

/// A fresh directory under the system temp dir, removed with its content at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ql-wal-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path wal() const { return path_ / "wal"; }

 private:
  std::filesystem::path path_;
};

/// A silent logger (no sinks).
inline std::shared_ptr<spdlog::logger> quiet_logger() {
  return std::make_shared<spdlog::logger>("wal-test");
}

/// Entry `index` with deterministic content: `size` bytes derived from index and epoch.
inline LogEntry make_entry(LogIndex index, std::uint64_t epoch = 1, std::size_t size = 64) {
  LogEntry e;
  e.index = index;
  e.epoch = epoch;
  e.zxid = (epoch << 32) | index;
  e.data.resize(size);
  std::uint64_t x = index * 0x9E3779B97F4A7C15ull + epoch;
  for (auto& b : e.data) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<std::uint8_t>(x);
  }
  return e;
}

inline std::vector<LogEntry> make_entries(LogIndex first, LogIndex last, std::uint64_t epoch = 1,
                                          std::size_t size = 64) {
  std::vector<LogEntry> out;
  for (LogIndex i = first; i <= last; ++i)
    out.push_back(make_entry(i, epoch, size));
  return out;
}

inline bool same_entry(const LogEntry& a, const LogEntry& b) {
  return a.index == b.index && a.epoch == b.epoch && a.zxid == b.zxid && a.data == b.data;
}

/// Installs a wake-up on `storage` and waits on it for tickets, with a generous bound so that a
/// bug fails the test instead of hanging it. The wake-up owns its state, so the waiter and the
/// storage may be destroyed in either order.
class DurableWaiter {
 public:
  explicit DurableWaiter(Storage& storage) : storage_(storage), state_(std::make_shared<State>()) {
    storage_.set_wakeup([state = state_] {
      std::lock_guard lk(state->mu);
      ++state->wakeups;
      state->cv.notify_all();
    });
  }

  /// True once durable_ticket() >= ticket; false after 20 s.
  bool wait(std::uint64_t ticket) {
    std::unique_lock lk(state_->mu);
    return state_->cv.wait_for(lk, std::chrono::seconds(20),
                               [&] { return storage_.durable_ticket() >= ticket; });
  }
  std::uint64_t wakeups() const {
    std::lock_guard lk(state_->mu);
    return state_->wakeups;
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::uint64_t wakeups = 0;
  };
  Storage& storage_;
  std::shared_ptr<State> state_;
};

/// A one-shot gate: threads block in wait() until open() is called.
class Latch {
 public:
  void open() {
    std::lock_guard lk(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

/// Counts events and lets a test wait until a count is reached.
class EventCounter {
 public:
  void hit() {
    std::lock_guard lk(mu_);
    ++count_;
    cv_.notify_all();
  }
  bool wait_for_count(std::uint64_t n) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, std::chrono::seconds(20), [&] { return count_ >= n; });
  }
  std::uint64_t count() const {
    std::lock_guard lk(mu_);
    return count_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t count_ = 0;
};

inline WalOptions options_for(const TempDir& dir) {
  WalOptions o;
  o.dir = dir.wal();
  return o;
}

/// Segment files in `dir`, sorted by name (= by seq).
inline std::vector<std::filesystem::path> segment_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& de : std::filesystem::directory_iterator(dir)) {
    if (wal::parse_segment_file_name(de.path().filename().string())) out.push_back(de.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::vector<std::filesystem::path> files_ending(const std::filesystem::path& dir,
                                                       const std::string& suffix) {
  std::vector<std::filesystem::path> out;
  for (const auto& de : std::filesystem::directory_iterator(dir)) {
    const std::string n = de.path().filename().string();
    if (n.size() >= suffix.size() &&
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(de.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline bool any_note_contains(const StorageRecovery& r, const std::string& text) {
  for (const auto& n : r.notes) {
    if (n.find(text) != std::string::npos) return true;
  }
  return false;
}

inline std::string all_notes(const StorageRecovery& r) {
  std::string s;
  for (const auto& n : r.notes)
    s += "[" + n + "] ";
  return s;
}

}  // namespace quorumlab::storage::test
