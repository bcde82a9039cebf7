// Reading Cap'n Proto from byte buffers that may be unaligned (ZeroMQ hands those out).
#pragma once

#include <cstdint>
#include <cstring>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>

#include "quorumlab/capnp_bytes.hpp"
#include "quorumlab/types.hpp"

namespace quorumlab {

namespace detail {

/// Throws kj::Exception unless `size` is a whole number of words.
inline void require_whole_words(std::size_t size) {
  if (size % sizeof(capnp::word) != 0) {
    KJ_FAIL_REQUIRE("message size is not a multiple of 8 bytes", size);
  }
}

/// An aligned copy of `size` bytes (a whole number of words).
inline kj::Array<capnp::word> aligned_copy(const std::uint8_t* data, std::size_t size) {
  require_whole_words(size);
  auto words = kj::heapArray<capnp::word>(size / sizeof(capnp::word));
  if (size) std::memcpy(words.begin(), data, size);
  return words;
}

}  // namespace detail

/// Owns an aligned copy of a message's words and reads it with limits suited to
/// client traffic. Throws kj::Exception on malformed input.
class CapnpReader {
 public:
  CapnpReader(const std::uint8_t* data, std::size_t size, std::uint64_t traversal_words)
      : words_(detail::aligned_copy(data, size)),
        reader_(words_.asPtr(), capnp::ReaderOptions{traversal_words, 64}) {}

  template <typename T>
  typename T::Reader root() {
    return reader_.getRoot<T>();
  }

 private:
  kj::Array<capnp::word> words_;
  capnp::FlatArrayMessageReader reader_;
};

/// Reads a message in place when its bytes are word-aligned (as malloc'd buffers are) and from
/// an aligned copy otherwise. The bytes must outlive the reader; use CapnpReader to keep one.
/// Throws kj::Exception on malformed input.
class CapnpView {
 public:
  CapnpView(const std::uint8_t* data, std::size_t size, std::uint64_t traversal_words)
      : words_(aligned(data) ? kj::Array<capnp::word>() : detail::aligned_copy(data, size)),
        reader_(aligned(data) ? in_place(data, size) : words_.asPtr(),
                capnp::ReaderOptions{traversal_words, 64}) {}

  template <typename T>
  typename T::Reader root() {
    return reader_.getRoot<T>();
  }

 private:
  static bool aligned(const std::uint8_t* data) {
    return reinterpret_cast<std::uintptr_t>(data) % alignof(capnp::word) == 0;
  }
  static kj::ArrayPtr<const capnp::word> in_place(const std::uint8_t* data, std::size_t size) {
    detail::require_whole_words(size);
    return kj::arrayPtr(reinterpret_cast<const capnp::word*>(data), size / sizeof(capnp::word));
  }
  kj::Array<capnp::word> words_;
  capnp::FlatArrayMessageReader reader_;
};

}  // namespace quorumlab
