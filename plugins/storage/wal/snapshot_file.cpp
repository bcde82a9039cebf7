#include "wal/snapshot_file.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstdio>

#include "wal/crc32c.hpp"
#include "wal/format.hpp"

namespace quorumlab::storage::wal {

std::filesystem::path snapshot_temp_path(const std::filesystem::path& dir, LogIndex last_index,
                                         const std::string& tmp_tag) {
  return dir / (snapshot_file_name(last_index) + "." + tmp_tag + ".tmp");
}

std::filesystem::path write_snapshot_temp(const std::filesystem::path& dir,
                                          const Snapshot& snapshot, const std::string& tmp_tag,
                                          bool sync, DiskCounters& counters) {
  const std::filesystem::path tmp_path = snapshot_temp_path(dir, snapshot.last_index, tmp_tag);
  Bytes header;
  append_snapshot_header(header, snapshot);
  File f = File::open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC);
  f.pwrite_all(header.data(), header.size(), 0);
  f.pwrite_all(snapshot.data.data(), snapshot.data.size(), header.size());
  if (sync) {
    f.sync();
    counters.fsyncs.fetch_add(1, std::memory_order_relaxed);
  }
  f.close();
  counters.bytes_written.fetch_add(header.size() + snapshot.data.size(), std::memory_order_relaxed);
  return tmp_path;
}

void publish_snapshot(const std::filesystem::path& tmp_path, LogIndex last_index, bool sync,
                      DiskCounters& counters) {
  const std::filesystem::path dir = tmp_path.parent_path();
  const std::filesystem::path final_path = dir / snapshot_file_name(last_index);
  if (std::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    throw_errno("cannot rename snapshot", tmp_path, errno);
  }
  if (sync) {
    fsync_dir(dir);
    counters.fsyncs.fetch_add(1, std::memory_order_relaxed);
  }
  counters.snapshots_written.fetch_add(1, std::memory_order_relaxed);
}

void write_snapshot_file(const std::filesystem::path& dir, const Snapshot& snapshot,
                         const std::string& tmp_tag, bool sync, DiskCounters& counters) {
  publish_snapshot(write_snapshot_temp(dir, snapshot, tmp_tag, sync, counters), snapshot.last_index,
                   sync, counters);
}

SnapshotFileResult read_snapshot_file(const std::filesystem::path& file, LogIndex expected_index) {
  const Bytes bytes = read_file(file);
  SnapshotHeader h;
  std::uint32_t version = 0;
  const HeaderStatus st = parse_snapshot_header(bytes.data(), bytes.size(), h, version);
  if (st == HeaderStatus::bad_magic) {
    throw std::runtime_error("wal: '" + file.string() +
                             "' is not a quorumlab snapshot file (bad magic)");
  }
  if (st == HeaderStatus::bad_version) {
    throw std::runtime_error("wal: snapshot file '" + file.string() + "' has format version " +
                             std::to_string(version) + "; this build reads version " +
                             std::to_string(kFormatVersion));
  }
  SnapshotFileResult r;
  if (st != HeaderStatus::ok) {
    r.problem = to_string(st);
    return r;
  }
  if (h.last_index != expected_index) {
    r.problem = "header says last index " + std::to_string(h.last_index) +
                " but the file name says " + std::to_string(expected_index);
    return r;
  }
  if (bytes.size() - kSnapshotHeaderBytes != h.data_bytes) {
    r.problem = "length mismatch: header promises " + std::to_string(h.data_bytes) +
                " data bytes, file holds " + std::to_string(bytes.size() - kSnapshotHeaderBytes);
    return r;
  }
  if (crc32c(bytes.data() + kSnapshotHeaderBytes, h.data_bytes) != h.data_crc) {
    r.problem = "data checksum mismatch";
    return r;
  }
  Snapshot s;
  s.last_index = h.last_index;
  s.last_epoch = h.last_epoch;
  s.last_zxid = h.last_zxid;
  s.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(kSnapshotHeaderBytes), bytes.end());
  r.snapshot = std::move(s);
  return r;
}

}  // namespace quorumlab::storage::wal
