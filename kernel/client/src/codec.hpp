// Cap'n Proto helpers shared by the client and its tests: building ClientMessages, reading
// ServerMessages from (possibly unaligned) ZeroMQ buffers, converting Stat/ACL values.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>
#include <zmq.hpp>

#include "quorumlab/client/types.hpp"
#include "quorumlab/proto/client.capnp.h"

namespace quorumlab::client::detail {

inline capnp::Text::Reader text(const std::string& s) {
  return {s.c_str(), s.size()};
}
inline capnp::Data::Reader bytes(const std::string& s) {
  return {reinterpret_cast<const kj::byte*>(s.data()), s.size()};
}
inline std::string to_std(capnp::Text::Reader t) {
  return {t.cStr(), t.size()};
}
inline std::string to_std(capnp::Data::Reader d) {
  return {reinterpret_cast<const char*>(d.begin()), d.size()};
}

Stat read_stat(proto::Stat::Reader r);
void write_stat(proto::Stat::Builder b, const Stat& s);
AclList read_acl(capnp::List<proto::Acl>::Reader r);
void write_acl(capnp::List<proto::Acl>::Builder b, const AclList& acl);

/// A message under construction with a first segment sized for `payload_bytes` of data.
std::unique_ptr<capnp::MallocMessageBuilder> new_message(std::size_t payload_bytes);

/// A request serialized on the caller's thread. The xid is written by the I/O thread at send
/// time (patch_xid), so requests get increasing xids in send order without keeping a builder.
struct SealedRequest {
  zmq::message_t bytes;
  std::size_t xid_offset = 0;  // byte offset of Request.xid in `bytes`
};

/// Builds one ClientMessage{request} on a per-thread scratch first segment (no allocation for
/// messages that fit it) and seals it into a ZeroMQ message.
class RequestWriter {
 public:
  explicit RequestWriter(std::size_t payload_bytes);
  /// Returns the scratch segment, re-zeroed, to the thread.
  ~RequestWriter();
  RequestWriter(const RequestWriter&) = delete;
  RequestWriter& operator=(const RequestWriter&) = delete;

  proto::Request::Op::Builder op() { return request_.getOp(); }
  SealedRequest seal();

 private:
  kj::ArrayPtr<capnp::word> scratch_;  // empty when not using the thread's scratch
  std::optional<capnp::MallocMessageBuilder> builder_;
  proto::Request::Builder request_{nullptr};
};

/// Writes `xid` (little endian, as Cap'n Proto) at `offset` of a sealed request.
void patch_xid(zmq::message_t& bytes, std::size_t offset, std::int32_t xid);

/// One ZeroMQ message holding the unpacked serialization of `message` (no extra copy).
zmq::message_t serialize(capnp::MessageBuilder& message);

/// A received message: reads in place when the buffer is 8-byte aligned, otherwise from an
/// aligned copy (Cap'n Proto 0.9 rejects unaligned buffers). Throws kj::Exception on garbage.
class Incoming {
 public:
  explicit Incoming(const zmq::message_t& msg);
  template <class T>
  typename T::Reader root() {
    return reader_->getRoot<T>();
  }

 private:
  kj::Array<capnp::word> copy_;
  std::optional<capnp::FlatArrayMessageReader> reader_;
};

}  // namespace quorumlab::client::detail
