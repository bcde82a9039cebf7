// Value types of the client API.
#include "quorumlab/client/types.hpp"

#include "quorumlab/client/client.hpp"

namespace quorumlab::client {

bool operator==(const Stat& a, const Stat& b) {
  return a.czxid == b.czxid && a.mzxid == b.mzxid && a.ctime == b.ctime && a.mtime == b.mtime &&
         a.version == b.version && a.cversion == b.cversion && a.aversion == b.aversion &&
         a.ephemeral_owner == b.ephemeral_owner && a.data_length == b.data_length &&
         a.num_children == b.num_children && a.pzxid == b.pzxid;
}

AclList open_acl_unsafe() {
  return {Acl{perms::kAll, Id{"world", "anyone"}}};
}
AclList read_acl_unsafe() {
  return {Acl{perms::kRead, Id{"world", "anyone"}}};
}
AclList creator_all_acl() {
  return {Acl{perms::kAll, Id{"auth", ""}}};
}

std::string perms_to_string(std::int32_t mask) {
  std::string s;
  if (mask & perms::kCreate) s += 'c';
  if (mask & perms::kDelete) s += 'd';
  if (mask & perms::kRead) s += 'r';
  if (mask & perms::kWrite) s += 'w';
  if (mask & perms::kAdmin) s += 'a';
  return s;
}

std::int32_t perms_from_string(const std::string& letters) {
  std::int32_t mask = 0;
  for (char c : letters) {
    switch (c) {
      case 'c':
        mask |= perms::kCreate;
        break;
      case 'd':
        mask |= perms::kDelete;
        break;
      case 'r':
        mask |= perms::kRead;
        break;
      case 'w':
        mask |= perms::kWrite;
        break;
      case 'a':
        mask |= perms::kAdmin;
        break;
      default:
        return -1;
    }
  }
  return mask;
}

const char* to_string(KeeperState state) {
  switch (state) {
    case KeeperState::kDisconnected:
      return "Disconnected";
    case KeeperState::kSyncConnected:
      return "SyncConnected";
    case KeeperState::kAuthFailed:
      return "AuthFailed";
    case KeeperState::kConnectedReadOnly:
      return "ConnectedReadOnly";
    case KeeperState::kClosed:
      return "Closed";
    case KeeperState::kExpired:
      return "Expired";
  }
  return "Unknown";
}

std::string to_string(const WatchedEvent& event) {
  return std::string("WatchedEvent state:") + to_string(event.state) +
         " type:" + to_string(event.type) +
         " path:" + (event.type == EventType::kNone && event.path.empty() ? "null" : event.path);
}

const char* to_string(State state) {
  switch (state) {
    case State::kConnecting:
      return "CONNECTING";
    case State::kConnected:
      return "CONNECTED";
    case State::kClosed:
      return "CLOSED";
    case State::kExpired:
      return "EXPIRED";
    case State::kAuthFailed:
      return "AUTH_FAILED";
  }
  return "UNKNOWN";
}

Op Op::create(std::string path, std::string data, CreateMode mode, AclList acl,
              std::int64_t ttl_ms) {
  Op op;
  op.kind = Kind::kCreate;
  op.path = std::move(path);
  op.data = std::move(data);
  op.mode = mode;
  op.acl = std::move(acl);
  op.ttl_ms = ttl_ms;
  return op;
}

Op Op::remove(std::string path, std::int32_t version) {
  Op op;
  op.kind = Kind::kDelete;
  op.path = std::move(path);
  op.version = version;
  return op;
}

Op Op::set_data(std::string path, std::string data, std::int32_t version) {
  Op op;
  op.kind = Kind::kSetData;
  op.path = std::move(path);
  op.data = std::move(data);
  op.version = version;
  return op;
}

Op Op::check(std::string path, std::int32_t version) {
  Op op;
  op.kind = Kind::kCheck;
  op.path = std::move(path);
  op.version = version;
  return op;
}

Op Op::get_data(std::string path) {
  Op op;
  op.kind = Kind::kGetData;
  op.path = std::move(path);
  return op;
}

Op Op::get_children(std::string path) {
  Op op;
  op.kind = Kind::kGetChildren;
  op.path = std::move(path);
  return op;
}

}  // namespace quorumlab::client
