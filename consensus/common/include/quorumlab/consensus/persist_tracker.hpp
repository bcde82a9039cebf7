// Which part of the log is durable, from the plugin's side of the Ready contract.
//
// The kernel writes each Ready that carries writes (snapshot, truncate_after, entries,
// hard_state) or messages_after_persist as one "batch", in order, and calls
// `persisted(i)` once per batch when it is durable, with `i` the storage's last log index after
// that batch. The plugin registers each batch here when it hands out the Ready (`on_emit`) and
// forwards every `persisted` call (`on_persisted`).
//
// The subtle case is a rewrite: a batch that truncates the log (or installs a snapshot) and
// appends new entries at the same indexes. A `persisted(10)` that reports an older batch must
// not make the new entries 6..10 look durable. `stable_index()` is therefore clamped by every
// rewrite that is not durable yet, including one not yet handed out (`on_rewrite`).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

#include "quorumlab/types.hpp"

namespace quorumlab::consensus {

class PersistTracker {
 public:
  /// After restore: everything recovered is durable, nothing is pending.
  void reset(LogIndex durable_last_index);

  /// The plugin rewrote the log from index `from` + 1 on (truncation to `from`, or a snapshot
  /// at `from`) in its pending, not yet emitted Ready.
  void on_rewrite(LogIndex from);

  /// The sequence number the next emitted batch will get. A write made now is durable once
  /// durable_seq() >= this value.
  std::uint64_t next_seq() const { return next_seq_; }

  /// A Ready with writes or messages_after_persist was handed to the kernel. `last_index_after`
  /// is the plugin's last log index after it. Returns the batch's sequence number.
  std::uint64_t on_emit(LogIndex last_index_after);

  /// The kernel reported a batch durable. Matches the oldest pending batch whose last index is
  /// `index` and marks it and everything before it durable. Returns false (and changes
  /// nothing) when no pending batch matches.
  bool on_persisted(LogIndex index);

  /// Sequence number of the newest durable batch (0 before any).
  std::uint64_t durable_seq() const { return durable_seq_; }
  /// Highest index durable in the current log: the storage's durable last index, clamped by
  /// every rewrite not yet durable.
  LogIndex stable_index() const;
  /// Batches emitted but not yet reported durable.
  std::size_t pending() const { return pending_.size(); }

 private:
  struct Batch {
    std::uint64_t seq = 0;
    LogIndex last_index_after = 0;
    std::optional<LogIndex> rewrite_from;
  };
  std::uint64_t next_seq_ = 1;
  std::uint64_t durable_seq_ = 0;
  LogIndex durable_index_ = 0;
  std::optional<LogIndex> unemitted_rewrite_;
  std::deque<Batch> pending_;
};

}  // namespace quorumlab::consensus
