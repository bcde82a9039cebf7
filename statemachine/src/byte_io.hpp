// Internal: bounds-checked byte reading and writing shared by the txn codec and snapshots.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "quorumlab/types.hpp"

namespace quorumlab::sm::detail {

constexpr std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
constexpr std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

/// Appends to a Bytes buffer.
class ByteWriter {
 public:
  explicit ByteWriter(Bytes* out) : out_(out) {}

  void u8(std::uint8_t v) { out_->push_back(v); }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_->push_back(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    out_->push_back(static_cast<std::uint8_t>(v));
  }
  void svarint(std::int64_t v) { varint(zigzag(v)); }
  void raw(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    out_->insert(out_->end(), b, b + n);
  }
  void bytes(const void* p, std::size_t n) {
    varint(n);
    raw(p, n);
  }
  void str(std::string_view s) { bytes(s.data(), s.size()); }

 private:
  Bytes* out_;
};

/// Reads from a borrowed buffer. Every accessor returns false (and leaves the reader failed)
/// instead of reading past the end; lengths are checked against the remaining bytes before
/// any allocation.
class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}

  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  bool at_end() const { return p_ == end_; }

  bool u8(std::uint8_t* v) {
    if (p_ == end_) return false;
    *v = *p_++;
    return true;
  }
  bool varint(std::uint64_t* v) {
    std::uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t b = 0;
      if (!u8(&b)) return false;
      if (shift == 63 && b > 1) return false;  // more than 64 bits
      result |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && shift > 0) return false;  // overlong: encodings are canonical
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool svarint(std::int64_t* v) {
    std::uint64_t u = 0;
    if (!varint(&u)) return false;
    *v = unzigzag(u);
    return true;
  }
  bool svarint32(std::int32_t* v) {
    std::int64_t w = 0;
    if (!svarint(&w) || w < INT32_MIN || w > INT32_MAX) return false;
    *v = static_cast<std::int32_t>(w);
    return true;
  }
  /// A count of items that each take at least `min_item_bytes` bytes.
  bool count(std::size_t min_item_bytes, std::size_t* n) {
    std::uint64_t v = 0;
    if (!varint(&v) || v > remaining() / min_item_bytes) return false;
    *n = static_cast<std::size_t>(v);
    return true;
  }
  bool str(std::string* s) {
    std::size_t n = 0;
    if (!count(1, &n)) return false;
    s->assign(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }
  bool bytes(Bytes* b) {
    std::size_t n = 0;
    if (!count(1, &n)) return false;
    b->assign(p_, p_ + n);
    p_ += n;
    return true;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

}  // namespace quorumlab::sm::detail
