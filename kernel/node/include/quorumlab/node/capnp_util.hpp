// Reading Cap'n Proto from byte buffers that may be unaligned (ZeroMQ hands those out).
#pragma once

#include <cstdint>
#include <cstring>

#include <capnp/dynamic.h>
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

/// Reads every set field of `value` with its schema type, recursively, so a message whose
/// pointers do not match the schema (a list of words where text belongs, a struct pointer that
/// is a list) throws kj::Exception here, where the caller handles malformed input, rather than
/// wherever a field is first read: Cap'n Proto checks a pointer only when it is followed, and
/// the node reads a queued request's fields later, outside its receive path.
inline void require_well_formed(const capnp::DynamicValue::Reader& value) {
  switch (value.getType()) {
    case capnp::DynamicValue::STRUCT: {
      auto s = value.as<capnp::DynamicStruct>();
      for (auto field : s.getSchema().getFields()) {
        if (s.has(field)) require_well_formed(s.get(field));
      }
      break;
    }
    case capnp::DynamicValue::LIST: {
      auto list = value.as<capnp::DynamicList>();
      const auto which = list.getSchema().whichElementType();
      if (which == capnp::schema::Type::STRUCT || which == capnp::schema::Type::LIST ||
          which == capnp::schema::Type::TEXT || which == capnp::schema::Type::DATA) {
        for (auto element : list)
          require_well_formed(element);
      }
      break;
    }
    default:  // scalars; text and data were checked when read
      break;
  }
}

/// The root of `reader` as T, checked whole with require_well_formed.
template <typename T>
typename T::Reader well_formed_root(CapnpReader& reader) {
  auto root = reader.root<T>();
  require_well_formed(capnp::toDynamic(root));
  return root;
}

}  // namespace quorumlab
