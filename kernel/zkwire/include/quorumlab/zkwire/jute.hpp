// Jute, ZooKeeper's binary record encoding (reference/zookeeper.md §2.1), and its framing
// (§2.2): big-endian ints and longs, one-byte booleans, length-prefixed strings and buffers
// (-1 = null), count-prefixed vectors, records as their fields back to back, and every
// message as [int32 length][payload].
//
// JuteReader never trusts a length or a count: each is checked against the bytes that are
// left in the record and against a configured maximum before anything is allocated, so a
// hostile frame can make a read fail but never make it allocate more than the frame's size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "quorumlab/types.hpp"

namespace quorumlab::zkwire {

/// A record that does not decode: truncated, a negative or oversized length, trailing garbage
/// where none is allowed. The message says which field.
class JuteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Reads jute values from a byte range it does not own. Every read throws JuteError when the
/// range holds too few bytes or a length is out of bounds; after a throw the reader is spent.
class JuteReader {
 public:
  /// `max_length` bounds every string, buffer and vector count (ZooKeeper checks lengths
  /// against jute.maxbuffer the same way); the remaining size bounds them anyway.
  JuteReader(const std::uint8_t* data, std::size_t size, std::size_t max_length = SIZE_MAX)
      : data_(data), size_(size), max_length_(max_length) {}

  std::int32_t read_int(const char* field);
  std::int64_t read_long(const char* field);
  /// One byte; any non-zero value is true (BinaryInputArchive does the same).
  bool read_bool(const char* field);
  /// A ustring. Null (length -1) reads as "" and sets `*was_null` when given.
  std::string read_string(const char* field, bool* was_null = nullptr);
  /// A buffer. Null (length -1) reads as empty and sets `*was_null` when given.
  Bytes read_buffer(const char* field, bool* was_null = nullptr);
  /// The count of a vector whose elements take at least `min_element_bytes` each on the wire.
  /// Null (-1) reads as 0. Throws if the elements cannot fit in what is left, so the caller may
  /// reserve the count safely.
  std::size_t read_count(const char* field, std::size_t min_element_bytes);

  std::size_t remaining() const { return size_ - pos_; }
  bool at_end() const { return pos_ == size_; }
  std::size_t position() const { return pos_; }

 private:
  const std::uint8_t* need(std::size_t n, const char* field);
  std::size_t read_length(const char* field);  ///< -1 -> SIZE_MAX (null)

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::size_t max_length_;
};

/// Appends jute values to a byte vector it does not own.
class JuteWriter {
 public:
  explicit JuteWriter(Bytes* out) : out_(out) {}

  void write_int(std::int32_t v);
  void write_long(std::int64_t v);
  void write_bool(bool v) { out_->push_back(v ? 1 : 0); }
  void write_string(std::string_view s);
  void write_buffer(const std::uint8_t* data, std::size_t size);
  void write_buffer(const Bytes& b) { write_buffer(b.data(), b.size()); }
  /// A buffer that may be null (jute length -1, e.g. a znode's null data).
  void write_buffer(const Bytes& b, bool null) {
    if (null) {
      write_int(-1);
    } else {
      write_buffer(b);
    }
  }
  /// A null string or buffer (length -1).
  void write_null() { write_int(-1); }

  /// Starts a frame: reserves the 4-byte length and returns its position for end_frame.
  std::size_t begin_frame();
  /// Patches the length of the frame begun at `start` with the bytes written since.
  void end_frame(std::size_t start);

  Bytes& bytes() { return *out_; }

 private:
  Bytes* out_;
};

/// Splits a byte stream into frames. Bytes are appended as they arrive; `next` hands out one
/// complete payload at a time. A length below 0 or above `max_frame_bytes` is a protocol
/// violation (ZooKeeper closes the connection: NIOServerCnxn.readLength).
class FrameBuffer {
 public:
  explicit FrameBuffer(std::size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

  enum class Status { kFrame, kNeedMore, kBadLength };

  /// Appends received bytes.
  void append(const std::uint8_t* data, std::size_t size);
  /// The next complete frame: on kFrame, `*payload`/`*size` point into the buffer and stay
  /// valid until the next append/next/consume. On kBadLength `*bad_length` holds the length.
  Status next(const std::uint8_t** payload, std::size_t* size, std::int64_t* bad_length = nullptr);
  /// Bytes received and not yet handed out.
  std::size_t buffered() const { return buf_.size() - pos_; }
  /// The unparsed bytes (for the four-letter-word check at connection start).
  const std::uint8_t* peek() const { return buf_.data() + pos_; }
  /// Drops `n` unparsed bytes.
  void consume(std::size_t n);
  std::size_t max_frame_bytes() const { return max_frame_bytes_; }

 private:
  void compact();

  Bytes buf_;
  std::size_t pos_ = 0;
  std::size_t max_frame_bytes_;
};

/// Big-endian helpers.
inline std::int32_t load_be32(const std::uint8_t* p) {
  return static_cast<std::int32_t>((std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                                   (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]});
}
inline void store_be32(std::uint8_t* p, std::int32_t v) {
  auto u = static_cast<std::uint32_t>(v);
  p[0] = static_cast<std::uint8_t>(u >> 24);
  p[1] = static_cast<std::uint8_t>(u >> 16);
  p[2] = static_cast<std::uint8_t>(u >> 8);
  p[3] = static_cast<std::uint8_t>(u);
}

}  // namespace quorumlab::zkwire
