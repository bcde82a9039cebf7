// Value types of the client API: Stat, ACLs, create modes, watch events, results and multi ops.
// Numbering follows ZooKeeper (reference §1.1-1.3, §1.11) so values cross both protocols
// unchanged.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "quorumlab/client/errors.hpp"
#include "quorumlab/zk_types.hpp"

namespace quorumlab::client {

/// A znode's metadata (reference §1.3). cversion is the client-visible value (creates+deletes).
struct Stat {
  std::int64_t czxid = 0;
  std::int64_t mzxid = 0;
  std::int64_t ctime = 0;  // ms since the epoch
  std::int64_t mtime = 0;  // ms since the epoch
  std::int32_t version = 0;
  std::int32_t cversion = 0;
  std::int32_t aversion = 0;
  std::int64_t ephemeral_owner = 0;
  std::int32_t data_length = 0;
  std::int32_t num_children = 0;
  std::int64_t pzxid = 0;

  friend bool operator==(const Stat& a, const Stat& b);
  friend bool operator!=(const Stat& a, const Stat& b) { return !(a == b); }
};

/// ACL permission bits (ZooDefs.Perms).
namespace perms {
constexpr std::int32_t kRead = 1;
constexpr std::int32_t kWrite = 2;
constexpr std::int32_t kCreate = 4;
constexpr std::int32_t kDelete = 8;
constexpr std::int32_t kAdmin = 16;
constexpr std::int32_t kAll = 31;
}  // namespace perms

struct Id {
  std::string scheme;
  std::string id;
  friend bool operator==(const Id& a, const Id& b) { return a.scheme == b.scheme && a.id == b.id; }
};

struct Acl {
  std::int32_t perms = 0;
  Id id;
  friend bool operator==(const Acl& a, const Acl& b) { return a.perms == b.perms && a.id == b.id; }
};

using AclList = std::vector<Acl>;

/// world:anyone with every permission (ZooDefs.Ids.OPEN_ACL_UNSAFE).
AclList open_acl_unsafe();
/// world:anyone read-only (ZooDefs.Ids.READ_ACL_UNSAFE).
AclList read_acl_unsafe();
/// auth: every permission for the creator's authenticated ids (ZooDefs.Ids.CREATOR_ALL_ACL).
AclList creator_all_acl();

/// zkCli's permission letters for a mask, in the order "cdrwa".
std::string perms_to_string(std::int32_t mask);
/// Parses zkCli letters ("cdrwa", any order) into a mask; -1 on an unknown letter.
std::int32_t perms_from_string(const std::string& letters);

/// Create modes and event types are quorumlab/zk_types.hpp's, shared with the server side.
using quorumlab::CreateMode;
using quorumlab::EventType;
using quorumlab::is_sequential;
using quorumlab::is_ttl;

/// Watcher.Event.KeeperState. The server always sends SyncConnected; the rest are the client's.
enum class KeeperState : std::int32_t {
  kDisconnected = 0,
  kSyncConnected = 3,
  kAuthFailed = 4,
  kConnectedReadOnly = 5,
  kClosed = 7,
  kExpired = -112,
};

using quorumlab::AddWatchMode;
using quorumlab::WatcherType;

/// ZooKeeper's Java names: "NodeDataChanged", "SyncConnected", ...
inline const char* to_string(EventType type) {
  return event_type_name(type);
}
const char* to_string(KeeperState state);

/// A watch or session event. Session events have type kNone and an empty path.
struct WatchedEvent {
  EventType type = EventType::kNone;
  KeeperState state = KeeperState::kSyncConnected;
  std::string path;        // client path (chroot stripped)
  std::int64_t zxid = -1;  // zxid of the txn that fired it, -1 if none
};

/// zkCli's rendering: "WatchedEvent state:SyncConnected type:NodeDataChanged path:/a"
/// (path "null" for session events).
std::string to_string(const WatchedEvent& event);

/// Receives watch events, on the client's event thread.
using Watcher = std::function<void(const WatchedEvent&)>;

/// The body of a call without one.
struct None {};

/// The outcome of a call: err is OK and value holds the body, or err holds the code.
template <class T>
struct Result {
  Error err = Error::OK;
  T value{};
  /// The zxid of the server's reply (the server's position in the history when it answered);
  /// 0 when no reply came (a local error, a lost connection, a closed client).
  std::int64_t zxid = 0;

  bool ok() const { return err == Error::OK; }
};

/// Receives an asynchronous call's result, on the client's event thread.
template <class T>
using Callback = std::function<void(Result<T>)>;

struct Created {
  std::string path;  // the real path (sequential suffix added), chroot stripped
  Stat stat;
};

struct DataResult {
  std::string data;  // raw bytes
  Stat stat;
  bool null = false;  ///< the node holds null data (ZooKeeper's null byte[]); `data` is empty
};

struct ChildrenResult {
  std::vector<std::string> children;  // names, unspecified order
  Stat stat;                          // of the parent
};

struct AclResult {
  AclList acl;
  Stat stat;
};

/// One operation of multi (create, remove, set_data, check) or multi_read (get_data,
/// get_children). Build with the factory functions.
struct Op {
  enum class Kind { kCreate, kDelete, kSetData, kCheck, kGetData, kGetChildren };
  Kind kind = Kind::kCheck;
  std::string path;
  std::string data;
  std::int32_t version = -1;
  CreateMode mode = CreateMode::kPersistent;
  AclList acl;
  std::int64_t ttl_ms = 0;

  static Op create(std::string path, std::string data, CreateMode mode = CreateMode::kPersistent,
                   AclList acl = open_acl_unsafe(), std::int64_t ttl_ms = 0);
  static Op remove(std::string path, std::int32_t version = -1);
  static Op set_data(std::string path, std::string data, std::int32_t version = -1);
  static Op check(std::string path, std::int32_t version);
  static Op get_data(std::string path);
  static Op get_children(std::string path);
  bool is_read() const { return kind == Kind::kGetData || kind == Kind::kGetChildren; }
};

/// The result of one op of multi or multi_read. Fields are set according to the op: path and
/// stat for create, stat for set_data, data and stat for get_data, children for get_children.
/// In a failed multi the failing op carries its code and later ops RUNTIMEINCONSISTENCY.
struct OpResult {
  Error err = Error::OK;
  std::string path;
  Stat stat;
  std::string data;
  std::vector<std::string> children;
};

}  // namespace quorumlab::client
