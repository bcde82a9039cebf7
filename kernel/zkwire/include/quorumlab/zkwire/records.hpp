// The records of ZooKeeper's client protocol (zookeeper.jute as summarised in
// reference/zookeeper.md §1.1, §2.3-§2.7) and their jute encoding, in both directions: the
// server side (decode requests, encode replies) and the client side (encode requests, decode
// replies) used by the benchmark client and the tests.
//
// Requests and replies are flat structs: `type` (the opcode) says which fields are on the
// wire, in the order of the opcode's jute record. The table of body shapes is in records.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "quorumlab/sm/acl.hpp"
#include "quorumlab/sm/znode.hpp"
#include "quorumlab/zkwire/jute.hpp"

namespace quorumlab::zkwire {

/// ZooDefs.OpCode (§1.1).
namespace op {
constexpr std::int32_t kNotification = 0;
constexpr std::int32_t kCreate = 1;
constexpr std::int32_t kDelete = 2;
constexpr std::int32_t kExists = 3;
constexpr std::int32_t kGetData = 4;
constexpr std::int32_t kSetData = 5;
constexpr std::int32_t kGetAcl = 6;
constexpr std::int32_t kSetAcl = 7;
constexpr std::int32_t kGetChildren = 8;
constexpr std::int32_t kSync = 9;
constexpr std::int32_t kPing = 11;
constexpr std::int32_t kGetChildren2 = 12;
constexpr std::int32_t kCheck = 13;
constexpr std::int32_t kMulti = 14;
constexpr std::int32_t kCreate2 = 15;
constexpr std::int32_t kReconfig = 16;
constexpr std::int32_t kCheckWatches = 17;
constexpr std::int32_t kRemoveWatches = 18;
constexpr std::int32_t kCreateContainer = 19;
constexpr std::int32_t kDeleteContainer = 20;
constexpr std::int32_t kCreateTtl = 21;
constexpr std::int32_t kMultiRead = 22;
constexpr std::int32_t kAuth = 100;
constexpr std::int32_t kSetWatches = 101;
constexpr std::int32_t kSasl = 102;
constexpr std::int32_t kGetEphemerals = 103;
constexpr std::int32_t kGetAllChildrenNumber = 104;
constexpr std::int32_t kSetWatches2 = 105;
constexpr std::int32_t kAddWatch = 106;
constexpr std::int32_t kWhoAmI = 107;
constexpr std::int32_t kCreateSession = -10;
constexpr std::int32_t kCloseSession = -11;
constexpr std::int32_t kError = -1;
}  // namespace op

/// Special xids (§2.4).
namespace xid {
constexpr std::int32_t kNotification = -1;
constexpr std::int32_t kPing = -2;
constexpr std::int32_t kAuth = -4;
constexpr std::int32_t kSetWatches = -8;
}  // namespace xid

/// ZooKeeper's name of an opcode ("getData", ...), "unknown" otherwise. Never null.
const char* op_name(std::int32_t type);

/// ConnectRequest (§2.3). `read_only` is absent for clients of 3.3 and older.
struct ConnectRequest {
  std::int32_t protocol_version = 0;
  std::int64_t last_zxid_seen = 0;
  std::int32_t timeout_ms = 0;
  std::int64_t session_id = 0;
  Bytes passwd = Bytes(16);
  std::optional<bool> read_only;
};

/// ConnectResponse (§2.3). `read_only` is written only when present (mirrors the request).
struct ConnectResponse {
  std::int32_t protocol_version = 0;
  std::int32_t timeout_ms = 0;
  std::int64_t session_id = 0;
  Bytes passwd = Bytes(16);
  std::optional<bool> read_only;
};

/// SetWatches (101) and SetWatches2 (105); the persistent lists exist only in the latter.
struct SetWatchesRecord {
  std::int64_t relative_zxid = 0;
  std::vector<std::string> data, exist, child, persistent, persistent_recursive;
};

/// One client request after its RequestHeader. Fields by `type`:
/// - create/create2/createContainer: path, data, acl, flags; createTTL: + ttl.
/// - delete, check: path, version. setData: path, data, version. setACL: path, acl, version.
/// - exists/getData/getChildren/getChildren2: path, watch.
/// - getACL, sync, getAllChildrenNumber: path. getEphemerals: path (the prefix).
/// - checkWatches/removeWatches: path, mode (WatcherType). addWatch: path, mode (AddWatchMode).
/// - setWatches/setWatches2: set_watches. auth: auth_type, scheme, data (credentials).
/// - multi/multiRead: ops (each with type and its fields; no xid). sasl: data (token).
/// - reconfig: joining, leaving, new_members (strings), version (curConfigId is a long: ttl).
/// - ping, closeSession, whoAmI: nothing.
struct Request {
  std::int32_t xid = 0;
  std::int32_t type = 0;
  std::string path;
  Bytes data;
  bool data_null = false;  ///< create/setData data was a null buffer (length -1)
  bool path_null = false;  ///< the path was a null string (length -1)
  sm::AclList acl;
  std::int32_t flags = 0;
  std::int64_t ttl = 0;
  std::int32_t version = -1;
  bool watch = false;
  std::int32_t mode = 0;
  SetWatchesRecord set_watches;
  std::int32_t auth_type = 0;
  std::string scheme;
  std::string joining, leaving, new_members;
  std::vector<Request> ops;
};

/// WhoAmI's ClientInfo.
struct ClientInfo {
  std::string auth_scheme;
  std::string user;
};

/// One result of a multi or multiRead (§2.7). `type` is the opcode of the result record
/// (create 1, create2 15, delete 2, setData 5, check 13, getData 4, getChildren 8) or -1 for
/// an ErrorResult carrying `err`.
struct MultiResult {
  std::int32_t type = op::kError;
  std::int32_t err = 0;
  std::string path;
  sm::Stat stat;
  Bytes data;
  bool data_null = false;  ///< getData of null data: a buffer of length -1
  std::vector<std::string> children;
};

/// One server reply: ReplyHeader plus, when err == 0, the body the request's opcode `type`
/// calls for (`type` is not on the wire; the client knows it from its pending request).
/// Fields by type:
/// - create: path. create2/createContainer/createTTL: path, stat.
/// - exists, setData, setACL, check (standalone): stat. getData: data, stat.
/// - getACL: acl, stat. getChildren: strings. getChildren2: strings, stat. sync: path.
/// - multi/multiRead: results. getEphemerals: strings. getAllChildrenNumber: number.
/// - addWatch: number (ErrorResponse{0}). whoAmI: client_info.
/// - notification (xid -1): event_type, event_state, path.
/// - everything else: header only.
struct Reply {
  std::int32_t xid = 0;
  std::int64_t zxid = 0;
  std::int32_t err = 0;
  std::int32_t type = 0;
  std::string path;
  sm::Stat stat;
  Bytes data;
  bool data_null = false;  ///< getData of null data: a buffer of length -1
  sm::AclList acl;
  std::vector<std::string> strings;
  std::int32_t number = 0;
  std::vector<ClientInfo> client_info;
  std::vector<MultiResult> results;
  std::int32_t event_type = 0;
  std::int32_t event_state = 0;
};

// ------------------------------------------------------------------------ server side

/// Decodes the first frame of a connection. A missing trailing readOnly byte is allowed.
ConnectRequest decode_connect_request(const std::uint8_t* data, std::size_t size,
                                      std::size_t max_length);
/// Appends a ConnectResponse frame (with its length prefix).
void encode_connect_response(const ConnectResponse& r, Bytes* out);

/// Reads the RequestHeader of a later frame into `req` (xid, type). Throws on < 8 bytes.
void decode_request_header(JuteReader& in, Request* req);
/// Decodes the body of a request of `req->type` (header already read). Throws JuteError on a
/// malformed body, std::invalid_argument for an opcode without a known body (the caller
/// answers UNIMPLEMENTED).
void decode_request_body(JuteReader& in, Request* req);
/// True if `type` is an opcode whose request body decode_request_body knows.
bool known_request_type(std::int32_t type);

/// Appends a reply frame: header, then the body for `r.type` when r.err == 0.
void encode_reply(const Reply& r, Bytes* out);

// ------------------------------------------------------------------------ client side

void encode_connect_request(const ConnectRequest& r, Bytes* out);
ConnectResponse decode_connect_response(const std::uint8_t* data, std::size_t size);
/// Appends a request frame (header + body for r.type).
void encode_request(const Request& r, Bytes* out);
/// Decodes a reply frame's payload. `type` is the opcode of the request it answers (ignored
/// for the special xids -1, -2, -4, -8, which carry their own shape).
Reply decode_reply(const std::uint8_t* data, std::size_t size, std::int32_t type);

}  // namespace quorumlab::zkwire
