#include "wal/io.hpp"
#include <algorithm>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace quorumlab::storage::wal {

void throw_errno(const char* what, const std::filesystem::path& path, int err) {
  throw IoError(std::string("wal: ") + what + " '" + path.string() + "': " + std::strerror(err));
}

File File::open(const std::filesystem::path& path, int flags, mode_t mode) {
  File f;
  do {
    f.fd_ = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (f.fd_ < 0 && errno == EINTR);
  if (f.fd_ < 0) throw_errno("cannot open", path, errno);
  f.path_ = path;
  return f;
}

File::File(File&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

void File::pwrite_all(const void* data, std::size_t size, std::uint64_t offset) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  while (size > 0) {
    const ssize_t n = ::pwrite(fd_, p, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot write", path_, errno);
    }
    p += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
}

void File::datasync() {
  if (::fdatasync(fd_) != 0) throw_errno("fdatasync failed for", path_, errno);
}

void File::sync() {
  if (::fsync(fd_) != 0) throw_errno("fsync failed for", path_, errno);
}

void File::truncate(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) throw_errno("cannot truncate", path_, errno);
}

void File::allocate(std::uint64_t offset, std::uint64_t length) {
  const int err = ::posix_fallocate(fd_, static_cast<off_t>(offset), static_cast<off_t>(length));
  if (err != 0) throw_errno("cannot preallocate", path_, err);
}

std::uint64_t File::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw_errno("cannot stat", path_, errno);
  return static_cast<std::uint64_t>(st.st_size);
}

void File::close() {
  if (fd_ < 0) return;
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0 && errno != EINTR) throw_errno("cannot close", path_, errno);
}

void fsync_dir(const std::filesystem::path& dir) {
  File d = File::open(dir, O_RDONLY | O_DIRECTORY);
  d.sync();
}

Bytes read_file(const std::filesystem::path& path) {
  return read_file_prefix(path, static_cast<std::size_t>(-1));
}

Bytes read_file_prefix(const std::filesystem::path& path, std::size_t bytes) {
  File f = File::open(path, O_RDONLY);
  const std::uint64_t size = std::min<std::uint64_t>(f.size(), bytes);
  Bytes out(size);
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(f.fd(), out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot read", path, errno);
    }
    if (n == 0) break;  // the file shrank under us; return what is there
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

}  // namespace quorumlab::storage::wal
