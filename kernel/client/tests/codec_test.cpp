// Requests sealed on the caller's thread and stamped with their xid at send time.
#include <cstring>

#include <gtest/gtest.h>

#include "codec.hpp"

namespace quorumlab::client::detail {
namespace {

std::int32_t xid_of(const zmq::message_t& m) {
  Incoming in(m);
  return in.root<proto::ClientMessage>().getRequest().getXid();
}

TEST(RequestWriter, PatchedXidIsTheRequestsXid) {
  for (std::size_t size : {0ul, 10ul, 4000ul, 100000ul, 3ul * 1024 * 1024}) {
    SealedRequest sealed;
    {
      RequestWriter w(size);
      auto s = w.op().initSetData();
      std::string data(size, 'x');
      s.setPath(text(std::string("/some/path")));
      s.setData(bytes(data));
      s.setVersion(7);
      sealed = w.seal();
    }
    for (std::int32_t xid : {1, 2, 65537, 0x7fffffff}) {
      patch_xid(sealed.bytes, sealed.xid_offset, xid);
      EXPECT_EQ(xid_of(sealed.bytes), xid) << size;
    }
    Incoming in(sealed.bytes);
    auto op = in.root<proto::ClientMessage>().getRequest().getOp();
    ASSERT_TRUE(op.isSetData());
    EXPECT_EQ(op.getSetData().getData().size(), size);
    EXPECT_EQ(op.getSetData().getVersion(), 7);
  }
}

TEST(RequestWriter, ScratchIsClean) {
  // A large request followed by a small one on the same scratch: the second must not see
  // leftovers of the first (the scratch is re-zeroed).
  {
    RequestWriter w(8000);
    w.op().initCreate().setData(bytes(std::string(8000, 'z')));
    (void)w.seal();
  }
  RequestWriter w(0);
  w.op().setWhoAmI();
  auto sealed = w.seal();
  patch_xid(sealed.bytes, sealed.xid_offset, 5);
  Incoming in(sealed.bytes);
  auto req = in.root<proto::ClientMessage>().getRequest();
  EXPECT_EQ(req.getXid(), 5);
  EXPECT_TRUE(req.getOp().isWhoAmI());
}

TEST(RequestWriter, NestedWritersFallBackToTheHeap) {
  RequestWriter outer(0);
  outer.op().setSync(text(std::string("/a")));
  RequestWriter inner(0);
  inner.op().setSync(text(std::string("/b")));
  auto a = outer.seal();
  auto b = inner.seal();
  patch_xid(a.bytes, a.xid_offset, 1);
  patch_xid(b.bytes, b.xid_offset, 2);
  EXPECT_EQ(xid_of(a.bytes), 1);
  EXPECT_EQ(xid_of(b.bytes), 2);
}

TEST(Incoming, ReadsUnalignedBuffers) {
  RequestWriter w(0);
  w.op().setSync(text(std::string("/x")));
  auto sealed = w.seal();
  patch_xid(sealed.bytes, sealed.xid_offset, 9);
  // Copy into a buffer at an odd address inside a larger message.
  zmq::message_t big(sealed.bytes.size() + 1);
  std::memcpy(static_cast<char*>(big.data()) + 1, sealed.bytes.data(), sealed.bytes.size());
  // Zero-copy: the message uses the odd address as is.
  zmq::message_t odd(static_cast<char*>(big.data()) + 1, sealed.bytes.size(), nullptr, nullptr);
  ASSERT_NE(reinterpret_cast<std::uintptr_t>(odd.data()) % 8, 0u);
  EXPECT_EQ(xid_of(odd), 9);
}

}  // namespace
}  // namespace quorumlab::client::detail
