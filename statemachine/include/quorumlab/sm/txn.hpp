// Txns: what the leader's kernel proposes and every replica applies to its DataTree, plus a
// compact binary codec for carrying them through a broadcast plugin as opaque bytes.
//
// A txn is the *request* as the leader saw it, stamped with the requester's session, cxid,
// the leader's wall-clock time and the connection's auth ids. Unlike ZooKeeper's
// PrepRequestProcessor output, validation (versions, ACLs, NONODE, ...) happens when the txn
// is applied, deterministically, on every replica (see data_tree.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "quorumlab/sm/acl.hpp"
#include "quorumlab/types.hpp"

namespace quorumlab::sm {

/// Stamped by the leader's kernel when it turns a request into a txn.
struct TxnHeader {
  SessionId session_id = 0;  ///< requesting session (owner of ephemerals it creates)
  std::int32_t cxid = 0;     ///< the client's xid, echoed back for matching replies
  std::int64_t time_ms = 0;  ///< leader's wall clock; becomes ctime/mtime; used by deleteExpired
  AuthInfo auth;             ///< the requesting connection's ids, for ACL checks at apply
};

/// create / create2 / createContainer / createTTL (§1.1, §1.2). `mode` is the raw
/// CreateRequest.flags (0..6, anything else is BADARGUMENTS). `ttl_ms` must be in
/// [1, 2^40-1] for the TTL modes and negative (-1) for every other mode, as in ZooKeeper's
/// `EphemeralType.validateTTL`; the kernel sets it from CreateTTLRequest.ttl or leaves -1.
struct CreateOp {
  std::string path;
  Bytes data;
  AclList acl;
  std::int32_t mode = 0;
  std::int64_t ttl_ms = -1;
  /// Null data (jute buffer length -1), as ZooKeeper stores it; `data` is then empty.
  bool data_null = false;
};

/// delete (§1.4: version -1 matches any version).
struct DeleteOp {
  std::string path;
  std::int32_t version = -1;
};

/// setData; `version` is compared with the node's version.
struct SetDataOp {
  std::string path;
  Bytes data;
  std::int32_t version = -1;
  bool data_null = false;  ///< null data (see CreateOp::data_null)
};

/// setACL; `version` is compared with the node's aversion.
struct SetAclOp {
  std::string path;
  AclList acl;
  std::int32_t version = -1;
};

/// check (CheckVersionRequest): READ on the node and a version comparison, no change.
struct CheckOp {
  std::string path;
  std::int32_t version = -1;
};

/// One operation of a multi (§1.13): create, delete, setData or check.
using MultiSubOp = std::variant<CreateOp, DeleteOp, SetDataOp, CheckOp>;

/// multi: all-or-nothing, one zxid for all ops; later ops see the effects of earlier ones.
struct MultiOp {
  std::vector<MultiSubOp> ops;
};

/// createSession: a global session enters the session table (CreateSessionTxn{timeOut}).
struct CreateSessionOp {
  SessionId session_id = 0;
  std::int32_t timeout_ms = 0;
};

/// closeSession: the session leaves the table and its ephemerals are deleted.
struct CloseSessionOp {
  SessionId session_id = 0;
};

/// The leader's container/TTL cleanup (ZooKeeper's deleteContainer, opcode 20). Apply
/// re-checks that the node is still expired at the txn's time_ms, so a stale request is a
/// harmless error.
struct DeleteExpiredOp {
  std::string path;
};

/// A txn that changes nothing (e.g. a new leader's first proposal); still consumes its zxid.
struct NoOp {};

using TxnOp = std::variant<NoOp, CreateOp, DeleteOp, SetDataOp, SetAclOp, CheckOp, MultiOp,
                           CreateSessionOp, CloseSessionOp, DeleteExpiredOp>;

struct Txn {
  TxnHeader header;
  TxnOp op;
};

/// Operation kinds, numbered as ZooKeeper's opcodes where one exists (used in results).
enum class OpType : std::int32_t {
  kNoOp = 0,
  kCreate = 1,
  kDelete = 2,
  kSetData = 5,
  kSetAcl = 7,
  kCheck = 13,
  kMulti = 14,
  kDeleteExpired = 20,
  kCreateSession = -10,
  kCloseSession = -11,
};

/// The OpType of an op or sub-op.
OpType op_type(const TxnOp& op);
OpType op_type(const MultiSubOp& op);

/// Serializes a txn. The format (documented in txn_codec.cpp) is versioned, little-endian
/// varints and length-prefixed strings; it is ours, not jute. Deterministic: equal txns give
/// equal bytes.
Bytes encode(const Txn& txn);

/// Parses bytes produced by `encode`. Any other input (truncated, garbage, trailing bytes,
/// out-of-range integers, overlong varints, unknown tags, a multi nesting a multi or setACL)
/// gives nullopt and, if `error` is non-null, a one-line reason. Never reads outside
/// [data, data+size); every length and count is checked against the bytes left before
/// anything is allocated, so memory use is O(size) whatever the input.
std::optional<Txn> decode(const std::uint8_t* data, std::size_t size, std::string* error);
inline std::optional<Txn> decode(const Bytes& bytes, std::string* error) {
  return decode(bytes.data(), bytes.size(), error);
}

bool operator==(const CreateOp& a, const CreateOp& b);
bool operator==(const DeleteOp& a, const DeleteOp& b);
bool operator==(const SetDataOp& a, const SetDataOp& b);
bool operator==(const SetAclOp& a, const SetAclOp& b);
bool operator==(const CheckOp& a, const CheckOp& b);
bool operator==(const MultiOp& a, const MultiOp& b);
bool operator==(const CreateSessionOp& a, const CreateSessionOp& b);
bool operator==(const CloseSessionOp& a, const CloseSessionOp& b);
bool operator==(const DeleteExpiredOp& a, const DeleteExpiredOp& b);
bool operator==(const NoOp& a, const NoOp& b);
bool operator==(const TxnHeader& a, const TxnHeader& b);
bool operator==(const Txn& a, const Txn& b);

}  // namespace quorumlab::sm
