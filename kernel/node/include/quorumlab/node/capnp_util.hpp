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

/// Owns an aligned copy of a message's words and reads it with limits suited to
/// client traffic. Throws kj::Exception on malformed input.
class CapnpReader {
 public:
  CapnpReader(const std::uint8_t* data, std::size_t size, std::uint64_t traversal_words)
      : words_(aligned(data, size)),
        reader_(words_.asPtr(), capnp::ReaderOptions{traversal_words, 64}) {}

  template <typename T>
  typename T::Reader root() {
    return reader_.getRoot<T>();
  }

 private:
  static kj::Array<capnp::word> aligned(const std::uint8_t* data, std::size_t size) {
    if (size % sizeof(capnp::word) != 0) {
      KJ_FAIL_REQUIRE("message size is not a multiple of 8 bytes", size);
    }
    auto words = kj::heapArray<capnp::word>(size / sizeof(capnp::word));
    if (size) std::memcpy(words.begin(), data, size);
    return words;
  }
  kj::Array<capnp::word> words_;
  capnp::FlatArrayMessageReader reader_;
};

}  // namespace quorumlab
