#include "quorumlab/zkwire/zk_session.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace quorumlab::zkwire {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

/// Waits for `events` on `fd` until the deadline; false on timeout.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  while (true) {
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

int connect_to(const std::string& host, int port, Clock::time_point deadline, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0) {
    *error = ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = res; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline)) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) break;
      errno = err;
    }
    *error = errno == EINPROGRESS ? "connect timed out" : std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd >= 0) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

}  // namespace

ZkSession::ZkSession(const std::string& host, int port, std::int32_t session_timeout_ms,
                     std::chrono::milliseconds timeout)
    : server_(host + ":" + std::to_string(port)) {
  const auto deadline = Clock::now() + timeout;
  std::string error;
  fd_ = connect_to(host, port, deadline, &error);
  if (fd_ < 0) throw std::runtime_error("cannot connect to " + server_ + ": " + error);
  ConnectRequest c;
  c.timeout_ms = session_timeout_ms;
  c.read_only = false;
  encode_connect_request(c, &out_);
  while (wants_write()) {
    if (!wait_fd(fd_, POLLOUT, deadline) || !flush()) {
      ::close(fd_);
      throw std::runtime_error("cannot send the ConnectRequest to " + server_);
    }
  }
  const std::uint8_t* payload = nullptr;
  std::size_t size = 0;
  while (in_.next(&payload, &size) != FrameBuffer::Status::kFrame) {
    if (!wait_fd(fd_, POLLIN, deadline) || !fill()) {
      ::close(fd_);
      throw std::runtime_error("no ConnectResponse from " + server_ +
                               " (refused, or the server is behind)");
    }
  }
  ConnectResponse r = decode_connect_response(payload, size);
  if (r.timeout_ms <= 0) {
    ::close(fd_);
    throw std::runtime_error(server_ + " answered the connect as an expired session");
  }
  session_id_ = r.session_id;
  timeout_ms_ = r.timeout_ms;
}

ZkSession::~ZkSession() {
  if (fd_ >= 0) ::close(fd_);
}

void ZkSession::submit(Request r, std::uint64_t tag) {
  if (r.xid == 0) {
    r.xid = next_xid_;
    next_xid_ = next_xid_ == INT32_MAX ? 1 : next_xid_ + 1;
  }
  encode_request(r, &out_);
  if (r.xid >= 0 || r.xid == xid::kSetWatches) pending_.push_back({r.xid, r.type, tag});
}

bool ZkSession::flush() {
  while (out_pos_ < out_.size()) {
    ssize_t n =
        ::send(fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      out_pos_ += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return false;
  }
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  } else if (out_pos_ > (1u << 20)) {
    out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_pos_));
    out_pos_ = 0;
  }
  return true;
}

bool ZkSession::fill() {
  std::uint8_t buf[64 * 1024];
  while (true) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      in_.append(buf, static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < sizeof buf) return true;
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

FrameBuffer::Status ZkSession::next_reply(Reply* reply, std::uint64_t* tag) {
  const std::uint8_t* payload = nullptr;
  std::size_t size = 0;
  FrameBuffer::Status s = in_.next(&payload, &size);
  if (s != FrameBuffer::Status::kFrame) return s;
  if (size < 4) return FrameBuffer::Status::kBadLength;
  const std::int32_t xid = load_be32(payload);
  if (xid == xid::kNotification || xid == xid::kPing || xid == xid::kAuth) {
    if (xid == xid::kNotification) ++notifications_;
    reply->xid = xid;
    return FrameBuffer::Status::kFrame;
  }
  if (pending_.empty() || pending_.front().xid != xid) return FrameBuffer::Status::kBadLength;
  const Pending p = pending_.front();
  pending_.pop_front();
  try {
    *reply = decode_reply(payload, size, p.type);
  } catch (const JuteError&) {
    return FrameBuffer::Status::kBadLength;
  }
  *tag = p.tag;
  return FrameBuffer::Status::kFrame;
}

}  // namespace quorumlab::zkwire
