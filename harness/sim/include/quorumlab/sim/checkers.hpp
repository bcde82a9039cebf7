// Safety checkers of the simulator.
//
// ReplicaChecker (protocol-independent, online): fed every applied entry and every broadcast
// status of every replica, it checks
//   one_leader_per_epoch        at most one replica is leader in an epoch/term;
//   committed_txns_never_change an index, once applied anywhere, is applied again (after a
//                               restart) with the same zxid and data;
//   same_txns_same_order        every replica applies the same txn (zxid, data) at an index,
//                               and a zxid always at the same index;
//   applied_in_order            each replica applies strictly increasing indexes and zxids;
//   digest_at_zxid              replicas at the same applied zxid have the same tree digest.
// It also keeps the committed sequence, from which check_history() rebuilds a reference tree.
//
// check_history (offline, at the end of a run) checks the clients' history against that
// reference:
//   read_matches_zxid   a read returned the key's state as of the zxid in its reply;
//   read_your_writes    a read never shows a key older than the session's own earlier write;
//   request_applied_once  no client request (session, cxid) is committed twice;
//   linearizable        per-key linearizability (writes always; reads where the read policy
//                       promises it); writes without a reply take their outcome from the
//                       committed log, or are left out if their txn was never committed;
// and counts stale reads (reads that missed a write completed before they were invoked) and
// session-order anomalies (a read executed after a write its session sent later; barrier
// reads can do that while they wait at the head of the session's queue).
// The client-side checks that need message order (session_fifo, no_read_from_past,
// watch_before_data) run online in the simulated clients.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "quorumlab/node/node.hpp"
#include "quorumlab/sim/history.hpp"
#include "quorumlab/sim/linearizability.hpp"

namespace quorumlab::sim {

struct Violation {
  std::string property;
  std::string message;
};

class ReplicaChecker {
 public:
  /// A replica (in incarnation `incarnation`) applied an entry or restored a snapshot.
  /// `now_us`: simulated time, kept as the first time an index was applied anywhere.
  std::optional<Violation> on_applied(NodeId node, std::uint32_t incarnation,
                                      const node::AppliedInfo& info, std::int64_t now_us = 0);
  /// A replica's broadcast status after an event.
  std::optional<Violation> on_status(NodeId node, const BroadcastStatus& status);

  struct Committed {
    Zxid zxid = 0;
    std::uint64_t data_hash = 0;
    NodeId node = 0;  ///< first replica seen applying it
    std::uint32_t incarnation = 0;
    Bytes data;
    std::int64_t first_applied_us = 0;
  };
  const std::map<LogIndex, Committed>& committed() const { return committed_; }
  Zxid max_applied_zxid() const { return max_zxid_; }
  std::size_t leaders_seen() const { return leader_of_epoch_.size(); }

 private:
  std::map<LogIndex, Committed> committed_;
  std::map<Zxid, LogIndex> index_of_zxid_;
  std::map<Zxid, std::pair<std::uint64_t, NodeId>> digest_at_;
  std::map<std::uint64_t, NodeId> leader_of_epoch_;
  struct Last {
    std::uint32_t incarnation = 0;
    LogIndex index = 0;
    Zxid zxid = 0;
  };
  std::map<NodeId, Last> last_;
  Zxid max_zxid_ = 0;
};

/// Stale-read accounting: a read is stale when a write of its key completed before the read
/// was invoked and the read does not show it.
/// Per stale read: versions missed and how long before the read the first missed write
/// completed (ms); per read: its latency (invoke -> complete). Samples are kept for
/// percentiles.
struct StaleReadStats {
  std::uint64_t reads = 0;
  std::uint64_t stale = 0;
  std::uint64_t versions_sum = 0;
  std::uint64_t versions_max = 0;
  std::int64_t ms_sum = 0;
  std::int64_t ms_max = 0;
  std::vector<std::uint32_t> versions_samples;  ///< one per stale read
  std::vector<std::int64_t> ms_samples;         ///< one per stale read
  std::vector<std::int64_t> latency_us;         ///< one per read
  /// Reads that missed a write completed more than the policy's staleness bound before them
  /// (only counted when the policy declares a bound).
  std::uint64_t over_bound = 0;
  std::string over_bound_example;  ///< the first such read
  void merge(const StaleReadStats& o);
  std::string to_string() const;
};

/// The p-th percentile (0..100, nearest rank) of `v`; 0 when empty. Sorts a copy.
template <typename T>
T percentile(std::vector<T> v, double p) {
  if (v.empty()) return T{};
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(rank, v.size() - 1)];
}

struct HistoryCheckOptions {
  bool linearizable_reads = false;
  /// The read policy's declared bound (ReadGuarantee::bounded_staleness): a read that missed a
  /// write completed more than this before it began violates `bounded_staleness`.
  std::optional<std::int64_t> staleness_bound_ms;
  std::set<std::string> disabled;  ///< property names not to check
  LinearizabilityOptions linearizability;
};

struct HistoryCheckResult {
  std::optional<Violation> violation;
  StaleReadStats stale;
  LinearizabilityResult linearizability;
  std::size_t reads_checked_against_reference = 0;
  /// Reads (and syncs) served at a zxid at or after a write their session sent later: the
  /// session's requests were not executed in the order sent (ZooKeeper's FIFO client order),
  /// although replies came in order. Non-zero is the violation `fifo_execution_order`.
  std::uint64_t session_order_anomalies = 0;
  std::string session_order_example;  ///< the earliest such read, when there is one
  bool reference_complete = true;     ///< false: a gap in the committed sequence
  /// check_recorded_history only: successful writes with a reply, and those of them missing
  /// from their key's final read (see acknowledged_write_lost).
  std::uint64_t acknowledged_writes = 0;
  std::uint64_t lost_writes = 0;
  std::string lost_write_example;
  std::uint64_t keys_with_final_read = 0;
};

/// Checks `history` against the committed sequence recorded by `replicas`.
HistoryCheckResult check_history(const History& history, const ReplicaChecker& replicas,
                                 const HistoryCheckOptions& options);

/// Checks a history recorded by real clients (`qlab check`), where no replica log is at hand:
/// the reference is what the history itself shows committed, each successful write's reply
/// (the zxid and the state it left) and each successful getData (the state it saw, stamped
/// with its mzxid). The same checks as check_history run on it (read_matches_zxid: no read
/// misses a change the history shows committed at or before the read's zxid), and before them
///   one_txn_per_zxid        two successful writes never report the same zxid;
///   one_state_per_zxid      no two operations report different states of a key at one zxid;
///   acknowledged_write_lost a key's final read (invoked after every write to the key was
///                           invoked and every reply came) shows every acknowledged write;
///   session_zxid_monotonic  a session's replies never go back in zxid (ZooKeeper's "a client
///                           never sees an older view", across reconnections too).
/// Writes without a reply may have taken effect or not (linearizability treats them so).
/// Assumes nobody else wrote the history's keys while it was recorded.
HistoryCheckResult check_recorded_history(const History& history,
                                          const HistoryCheckOptions& options);

}  // namespace quorumlab::sim
