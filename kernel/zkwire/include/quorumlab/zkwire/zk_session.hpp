// A minimal ZooKeeper wire-protocol client session for load generation and tests: one TCP
// connection, a blocking handshake, then pipelined requests matched to replies in request
// order (reference §2.5) over a non-blocking socket the caller polls. No reconnect, no watches
// (notifications are counted and dropped), no chroot: the benchmark wants a thin, predictable
// client, not a full one.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <string>

#include "quorumlab/zkwire/jute.hpp"
#include "quorumlab/zkwire/records.hpp"

namespace quorumlab::zkwire {

class ZkSession {
 public:
  /// Connects to host:port and completes the handshake (new session, readOnly byte sent) within
  /// `timeout`. Throws std::runtime_error naming the server on failure or an expired answer.
  ZkSession(const std::string& host, int port, std::int32_t session_timeout_ms,
            std::chrono::milliseconds timeout);
  ~ZkSession();
  ZkSession(const ZkSession&) = delete;
  ZkSession& operator=(const ZkSession&) = delete;

  int fd() const { return fd_; }
  std::int64_t session_id() const { return session_id_; }
  std::int32_t negotiated_timeout_ms() const { return timeout_ms_; }
  const std::string& server() const { return server_; }

  /// Queues `r` (its xid is assigned here) with a caller tag returned with its reply.
  void submit(Request r, std::uint64_t tag);
  /// Requests submitted and not answered.
  std::size_t in_flight() const { return pending_.size(); }
  /// True while queued bytes wait for the socket.
  bool wants_write() const { return out_pos_ < out_.size(); }
  /// Writes what the socket takes now. False when the connection failed.
  bool flush();
  /// Reads what is available and calls `on_reply(const Reply&, std::uint64_t tag)` for every
  /// complete reply, in request order. False when the connection is closed or broken (the
  /// requests still in flight are lost). Notifications are counted, not delivered.
  template <typename F>
  bool read(F&& on_reply);

  std::uint64_t notifications() const { return notifications_; }

 private:
  struct Pending {
    std::int32_t xid;
    std::int32_t type;
    std::uint64_t tag;
  };
  bool fill();  ///< recv into the frame buffer; false on EOF or error
  /// Decodes the next reply if a frame is complete: kFrame, kNeedMore, or kBadLength on a
  /// protocol error (unknown xid, oversized frame).
  FrameBuffer::Status next_reply(Reply* reply, std::uint64_t* tag);

  int fd_ = -1;
  std::string server_;
  std::int64_t session_id_ = 0;
  std::int32_t timeout_ms_ = 0;
  std::int32_t next_xid_ = 1;
  std::deque<Pending> pending_;
  Bytes out_;
  std::size_t out_pos_ = 0;
  FrameBuffer in_{64u << 20};
  std::uint64_t notifications_ = 0;
};

template <typename F>
bool ZkSession::read(F&& on_reply) {
  const bool open = fill();
  while (true) {
    Reply reply;
    std::uint64_t tag = 0;
    FrameBuffer::Status s = next_reply(&reply, &tag);
    if (s == FrameBuffer::Status::kNeedMore) break;
    if (s == FrameBuffer::Status::kBadLength) return false;
    if (reply.xid >= 0) on_reply(reply, tag);
  }
  return open;
}

}  // namespace quorumlab::zkwire
