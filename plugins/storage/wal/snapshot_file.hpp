// Snapshot files: snapshot-<20-digit last index>.snap in the WAL directory.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "quorumlab/plugin/broadcast.hpp"
#include "wal/io.hpp"

namespace quorumlab::storage::wal {

/// Writes `snapshot` atomically: to `<final name>.<tmp_tag>.tmp`, fsync, rename over the final
/// name, fsync `dir`. After a crash either the complete new file or no file of that name
/// exists (a leftover *.tmp is removed by recovery). With `sync` false the fsyncs are left out
/// (the `fsync = false` mode: atomic against a process crash only). Counts fsyncs, bytes and
/// the snapshot in `counters`. Throws IoError.
void write_snapshot_file(const std::filesystem::path& dir, const Snapshot& snapshot,
                         const std::string& tmp_tag, bool sync, DiskCounters& counters);

/// The two halves of write_snapshot_file, for install_snapshot, which must make its reset
/// record durable between them (see log_writer.cpp). write_snapshot_temp returns the path of
/// the complete, synced temporary file; publish_snapshot renames it into place.
std::filesystem::path write_snapshot_temp(const std::filesystem::path& dir,
                                          const Snapshot& snapshot, const std::string& tmp_tag,
                                          bool sync, DiskCounters& counters);
void publish_snapshot(const std::filesystem::path& tmp_path, LogIndex last_index, bool sync,
                      DiskCounters& counters);
std::filesystem::path snapshot_temp_path(const std::filesystem::path& dir, LogIndex last_index,
                                         const std::string& tmp_tag);

/// Tag of the temporary file of an installed snapshot; recovery may complete its rename.
inline const std::string kInstallTag = "install";

struct SnapshotFileResult {
  std::optional<Snapshot> snapshot;  ///< set when the file is complete and its checksums match
  std::string problem;               ///< otherwise: why it was rejected
};

/// Reads and verifies one snapshot file whose name says `expected_index`. A damaged file
/// (checksum, length, index mismatch) is reported in `problem`; a file that is not a quorumlab
/// snapshot or has another format version throws std::runtime_error naming the file.
SnapshotFileResult read_snapshot_file(const std::filesystem::path& file, LogIndex expected_index);

}  // namespace quorumlab::storage::wal
