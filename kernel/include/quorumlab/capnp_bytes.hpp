// Serializing a Cap'n Proto message into owned bytes, shared by the kernel and the plugins that
// speak Cap'n Proto on the wire. Header-only: include it where capnp is already a dependency.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/io.h>

#include "quorumlab/types.hpp"

namespace quorumlab {

/// The message in the standard framing, written straight into the result (messageToFlatArray
/// would allocate and copy once more).
inline Bytes to_bytes(capnp::MessageBuilder& message) {
  auto segments = message.getSegmentsForOutput();
  Bytes out(capnp::computeSerializedSizeInWords(segments) * sizeof(capnp::word));
  kj::ArrayOutputStream stream(kj::arrayPtr(out.data(), out.size()));
  capnp::writeMessage(stream, segments);
  return out;
}

}  // namespace quorumlab
