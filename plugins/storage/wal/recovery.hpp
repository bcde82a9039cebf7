// Recovery of a WAL directory: the newest valid snapshot plus every valid record after it.
//
// Replay rules (the writer in wal_storage.cpp maintains them; recovery checks them):
//   * Segments are replayed in `seq` order; the seqs of the kept files are consecutive.
//   * The first kept segment's header gives the base: its first entry has index first_index.
//   * An entry record must carry index last + 1; a truncate record drops entries after its
//     index; a reset record drops everything and sets last to its index; a hard-state record
//     replaces the hard state.
//   * The first record that fails (short, checksum, invalid header, index discontinuity, zero
//     bytes in a file that is not preallocated) ends the log. The file is cut there and any
//     later segment is moved aside as *.corrupt, so new appends follow good data. Whether valid
//     records followed the failure (corruption in the middle rather than a torn tail) is said
//     in the note.
//   * If the log starts above the newest snapshot because it begins with a reset record whose
//     snapshot is still under its temporary install name (the process stopped between the
//     last two steps of an install), the rename is completed. Other temporary files are
//     removed.
//   * Entries at or below the snapshot's last index are dropped. If the log starts above
//     snapshot index + 1 the durable state has a hole and recovery throws.
// Files that are not quorumlab WAL files or have another format version throw
// std::runtime_error naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "quorumlab/plugin/storage.hpp"
#include "wal/format.hpp"
#include "wal/io.hpp"

namespace quorumlab::storage::wal {

/// What the writer needs to know about one segment file.
struct SegmentInfo {
  std::uint64_t seq = 0;
  LogIndex first_index = 0;
  LogIndex max_index = 0;  ///< highest entry index ever written to it; 0 when it holds none
  std::uint32_t flags = 0;
  std::filesystem::path path;
};

/// Applies decoded records in order (the replay rules above). Pure, no I/O.
class LogReplay {
 public:
  /// Sets the index before the first entry of the first segment.
  void start(LogIndex base);

  /// Applies one verified record. Returns the reason when it cannot follow the records before
  /// it (malformed payload, index discontinuity); the state is then unchanged.
  std::optional<std::string> apply(const RawRecord& record, SegmentInfo& segment);

  LogIndex base() const { return base_; }
  LogIndex last_index() const { return base_ + entries_.size(); }
  const std::optional<HardState>& hard_state() const { return hard_state_; }
  /// Moves out the entries with index > `index`.
  std::vector<LogEntry> take_entries_after(LogIndex index);

 private:
  LogIndex base_ = 0;
  std::vector<LogEntry> entries_;  ///< indexes base_ + 1, base_ + 2, ...
  std::optional<HardState> hard_state_;
};

struct WalRecoveryResult {
  StorageRecovery recovery;            ///< what Storage::recover() returns
  std::vector<SegmentInfo> segments;   ///< kept segments, ascending seq; appends go to back()
  std::uint64_t active_end_bytes = 0;  ///< end of valid data in segments.back()
  LogIndex last_index = 0;             ///< index the next append must follow
  bool needs_reset = false;    ///< the log on disk ends below the snapshot: write a reset record
  std::uint64_t next_seq = 0;  ///< seq for the next new segment
};

/// Recovers `dir` (which must exist), repairing it as described above. Fsyncs of the repairs
/// are counted in `counters`.
WalRecoveryResult recover_wal_dir(const std::filesystem::path& dir, spdlog::logger& logger,
                                  DiskCounters& counters);

}  // namespace quorumlab::storage::wal
