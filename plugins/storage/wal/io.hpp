// Thin POSIX file helpers for the WAL. Every failure throws IoError naming the operation, the
// file and errno's text.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <boost/config.hpp>

#include "quorumlab/types.hpp"

namespace quorumlab::storage::wal {

class BOOST_SYMBOL_VISIBLE IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_errno(const char* what, const std::filesystem::path& path, int err);

/// Counters shared by the reactor side and the background threads (all relaxed atomics).
struct DiskCounters {
  std::atomic<std::uint64_t> fsyncs{0};          ///< every fsync/fdatasync: log, dir, snapshot
  std::atomic<std::uint64_t> log_fdatasyncs{0};  ///< fdatasync of log segments only
  std::atomic<std::uint64_t> bytes_written{0};   ///< segment and snapshot bytes
  std::atomic<std::uint64_t> entries_appended{0};
  std::atomic<std::uint64_t> snapshots_written{0};  ///< snapshot files made durable
};

/// An owned file descriptor (move-only). The destructor closes without reporting errors; call
/// close() where an error matters.
class File {
 public:
  File() = default;
  /// open(2) with O_CLOEXEC added.
  static File open(const std::filesystem::path& path, int flags, mode_t mode = 0644);
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return path_; }

  /// Writes all `size` bytes at `offset` (retrying short writes and EINTR).
  void pwrite_all(const void* data, std::size_t size, std::uint64_t offset);
  void datasync();  ///< fdatasync(2)
  void sync();      ///< fsync(2)
  void truncate(std::uint64_t size);
  /// posix_fallocate(3): reserves [offset, offset + length) and extends the size with zeros.
  void allocate(std::uint64_t offset, std::uint64_t length);
  std::uint64_t size() const;
  void close();

 private:
  int fd_ = -1;
  std::filesystem::path path_;
};

/// fsync(2) of a directory, making creations, renames and unlinks in it durable.
void fsync_dir(const std::filesystem::path& dir);

/// The whole content of a file.
Bytes read_file(const std::filesystem::path& path);
/// At most the first `bytes` bytes of a file.
Bytes read_file_prefix(const std::filesystem::path& path, std::size_t bytes);

}  // namespace quorumlab::storage::wal
