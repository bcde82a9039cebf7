// The history of a run as the clients saw it: every operation's invocation and completion
// (simulated times, session, op, arguments, result, zxid). The checkers read it.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "quorumlab/types.hpp"

namespace quorumlab::sim {

enum class OpKind : std::uint8_t { create, set, get, exists, remove, sync };
const char* to_string(OpKind k);
inline bool is_write(OpKind k) {
  return k == OpKind::create || k == OpKind::set || k == OpKind::remove;
}
inline bool is_read(OpKind k) {
  return k == OpKind::get || k == OpKind::exists;
}

/// ZooKeeper error codes the checkers look at.
namespace zerr {
constexpr std::int32_t ok = 0;
constexpr std::int32_t no_node = -101;
constexpr std::int32_t node_exists = -110;
constexpr std::int32_t bad_version = -103;
constexpr std::int32_t not_empty = -111;
}  // namespace zerr

/// What an operation saw or left: a znode that exists (data, version, mzxid, czxid) or none.
struct ZnodeState {
  bool exists = false;
  std::string data;
  std::int32_t version = 0;
  Zxid mzxid = 0;
  Zxid czxid = 0;
  bool operator==(const ZnodeState& o) const {
    return exists == o.exists && (!exists || (data == o.data && version == o.version &&
                                              mzxid == o.mzxid && czxid == o.czxid));
  }
  std::string to_string() const;
};

struct HistoryOp {
  static constexpr std::int64_t kNoReply = std::numeric_limits<std::int64_t>::max();

  std::uint64_t id = 0;  ///< dense from 0, in invocation order
  int client = 0;
  SessionId session = 0;
  OpKind kind = OpKind::get;
  std::string key;            ///< path
  std::string data;           ///< create/set argument
  std::int32_t version = -1;  ///< set/remove argument (-1: any)
  bool watch = false;         ///< get/exists left a watch
  std::int64_t invoke_us = 0;
  std::int64_t complete_us = kNoReply;  ///< kNoReply: connection lost, outcome unknown
  std::int32_t err = 0;                 ///< ZooKeeper code of the reply
  ZnodeState observed;                  ///< reads: what was seen; successful writes: the state left
  Zxid zxid = 0;                        ///< the reply's zxid
  std::int32_t xid = 0;                 ///< the request's xid (the txn's cxid for writes)
  /// A write without a reply whose outcome the checkers took from the committed log (the txn
  /// with this session and cxid): err, observed and zxid are set, the reply time stays unknown.
  bool outcome_from_log = false;
  /// The effect happened no later than this (its txn's first apply; kNoReply: unknown).
  std::int64_t effect_by_us = kNoReply;

  bool completed() const { return complete_us != kNoReply; }
  std::string to_string() const;
};

struct History {
  std::vector<HistoryOp> ops;
};

}  // namespace quorumlab::sim
