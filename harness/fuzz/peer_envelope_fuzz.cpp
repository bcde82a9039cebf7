// peer_envelope_fuzz: the kernel's peer envelope (PeerEnvelope in kernel/proto/peer.capnp),
// through the node that receives it.
//
// Feeds: a sequence of peer messages to one fresh node (solo + memory, node_harness.hpp),
// which leads and so proposes what a `forward` carries, answers `revalidate` and takes
// `touch`es; a `broadcast` payload goes to the plugin's step. The input is read as records: a
// control byte, then a chunk (u16 length + bytes). Control bit 0 opens a client session first
// (so touches and revalidations name a live session); bit 1 lets 50 ms of ticks pass after
// the message; bit 2 reports the sending peer disconnected. Each chunk goes to
// Node::on_peer_message as it would arrive from ZeroMQ.
//
// Asserts: nothing crashes (ASan/UBSan), no exception leaves the node (a malformed envelope is
// logged and dropped; a forwarded txn that does not decode is refused, never applied), the
// node becomes idle, and the znode tree's invariants hold at the end.
#include <capnp/message.h>

#include <cstdint>
#include <string>

#include "node_harness.hpp"
#include "quorumlab/capnp_bytes.hpp"
#include "quorumlab/proto/client.capnp.h"

using namespace quorumlab;
using quorumlab::fuzz::fuzz_fail;

namespace {

void open_session(fuzz::FuzzNode& n, node::ConnId conn) {
  capnp::MallocMessageBuilder m;
  auto c = m.initRoot<proto::ClientMessage>().initConnect();
  c.setProtocolVersion(1);
  c.setTimeoutMs(5000);
  Bytes pw(16);
  c.setPasswd(kj::arrayPtr(pw.data(), pw.size()));
  Bytes b = to_bytes(m);
  n.node->on_client_message(conn, b.data(), b.size(), "127.0.0.1:40000");
  n.settle();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  fuzz::FuzzNode n;
  node::ConnId next_conn = 1;
  int messages = 0;
  while (!in.empty() && messages++ < 64) {
    const std::uint8_t control = in.byte();
    auto msg = in.chunk();
    try {
      if (control & 1u) open_session(n, next_conn++);
      n.node->on_peer_message(msg.data(), msg.size());
      n.settle();
      if (control & 2u) {
        for (int i = 0; i < 5; ++i)
          n.tick(10);
      }
      if (control & 4u) n.node->on_peer_disconnected(static_cast<NodeId>(2 + (control >> 4)));
    } catch (const std::exception& e) {
      fuzz_fail(std::string("exception out of the node: ") + e.what());
    }
  }
  n.check();
  return 0;
}
