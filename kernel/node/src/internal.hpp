// Private parts of Node shared by its source files.
#pragma once

#include <algorithm>
#include <memory>
#include <optional>

#include "quorumlab/node/capnp_util.hpp"
#include "quorumlab/node/node.hpp"
#include "quorumlab/proto/client.capnp.h"
#include "quorumlab/proto/peer.capnp.h"

namespace quorumlab::node {

/// Bounds with names (every queue has one; the overflow path is tested).
constexpr std::size_t kMaxPendingPerConnection = 10000;  ///< requests in flight per session
constexpr std::size_t kReadyLoopMax = 1000;              ///< Ready batches per process()
constexpr std::size_t kExpiredNodesPerCheck = 1000;      ///< deleteExpired txns per check
constexpr std::int64_t kContainerCheckTicks = 100;       ///< container/TTL check period
constexpr std::uint64_t kClientTraversalWords = 64 * 1024 * 1024;  ///< 512 MiB read limit

/// The read limit for the first, whole look at a received message of `size` bytes: twice its
/// words. Cap'n Proto counts each element of a list of zero-sized structs as one word read, so
/// with this limit a message cannot claim more elements than it has room for; with a fixed
/// limit a 100-byte message listed 64 million empty session touches and the node walked (and
/// answered) them all.
inline std::uint64_t received_traversal_words(std::size_t size, std::uint64_t cap) {
  return std::min<std::uint64_t>(cap, 2 * (size / sizeof(capnp::word)) + 64);
}

enum class PendingKind : std::uint8_t { write, close, read, barrier_read, sync_op, local };

struct Node::Pending {
  std::int32_t xid = 0;
  PendingKind kind = PendingKind::read;
  bool done = false;
  bool barrier_resolved = true;
  std::uint64_t barrier_id = 0;          ///< the barrier it waits for (0: none)
  Zxid wait_zxid = 0;                    ///< serve once applied_zxid_ >= this
  std::unique_ptr<CapnpReader> request;  ///< reads/local ops: executed at the head
  std::optional<sm::Txn> held_txn;       ///< write/close not yet submitted (behind a barrier)

  /// True while it waits for its barrier to come back from the leader.
  bool awaits_barrier() const {
    return (kind == PendingKind::sync_op || kind == PendingKind::barrier_read) && !barrier_resolved;
  }
  Bytes response;  ///< set when done
};

struct Node::Connection {
  ConnId id = 0;
  SessionId session = 0;
  bool connecting = false;    ///< waiting for createSession to apply, or for revalidation
  bool revalidating = false;  ///< a learner waits for the leader to confirm the session
  bool read_only = false;     ///< a read-only session of a server outside a quorum
  bool closing = false;       ///< closeSession answered: drop after flushing
  std::int32_t timeout_ms = 0;
  std::string address;
  sm::AuthInfo auth;
  std::deque<Pending> queue;
};

/// The tree's settings from the node's.
inline sm::TreeConfig tree_config(const NodeConfig& c) {
  sm::TreeConfig t;
  t.max_data_bytes = static_cast<std::size_t>(c.settings.get_int("max_data_bytes"));
  t.super_digest = c.settings.get_string("super_digest");
  return t;
}

/// 16-byte session password, computable by every server from the session id.
Bytes session_password(SessionId id);

/// Builds a Response for a txn applied on behalf of a request with `xid`.
Bytes write_response(std::int32_t xid, Zxid zxid, const sm::TxnResult& result);
/// A Response carrying only an error code.
Bytes error_response(std::int32_t xid, Zxid zxid, sm::Err err);
/// Turns a write request into a txn op; false (and `err`) if the request is not a write.
bool write_op_from_request(proto::Request::Reader req, sm::TxnOp* op, sm::Err* err);
/// Copies a Stat into its Cap'n Proto form.
void fill_stat(proto::Stat::Builder b, const sm::Stat& s);

}  // namespace quorumlab::node
