#include "quorumlab/consensus/memory_log.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace quorumlab::consensus {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::logic_error("MemoryLog: " + what);
}

}  // namespace

const LogEntry& MemoryLog::at(LogIndex index) const {
  if (!contains(index)) {
    fail("no entry at index " + std::to_string(index) + " (base " + std::to_string(base_index_) +
         ", last " + std::to_string(last_index()) + ")");
  }
  return entries_[static_cast<std::size_t>(index - base_index_ - 1)];
}

std::optional<std::uint64_t> MemoryLog::epoch_at(LogIndex index) const {
  if (index == base_index_) return base_epoch_;
  if (index == 0) return 0;
  if (!contains(index)) return std::nullopt;
  return at(index).epoch;
}

std::optional<Zxid> MemoryLog::zxid_at(LogIndex index) const {
  if (index == base_index_) return base_zxid_;
  if (index == 0) return 0;
  if (!contains(index)) return std::nullopt;
  return at(index).zxid;
}

void MemoryLog::append(LogEntry entry) {
  if (entry.index != last_index() + 1) {
    fail("append of index " + std::to_string(entry.index) + " after last index " +
         std::to_string(last_index()));
  }
  entries_.push_back(std::move(entry));
}

void MemoryLog::truncate_after(LogIndex index) {
  if (index < base_index_) {
    fail("truncation to " + std::to_string(index) + " below the base " +
         std::to_string(base_index_));
  }
  while (last_index() > index)
    entries_.pop_back();
}

std::vector<LogEntry> MemoryLog::entries_from(LogIndex from, std::size_t max_count) const {
  if (from <= base_index_) {
    fail("entries_from(" + std::to_string(from) + ") at or below the base " +
         std::to_string(base_index_));
  }
  std::vector<LogEntry> out;
  for (LogIndex i = from; i <= last_index() && out.size() < max_count; ++i)
    out.push_back(at(i));
  return out;
}

std::string MemoryLog::compaction_refused(const Snapshot& meta, LogIndex commit_index) const {
  if (meta.last_index <= base_index_) return {};
  if (meta.last_index > commit_index || meta.last_index > last_index()) {
    return "compaction to " + std::to_string(meta.last_index) + " beyond the commit point " +
           std::to_string(commit_index);
  }
  auto z = zxid_at(meta.last_index);
  if (!z || *z != meta.last_zxid) {
    return "compaction to " + std::to_string(meta.last_index) + " with zxid " +
           std::to_string(meta.last_zxid) + " that is not in the log";
  }
  return {};
}

void MemoryLog::compact(LogIndex upto) {
  if (upto < base_index_ || upto > last_index()) {
    fail("compaction to " + std::to_string(upto) + " outside [" + std::to_string(base_index_) +
         ", " + std::to_string(last_index()) + "]");
  }
  if (upto == base_index_) return;
  const LogEntry& e = at(upto);
  base_epoch_ = e.epoch;
  base_zxid_ = e.zxid;
  auto drop = static_cast<std::size_t>(upto - base_index_);
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drop));
  base_index_ = upto;
}

void MemoryLog::reset(LogIndex base_index, std::uint64_t base_epoch, Zxid base_zxid) {
  entries_.clear();
  base_index_ = base_index;
  base_epoch_ = base_epoch;
  base_zxid_ = base_zxid;
}

std::optional<LogIndex> MemoryLog::find_zxid(Zxid zxid) const {
  if (zxid == base_zxid_) return base_index_;
  auto it = std::lower_bound(entries_.begin(), entries_.end(), zxid,
                             [](const LogEntry& e, Zxid z) { return e.zxid < z; });
  if (it == entries_.end() || it->zxid != zxid) return std::nullopt;
  return base_index_ + 1 + static_cast<LogIndex>(it - entries_.begin());
}

std::optional<MemoryLog::EpochRange> MemoryLog::epoch_range(std::uint64_t epoch) const {
  auto lo = std::lower_bound(entries_.begin(), entries_.end(), epoch,
                             [](const LogEntry& e, std::uint64_t ep) { return e.epoch < ep; });
  auto hi = std::upper_bound(entries_.begin(), entries_.end(), epoch,
                             [](std::uint64_t ep, const LogEntry& e) { return ep < e.epoch; });
  bool base_matches = base_epoch_ == epoch && (base_index_ > 0 || epoch == 0);
  if (lo == hi) {
    if (!base_matches) return std::nullopt;
    return EpochRange{base_index_, base_index_};
  }
  LogIndex first = base_index_ + 1 + static_cast<LogIndex>(lo - entries_.begin());
  LogIndex last = base_index_ + static_cast<LogIndex>(hi - entries_.begin());
  if (base_matches && first == base_index_ + 1) first = base_index_;
  return EpochRange{first, last};
}

MemoryLog::EpochRange MemoryLog::run_containing(LogIndex index) const {
  if (index < base_index_ || index > last_index()) {
    fail("run_containing(" + std::to_string(index) + ") outside [" + std::to_string(base_index_) +
         ", " + std::to_string(last_index()) + "]");
  }
  std::uint64_t epoch = *epoch_at(index);
  auto range = epoch_range(epoch);
  return *range;  // contains `index` because epochs are non-decreasing
}

}  // namespace quorumlab::consensus
