// native_frame_fuzz: the native client protocol's frame decoding (Cap'n Proto ClientMessage
// over ZeroMQ), through the node that serves it.
//
// Feeds: a sequence of client frames to one fresh node (solo + memory, node_harness.hpp).
// The input is read as records: a control byte, then a chunk (u16 length + bytes, fuzz_util.hpp).
// Control bits 0-1 pick one of four connections; bit 2 closes that connection instead
// (on_client_closed); bit 3 lets 50 ms of ticks pass after the frame. Each frame goes to
// Node::on_client_message as it would arrive from ZeroMQ (any length; bit 4 puts it at an odd
// address, as ZeroMQ often does), then the node runs until idle.
//
// Asserts: nothing crashes (ASan/UBSan), no exception leaves the node (a malformed frame is a
// protocol error that closes its connection), the node becomes idle, and the znode tree's
// invariants hold at the end.
#include <cstdint>
#include <string>

#include "node_harness.hpp"

using namespace quorumlab;
using quorumlab::fuzz::fuzz_fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  fuzz::FuzzNode n;
  int frames = 0;
  while (!in.empty() && frames++ < 64) {
    const std::uint8_t control = in.byte();
    auto frame = in.chunk();
    const node::ConnId conn = 1 + (control & 3u);
    try {
      if (control & 4u) {
        n.node->on_client_closed(conn);
      } else {
        // Bit 4: at an odd offset, as ZeroMQ often hands out bytes; else word-aligned.
        const std::size_t offset = (control & 16u) ? 1 : 0;
        std::vector<std::uint8_t> buf(frame.size() + offset);
        std::copy(frame.begin(), frame.end(), buf.begin() + static_cast<std::ptrdiff_t>(offset));
        n.node->on_client_message(conn, buf.data() + offset, frame.size(), "127.0.0.1:40000");
      }
      n.settle();
      if (control & 8u) {
        for (int i = 0; i < 5; ++i)
          n.tick(10);
      }
    } catch (const std::exception& e) {
      fuzz_fail(std::string("exception out of the node: ") + e.what());
    }
  }
  n.check();
  return 0;
}
