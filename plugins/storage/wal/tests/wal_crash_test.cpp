// Crash simulation: a child process appends and flushes in a loop and reports, through a pipe,
// the last index of every ticket it saw durable; the parent SIGKILLs it mid-load, recovers the
// directory and checks that every index reported durable is present and intact. Three rounds
// on the same directory, each child continuing from what the previous crash left.
//
// SIGKILL loses what the process had not written yet, not the page cache, so this checks the
// ticket contract and recovery after a process crash; torn writes from a machine crash are
// simulated by the corruption tests in wal_recovery_test.cpp.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <deque>

#include <gtest/gtest.h>

#include "test_util.hpp"
#include "wal/wal_storage.hpp"

namespace quorumlab::storage {
namespace {

using test::make_entry;
using test::same_entry;
using test::TempDir;

std::size_t entry_size(LogIndex i) {
  return 16 + (i * 131) % 2000;
}

Snapshot snapshot_at(LogIndex index) {
  return Snapshot{index, 1, (std::uint64_t{1} << 32) | index,
                  Bytes(64, static_cast<std::uint8_t>(index))};
}

void write_u64(int fd, std::uint64_t v) {
  if (::write(fd, &v, sizeof v) != static_cast<ssize_t>(sizeof v)) ::_exit(3);
}

// The child: never returns. Exit codes other than death by SIGKILL mean failure.
[[noreturn]] void child_main(const WalOptions& o, int report_fd) {
  try {
    WalStorage wal(o, test::quiet_logger());
    StorageRecovery r = wal.recover();
    LogIndex last =
        r.entries.empty() ? (r.snapshot ? r.snapshot->last_index : 0) : r.entries.back().index;
    std::mutex mu;
    std::condition_variable cv;
    wal.set_wakeup([&] {
      std::lock_guard lk(mu);
      cv.notify_all();
    });
    std::deque<std::pair<std::uint64_t, LogIndex>> pending;  // ticket, last index it covers
    constexpr std::size_t kMaxOutstandingTickets = 32;
    for (std::uint64_t round = 0;; ++round) {
      std::vector<LogEntry> batch;
      const std::size_t n = 1 + round % 8;
      for (std::size_t k = 0; k < n; ++k) {
        ++last;
        batch.push_back(make_entry(last, 1, entry_size(last)));
      }
      wal.append(batch);
      if (round % 100 == 99 && !pending.empty()) wal.save_snapshot(snapshot_at(last - 100));
      pending.emplace_back(wal.flush(), last);
      LogIndex newest = 0;
      {
        std::unique_lock lk(mu);
        if (pending.size() >= kMaxOutstandingTickets) {
          cv.wait(lk, [&] { return wal.durable_ticket() >= pending.front().first; });
        }
      }
      const std::uint64_t durable = wal.durable_ticket();
      while (!pending.empty() && pending.front().first <= durable) {
        newest = pending.front().second;
        pending.pop_front();
      }
      if (newest != 0) write_u64(report_fd, newest);
    }
  } catch (...) {
    ::_exit(2);
  }
}

// Runs one child until it has reported `reports` durable tickets, kills it, returns the highest
// index it reported durable.
LogIndex run_and_kill(const WalOptions& o, int reports) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    child_main(o, fds[1]);
  }
  ::close(fds[1]);
  LogIndex durable = 0;
  std::uint64_t v = 0;
  int seen = 0;
  while (seen < reports && ::read(fds[0], &v, sizeof v) == static_cast<ssize_t>(sizeof v)) {
    durable = std::max(durable, v);
    ++seen;
  }
  ::kill(pid, SIGKILL);
  // Reports written before the kill are durable too.
  while (::read(fds[0], &v, sizeof v) == static_cast<ssize_t>(sizeof v))
    durable = std::max(durable, v);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_EQ(seen, reports) << "the child stopped early";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child exit status " << status;
  return durable;
}

TEST(WalCrash, EveryIndexReportedDurableSurvivesSigkill) {
  TempDir dir;
  WalOptions o = test::options_for(dir);
  o.segment_bytes = 256 * 1024;
  LogIndex reported = 0;
  for (int round = 1; round <= 3; ++round) {
    reported = std::max(reported, run_and_kill(o, 50 * round));
    ASSERT_GT(reported, 0u);

    WalStorage wal(o, test::quiet_logger());
    StorageRecovery r = wal.recover();
    const LogIndex snap = r.snapshot ? r.snapshot->last_index : 0;
    if (r.snapshot) {
      EXPECT_EQ(r.snapshot->data, snapshot_at(snap).data);
    }
    ASSERT_FALSE(r.entries.empty()) << "round " << round;
    EXPECT_EQ(r.entries.front().index, snap + 1);
    for (std::size_t k = 0; k < r.entries.size(); ++k) {
      const LogEntry& e = r.entries[k];
      ASSERT_EQ(e.index, snap + 1 + k) << "dense";
      ASSERT_TRUE(same_entry(e, make_entry(e.index, 1, entry_size(e.index))))
          << "entry " << e.index << " intact";
    }
    EXPECT_GE(r.entries.back().index, reported)
        << "round " << round << ": lost an index reported durable. " << test::all_notes(r);
  }
}

}  // namespace
}  // namespace quorumlab::storage
