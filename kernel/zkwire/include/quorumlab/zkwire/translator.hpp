// The per-connection translator between ZooKeeper's wire protocol (jute frames, reference
// §2) and the node's native protocol (kernel/proto/client.capnp). Pure: no sockets, no
// clock (callers pass the time), so every case is unit-tested byte for byte.
//
// Client to node: the first frame is a ConnectRequest (readOnly byte optional), later frames a
// RequestHeader plus the op's record. Each request becomes one native ClientMessage with a
// native xid chosen here (1, 2, 3, ... so the node sees unique, increasing xids whatever the
// client sends); the jute xid and opcode are remembered in a FIFO because the reply's shape
// depends on the opcode (§2.5: replies come in request order). Pings (xid -2) are answered by
// the node at once and are not in the FIFO. Requests the node has no op for are answered
// here, in their place in the FIFO: reconfig -> RECONFIGDISABLED, sasl and unknown opcodes ->
// UNIMPLEMENTED, an undecodable body -> MARSHALLINGERROR.
//
// Node to client: ConnectResponse (mirroring the client's readOnly byte; expired session ->
// timeOut 0, sessionId 0, zero password, then close; refused -> close without a reply),
// Responses matched to the FIFO head and re-encoded per opcode (create vs create2, exists,
// getChildren vs getChildren2, standalone check -> SetDataResponse, addWatch ->
// ErrorResponse{0}, multi per §2.7), notifications as xid -1 WatcherEvents, and the node's
// `closing` as a close after what is already queued.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "quorumlab/types.hpp"
#include "quorumlab/zkwire/records.hpp"

namespace quorumlab::zkwire {

/// Bounds of one connection.
struct TranslatorLimits {
  /// jute.maxbuffer: the largest frame and the largest string, buffer or vector count in it.
  std::size_t max_frame_bytes = 1048576;
  /// Requests awaiting their reply; one more is a protocol violation (the node's own bound is
  /// 10000 per connection and it closes the connection too).
  std::size_t max_pending = 10000;
};

/// What a call asks the caller to do, in this order: hand `to_node` to the node as native
/// messages of this connection, write `to_client` to the socket, then close the connection
/// when `close` is set (after the bytes are written). Calls append; the caller clears.
struct Effects {
  std::vector<Bytes> to_node;
  Bytes to_client;
  bool close = false;
  std::string reason;  ///< why `close` (for the log)
};

/// Counters for the four-letter words (cons, stat, mntr).
struct ConnStats {
  std::uint64_t packets_received = 0;
  std::uint64_t packets_sent = 0;
  const char* last_op = "NA";
  std::int32_t last_cxid = 0;
  std::int64_t last_zxid = 0;
  std::int64_t last_latency_us = 0;
  std::int64_t min_latency_us = -1;  ///< -1 until a reply was sent
  std::int64_t max_latency_us = 0;
  std::int64_t sum_latency_us = 0;
  std::uint64_t replies = 0;  ///< replies counted in the latency sums
};

class Translator {
 public:
  enum class Stage {
    kAwaitConnect,  ///< the next frame must be the ConnectRequest
    kConnecting,    ///< waiting for the node's ConnectResponse: do not feed frames
    kSession,       ///< requests flow
    kClosed,        ///< a close was requested; further input is ignored
  };

  explicit Translator(TranslatorLimits limits = {}) : limits_(limits) {}

  /// One complete frame payload from the client (length prefix removed).
  /// Precondition: accepts_frames(). `now_us` is any monotonic clock, used for latencies.
  void on_client_frame(const std::uint8_t* data, std::size_t size, std::int64_t now_us,
                       Effects* out);
  /// One native ServerMessage the node sent to this connection.
  void on_server_message(const std::uint8_t* data, std::size_t size, std::int64_t now_us,
                         Effects* out);

  Stage stage() const { return stage_; }
  /// False while the ConnectResponse is pending (ZooKeeper stops reading then too, §2.3) and
  /// after a close.
  bool accepts_frames() const {
    return !draining_ && (stage_ == Stage::kAwaitConnect || stage_ == Stage::kSession);
  }
  std::int64_t session_id() const { return session_id_; }
  std::int32_t timeout_ms() const { return timeout_ms_; }
  /// Requests waiting for their reply.
  std::size_t pending() const { return fifo_.size(); }
  const ConnStats& stats() const { return stats_; }

 private:
  /// A request waiting for its reply, in request order.
  struct Pending {
    std::int32_t jute_xid = 0;
    std::int32_t native_xid = 0;  ///< 0: answered here, `local_err` holds the reply's code
    std::int32_t type = 0;
    std::int32_t local_err = 0;
    std::int64_t local_zxid = 0;  ///< header zxid of a local reply; 0: the last zxid seen
    bool close_after = false;     ///< close the connection once this local reply is sent
    /// multi / multiRead: the result type each op gets (a create's is decided by its flags).
    std::vector<std::int32_t> sub_types;
    std::int64_t start_us = 0;
  };

  void handle_connect(const std::uint8_t* data, std::size_t size, Effects* out);
  void handle_request(const std::uint8_t* data, std::size_t size, std::int64_t now_us,
                      Effects* out);
  void answer_locally(const Request& req, std::int32_t err, std::int64_t now_us, Effects* out,
                      std::int64_t zxid = 0, bool close_after = false);
  std::int32_t next_native_xid();
  /// Sends replies for answered-here entries at the FIFO head.
  void flush_local(std::int64_t now_us, Effects* out);
  void emit(const Reply& reply, Effects* out);
  void finish(const Pending& p, std::int64_t zxid, std::int64_t now_us);
  void close(Effects* out, std::string reason);

  TranslatorLimits limits_;
  Stage stage_ = Stage::kAwaitConnect;
  /// An unknown opcode arrived: the replies before it are still sent, then the connection
  /// closes (ZooKeeper answers UNIMPLEMENTED and closes); no further frame is read.
  bool draining_ = false;
  bool client_sent_read_only_ = false;
  std::int64_t session_id_ = 0;
  std::int32_t timeout_ms_ = 0;
  std::int32_t native_xid_ = 0;
  std::deque<Pending> fifo_;
  ConnStats stats_;
};

}  // namespace quorumlab::zkwire
