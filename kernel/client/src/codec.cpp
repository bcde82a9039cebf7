// Cap'n Proto helpers for the native client protocol.
#include "codec.hpp"

#include <cstring>
#include <stdexcept>

#include <kj/io.h>

namespace quorumlab::client::detail {

Stat read_stat(proto::Stat::Reader r) {
  Stat s;
  s.czxid = r.getCzxid();
  s.mzxid = r.getMzxid();
  s.ctime = r.getCtime();
  s.mtime = r.getMtime();
  s.version = r.getVersion();
  s.cversion = r.getCversion();
  s.aversion = r.getAversion();
  s.ephemeral_owner = r.getEphemeralOwner();
  s.data_length = r.getDataLength();
  s.num_children = r.getNumChildren();
  s.pzxid = r.getPzxid();
  return s;
}

void write_stat(proto::Stat::Builder b, const Stat& s) {
  b.setCzxid(s.czxid);
  b.setMzxid(s.mzxid);
  b.setCtime(s.ctime);
  b.setMtime(s.mtime);
  b.setVersion(s.version);
  b.setCversion(s.cversion);
  b.setAversion(s.aversion);
  b.setEphemeralOwner(s.ephemeral_owner);
  b.setDataLength(s.data_length);
  b.setNumChildren(s.num_children);
  b.setPzxid(s.pzxid);
}

AclList read_acl(capnp::List<proto::Acl>::Reader r) {
  AclList acl;
  acl.reserve(r.size());
  for (auto a : r) {
    acl.push_back(Acl{a.getPerms(), Id{to_std(a.getId().getScheme()), to_std(a.getId().getId())}});
  }
  return acl;
}

void write_acl(capnp::List<proto::Acl>::Builder b, const AclList& acl) {
  for (unsigned i = 0; i < acl.size(); ++i) {
    b[i].setPerms(acl[i].perms);
    auto id = b[i].initId();
    id.setScheme(text(acl[i].id.scheme));
    id.setId(text(acl[i].id.id));
  }
}

std::unique_ptr<capnp::MallocMessageBuilder> new_message(std::size_t payload_bytes) {
  // Room for the payload plus the struct skeleton, so most messages fit one segment.
  auto words = static_cast<unsigned>(payload_bytes / sizeof(capnp::word) + 64);
  return std::make_unique<capnp::MallocMessageBuilder>(words);
}

zmq::message_t serialize(capnp::MessageBuilder& message) {
  std::size_t size = capnp::computeSerializedSizeInWords(message) * sizeof(capnp::word);
  zmq::message_t out(size);
  kj::ArrayOutputStream stream(kj::arrayPtr(static_cast<kj::byte*>(out.data()), size));
  capnp::writeMessage(stream, message);
  return out;
}

Incoming::Incoming(const zmq::message_t& msg) {
  const auto* data = static_cast<const std::uint8_t*>(msg.data());
  std::size_t size = msg.size();
  if (size % sizeof(capnp::word) != 0 || size == 0) {
    throw std::runtime_error("message size is not a whole number of words");
  }
  kj::ArrayPtr<const capnp::word> words;
  if (reinterpret_cast<std::uintptr_t>(data) % alignof(capnp::word) == 0) {
    words = kj::arrayPtr(reinterpret_cast<const capnp::word*>(data), size / sizeof(capnp::word));
  } else {
    copy_ = kj::heapArray<capnp::word>(size / sizeof(capnp::word));
    std::memcpy(copy_.begin(), data, size);
    words = copy_.asPtr();
  }
  capnp::ReaderOptions options;
  options.traversalLimitInWords = 64u * 1024 * 1024;  // 512 MiB: large multiRead replies
  reader_ = std::make_unique<capnp::FlatArrayMessageReader>(words, options);
}

}  // namespace quorumlab::client::detail
