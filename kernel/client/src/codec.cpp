// Cap'n Proto helpers for the native client protocol.
#include "codec.hpp"

#include <cstring>
#include <stdexcept>

#include <capnp/any.h>
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

namespace {

/// Each thread's reusable first segment for requests (zeroed while not in use).
constexpr std::size_t kScratchWords = 2048;  // 16 KiB

struct Scratch {
  kj::Array<capnp::word> words = kj::heapArray<capnp::word>(kScratchWords);
  bool in_use = false;
  Scratch() { std::memset(words.begin(), 0, kScratchWords * sizeof(capnp::word)); }
};

Scratch& thread_scratch() {
  thread_local Scratch scratch;
  return scratch;
}

}  // namespace

RequestWriter::RequestWriter(std::size_t payload_bytes) {
  Scratch& s = thread_scratch();
  std::size_t words = payload_bytes / sizeof(capnp::word) + 64;
  if (!s.in_use && words <= kScratchWords) {
    s.in_use = true;
    scratch_ = s.words.asPtr();
    builder_.emplace(scratch_, capnp::AllocationStrategy::GROW_HEURISTICALLY);
  } else {
    builder_.emplace(static_cast<unsigned>(words));
  }
  request_ = builder_->initRoot<proto::ClientMessage>().initRequest();
}

RequestWriter::~RequestWriter() {
  if (scratch_.size() == 0) return;
  std::size_t used = builder_->getSegmentsForOutput()[0].size();
  builder_.reset();
  std::memset(scratch_.begin(), 0, used * sizeof(capnp::word));
  thread_scratch().in_use = false;
}

SealedRequest RequestWriter::seal() {
  auto segments = builder_->getSegmentsForOutput();
  // Where the xid sits: Request's data section (xid is field 0) inside segment 0, after the
  // segment table (a 4-byte count, 4 bytes per segment, padded to a word).
  auto data = capnp::toAny(request_).getDataSection();
  const auto* seg0 = reinterpret_cast<const kj::byte*>(segments[0].begin());
  const auto* at = data.begin();
  if (at < seg0 || at + sizeof(std::int32_t) > seg0 + segments[0].size() * sizeof(capnp::word)) {
    throw std::logic_error("request header outside the first segment");
  }
  std::size_t table_bytes = (segments.size() + 2) / 2 * sizeof(capnp::word);
  SealedRequest out;
  out.xid_offset = table_bytes + static_cast<std::size_t>(at - seg0);
  out.bytes = serialize(*builder_);
  return out;
}

void patch_xid(zmq::message_t& bytes, std::size_t offset, std::int32_t xid) {
  auto v = static_cast<std::uint32_t>(xid);
  auto* p = static_cast<std::uint8_t*>(bytes.data()) + offset;
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<std::uint8_t>(v >> (8 * i));
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
  reader_.emplace(words, options);
}

}  // namespace quorumlab::client::detail
