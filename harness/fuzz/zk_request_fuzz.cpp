// zk_request_fuzz: the ZooKeeper wire decoder, every request record.
//
// Feeds: the input as the byte stream a ZooKeeper client sends on a new connection. It is cut
// into frames by the front-end's FrameBuffer (length prefix, jute.maxbuffer = 1 MiB); the first
// frame goes to the Translator as the ConnectRequest, the node's ConnectResponse is played
// back, and every later frame goes to the Translator as a request (header, body of every
// opcode, multi ops, setWatches...). Each frame is also decoded on its own with
// decode_request_header / decode_request_body.
//
// Asserts: nothing crashes (ASan/UBSan); decoding throws only JuteError, or
// std::invalid_argument for an opcode without a known body; every native message the
// Translator hands to the node parses as a ClientMessage; a request that decodes re-encodes
// (encode_request) to a frame that decodes again and encodes to the same bytes.
#include <capnp/message.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "fuzz_util.hpp"
#include "quorumlab/capnp_bytes.hpp"
#include "quorumlab/node/capnp_util.hpp"
#include "quorumlab/proto/client.capnp.h"
#include "quorumlab/zkwire/jute.hpp"
#include "quorumlab/zkwire/records.hpp"
#include "quorumlab/zkwire/translator.hpp"

using namespace quorumlab;
using namespace quorumlab::zkwire;
using quorumlab::fuzz::fuzz_fail;

namespace {

constexpr std::size_t kMaxFrame = 1u << 20;

void check_to_node(const Effects& fx) {
  for (const auto& b : fx.to_node) {
    try {
      CapnpReader reader(b.data(), b.size(), 1u << 26);
      auto m = reader.root<proto::ClientMessage>();
      (void)m.which();
    } catch (const kj::Exception& e) {
      fuzz_fail(std::string("translator produced a malformed native message: ") +
                e.getDescription().cStr());
    }
  }
}

/// Decodes one request frame on its own and checks the encode/decode round trip.
void decode_alone(const std::uint8_t* data, std::size_t size) {
  Request req;
  try {
    JuteReader in(data, size, kMaxFrame);
    decode_request_header(in, &req);
    decode_request_body(in, &req);
  } catch (const JuteError&) {
    return;
  } catch (const std::invalid_argument&) {
    return;  // an opcode without a known body
  }
  Bytes once;
  encode_request(req, &once);
  if (once.size() < 4) fuzz_fail("encode_request wrote no length prefix");
  Request again;
  try {
    JuteReader in(once.data() + 4, once.size() - 4, SIZE_MAX);
    decode_request_header(in, &again);
    decode_request_body(in, &again);
  } catch (const std::exception& e) {
    fuzz_fail(std::string("a decoded request re-encodes to a frame that does not decode: ") +
              e.what());
  }
  Bytes twice;
  encode_request(again, &twice);
  if (once != twice) fuzz_fail("encode(decode(encode(request))) differs from encode(request)");
}

void play_connect_response(Translator& t, Effects* fx) {
  capnp::MallocMessageBuilder msg;
  auto c = msg.initRoot<proto::ServerMessage>().initConnectResponse();
  c.setErr(0);
  c.setTimeoutMs(10000);
  c.setSessionId(0x1234);
  Bytes pw(16, 7);
  c.setPasswd(kj::arrayPtr(pw.data(), pw.size()));
  c.setServerId(1);
  Bytes b = to_bytes(msg);
  t.on_server_message(b.data(), b.size(), 0, fx);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FrameBuffer frames(kMaxFrame);
  frames.append(data, size);
  Translator translator(TranslatorLimits{kMaxFrame, 10000});
  Effects fx;
  std::int64_t now = 0;
  bool first = true;
  for (;;) {
    const std::uint8_t* payload = nullptr;
    std::size_t n = 0;
    auto st = frames.next(&payload, &n);
    if (st != FrameBuffer::Status::kFrame) break;
    if (!first) decode_alone(payload, n);
    if (translator.accepts_frames()) {
      try {
        translator.on_client_frame(payload, n, ++now, &fx);
      } catch (const std::exception& e) {
        fuzz_fail(std::string("Translator::on_client_frame threw: ") + e.what());
      }
      check_to_node(fx);
      fx.to_node.clear();
      if (first && translator.stage() == Translator::Stage::kConnecting) {
        play_connect_response(translator, &fx);
      }
    }
    first = false;
  }
  return 0;
}
