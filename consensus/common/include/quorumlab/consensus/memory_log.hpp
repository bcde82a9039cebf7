// The in-memory replicated log of a broadcast plugin: entries dense by index, each with the
// epoch (ZAB) or term (Raft) that created it and its zxid, after an optional compaction base.
//
// The base is the last entry covered by a snapshot: its index, epoch and zxid are remembered so
// that consistency checks at the boundary still work, but its data is gone. A fresh log has
// base 0 (index 0, epoch 0, zxid 0) and no entries.
//
// Preconditions are checked: violating one throws std::logic_error (a bug in the caller, never
// a condition to handle).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "quorumlab/plugin/broadcast.hpp"

namespace quorumlab::consensus {

class MemoryLog {
 public:
  /// A maximal run of entries with the same epoch, by index (inclusive bounds).
  struct EpochRange {
    LogIndex first = 0;
    LogIndex last = 0;
  };

  LogIndex base_index() const { return base_index_; }
  std::uint64_t base_epoch() const { return base_epoch_; }
  Zxid base_zxid() const { return base_zxid_; }
  LogIndex first_index() const { return base_index_ + 1; }
  LogIndex last_index() const { return base_index_ + entries_.size(); }
  std::uint64_t last_epoch() const {
    return entries_.empty() ? base_epoch_ : entries_.back().epoch;
  }
  Zxid last_zxid() const { return entries_.empty() ? base_zxid_ : entries_.back().zxid; }
  /// Number of entries held (after the base).
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  /// True if the entry at `index` is held (base < index <= last).
  bool contains(LogIndex index) const { return index > base_index_ && index <= last_index(); }
  /// The entry at `index`. Precondition: contains(index).
  const LogEntry& at(LogIndex index) const;

  /// Epoch (term) of the entry at `index`, known for base..last (index 0 gives 0).
  std::optional<std::uint64_t> epoch_at(LogIndex index) const;
  /// Raft's name for epoch_at.
  std::optional<std::uint64_t> term_at(LogIndex index) const { return epoch_at(index); }
  /// Zxid of the entry at `index`, known for base..last (index 0 gives 0).
  std::optional<Zxid> zxid_at(LogIndex index) const;

  /// Appends one entry. Precondition: entry.index == last_index() + 1.
  void append(LogEntry entry);
  /// Drops every entry with index > `index`. Precondition: index >= base_index().
  void truncate_after(LogIndex index);
  /// Copies of the entries from `from` (>= first_index()) on, at most `max_count` of them.
  std::vector<LogEntry> entries_from(
      LogIndex from, std::size_t max_count = std::numeric_limits<std::size_t>::max()) const;

  /// Drops entries up to `upto`, which becomes the base. Precondition: base <= upto <= last.
  void compact(LogIndex upto);
  /// Why the kernel's snapshot `meta` (Broadcast::compacted) may not compact this log, whose
  /// entries up to `commit_index` are committed: beyond the commit point or the log, or a zxid
  /// that is not the log's at that index. Empty when it may (or when it is already covered).
  std::string compaction_refused(const Snapshot& meta, LogIndex commit_index) const;
  /// Replaces the whole log by a snapshot point: no entries, base = (index, epoch, zxid).
  void reset(LogIndex base_index, std::uint64_t base_epoch, Zxid base_zxid);

  /// Index of the entry (or the base) with this zxid. Requires zxids increasing with index.
  std::optional<LogIndex> find_zxid(Zxid zxid) const;
  /// The indexes among base..last whose epoch is `epoch` (the base counts when its epoch
  /// matches). Requires epochs non-decreasing with index, which holds for ZAB and Raft logs.
  std::optional<EpochRange> epoch_range(std::uint64_t epoch) const;
  /// The maximal run of equal epoch among base..last that contains `index`.
  /// Precondition: base <= index <= last.
  EpochRange run_containing(LogIndex index) const;

 private:
  LogIndex base_index_ = 0;
  std::uint64_t base_epoch_ = 0;
  Zxid base_zxid_ = 0;
  std::deque<LogEntry> entries_;
};

}  // namespace quorumlab::consensus
