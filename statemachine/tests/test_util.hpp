// Test helpers: a tree driven by txns with a running zxid and clock.
#pragma once

#include <cstdlib>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "quorumlab/sm/data_tree.hpp"
#include "quorumlab/sm/txn.hpp"

namespace quorumlab::sm {
// Lets GoogleTest print codes by name.
inline void PrintTo(Err e, std::ostream* os) {
  *os << err_name(e) << " (" << err_code(e) << ")";
}
inline void PrintTo(const Stat& s, std::ostream* os) {
  *os << "{czxid " << s.czxid << " mzxid " << s.mzxid << " ctime " << s.ctime << " mtime "
      << s.mtime << " version " << s.version << " cversion " << s.cversion << " aversion "
      << s.aversion << " ephemeralOwner " << s.ephemeralOwner << " dataLength " << s.dataLength
      << " numChildren " << s.numChildren << " pzxid " << s.pzxid << "}";
}
}  // namespace quorumlab::sm

namespace quorumlab::sm::testing {

inline Bytes bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}
inline std::string str(const Bytes& b) {
  return std::string(b.begin(), b.end());
}

inline AuthInfo ip_auth(std::string addr = "127.0.0.1") {
  return AuthInfo{{Id{"ip", addr}}, false};
}
inline AuthInfo digest_auth(std::string_view user, std::string_view password) {
  AuthInfo a = ip_auth();
  add_auth(&a, "digest", std::string(user) + ":" + std::string(password), "");
  return a;
}
inline AuthInfo super_auth() {
  return AuthInfo{{}, true};
}

/// True when built with sanitizers or QL_SMALL_TESTS is set: big tests shrink.
inline bool small_tests() {
#ifdef QL_SANITIZE
  return true;
#else
  return std::getenv("QL_SMALL_TESTS") != nullptr;
#endif
}

/// A DataTree plus the header fields a leader would stamp. Each run() applies one txn with
/// the next zxid and keeps the triggers it produced.
struct Harness {
  explicit Harness(TreeConfig config = {}) : tree(std::move(config)) {}

  DataTree tree;
  Zxid zxid = 0;
  TxnHeader header{0, 1, 1000, ip_auth()};
  std::vector<WatchTrigger> triggers;

  TxnResult run(TxnOp op) {
    triggers.clear();
    header.cxid++;
    return tree.apply(Txn{header, std::move(op)}, ++zxid, &triggers);
  }
  TxnResult create(std::string path, std::string_view data = "",
                   CreateMode mode = CreateMode::kPersistent, AclList acl = open_acl_unsafe(),
                   std::int64_t ttl = -1) {
    return run(CreateOp{std::move(path), bytes(data), std::move(acl),
                        static_cast<std::int32_t>(mode), ttl});
  }
  TxnResult remove(std::string path, std::int32_t version = -1) {
    return run(DeleteOp{std::move(path), version});
  }
  TxnResult set(std::string path, std::string_view data, std::int32_t version = -1) {
    return run(SetDataOp{std::move(path), bytes(data), version});
  }
  TxnResult set_acl(std::string path, AclList acl, std::int32_t version = -1) {
    return run(SetAclOp{std::move(path), std::move(acl), version});
  }
  TxnResult open_session(SessionId id, std::int32_t timeout_ms = 30000) {
    return run(CreateSessionOp{id, timeout_ms});
  }
  TxnResult close_session(SessionId id) { return run(CloseSessionOp{id}); }

  Stat stat(std::string_view path) {
    Stat s;
    tree.exists(path, super_auth(), &s);
    return s;
  }
  std::string data(std::string_view path) {
    Bytes b;
    tree.get_data(path, super_auth(), &b, nullptr);
    return str(b);
  }
  std::vector<std::string> children(std::string_view path) {
    std::vector<std::string> c;
    tree.get_children(path, super_auth(), &c);
    return c;
  }
};

}  // namespace quorumlab::sm::testing
