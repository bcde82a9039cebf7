// Differential test: random op sequences applied to DataTree and to a deliberately naive model
// (std::map of full paths, everything by brute force, multi by copying the whole model),
// compared result by result, trigger by trigger and stat by stat, and the reads (exists, getData,
// getChildren, getACL, getAllChildrenNumber, getEphemerals, multiRead) answered by both after
// every op. The model is written from reference/zookeeper.md §1.1-§1.13, not from the DataTree
// code. Thousands of short sequences and a few long ones; every failure names the seed and the
// op index, and QL_DIFF_SEED=<seed> [QL_DIFF_OPS=<ops>] reruns that one sequence.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "quorumlab/sm/data_tree.hpp"
#include "quorumlab/sm/path.hpp"
#include "test_util.hpp"

namespace quorumlab::sm {

namespace {

// ================================================================== the naive model

enum class Kind { kPersistent, kEphemeral, kContainer, kTtl };

struct MNode {
  Bytes data;
  AclList acl;
  std::int64_t czxid = 0, mzxid = 0, pzxid = 0, ctime = 0, mtime = 0;
  std::int32_t version = 0, cversion = 0, aversion = 0;  // cversion: creates only
  Kind kind = Kind::kPersistent;
  std::int64_t session = 0;  // ephemerals
  std::int64_t ttl = 0;      // TTL nodes
};

struct MTrigger {
  EventType type;
  std::string path;
  AclList acl;
};

struct Model {
  TreeConfig cfg;
  std::map<std::string, MNode> nodes;
  std::map<SessionId, std::int32_t> sessions;
  std::vector<MTrigger> triggers;

  explicit Model(TreeConfig c) : cfg(std::move(c)) {
    nodes["/"].acl = open_acl_unsafe();
    nodes["/zookeeper"].acl = open_acl_unsafe();
    nodes["/zookeeper/quota"].acl = open_acl_unsafe();
    nodes["/zookeeper/config"].acl = read_acl_unsafe();
    nodes["/zookeeper/config"].aversion = -1;
  }

  static std::string parent_of(const std::string& p) {
    const auto slash = p.rfind('/');
    return slash == 0 ? "/" : p.substr(0, slash);
  }
  std::vector<std::string> children(const std::string& p) const {
    std::vector<std::string> out;
    for (const auto& [path, n] : nodes) {
      if (path != "/" && parent_of(path) == p)
        out.push_back(path.substr(p == "/" ? 1 : p.size() + 1));
    }
    return out;  // std::map order == byte order of names under one parent
  }
  MNode* get(const std::string& p) {
    auto it = nodes.find(p);
    return it == nodes.end() ? nullptr : &it->second;
  }
  Stat stat(const std::string& p) const {
    const MNode& n = nodes.at(p);
    const auto kids = static_cast<std::int32_t>(children(p).size());
    Stat s;
    s.czxid = n.czxid, s.mzxid = n.mzxid, s.pzxid = n.pzxid;
    s.ctime = n.ctime, s.mtime = n.mtime;
    s.version = n.version, s.aversion = n.aversion;
    s.cversion = static_cast<std::int32_t>(static_cast<std::uint32_t>(n.cversion) * 2u -
                                           static_cast<std::uint32_t>(kids));
    s.ephemeralOwner = n.kind == Kind::kEphemeral ? n.session : 0;
    s.dataLength = static_cast<std::int32_t>(n.data.size());
    s.numChildren = kids;
    return s;
  }
  void fire(EventType t, const std::string& p) { triggers.push_back({t, p, nodes.at(p).acl}); }

  // ---- ops; `r` gets err/path/stat

  void create(const CreateOp& op, const TxnHeader& h, std::int64_t zxid, OpResult* r) {
    r->type = OpType::kCreate;
    const int m = op.mode;
    // 7: quorumlab's sequential container (createContainer with a sequential flag).
    const bool ttl = m == 5 || m == 6, eph = m == 1 || m == 3,
               seq = m == 2 || m == 3 || m == 6 || m == 7;
    AclList acl;
    if (op.data.size() > cfg.max_data_bytes || m < 0 || m > 7) {
      r->err = Err::BADARGUMENTS;
    } else if (ttl && !cfg.extended_types_enabled) {
      r->err = Err::UNIMPLEMENTED;
    } else if (ttl ? (op.ttl_ms <= 0 || op.ttl_ms >= (std::int64_t{1} << 40)) : op.ttl_ms >= 0) {
      r->err = Err::BADARGUMENTS;
    } else if (eph && !sessions.count(h.session_id)) {
      r->err = Err::SESSIONEXPIRED;
    } else if (op.path.find('/') == std::string::npos || op.path.find('\0') != std::string::npos) {
      r->err = Err::BADARGUMENTS;
    } else if ((r->err = fixup_acl(op.acl, h.auth, &acl)) != Err::OK) {
    } else if (!get(parent_of(op.path))) {
      r->err = Err::NONODE;
    } else if (!check_acl(get(parent_of(op.path))->acl, perms::kCreate, h.auth)) {
      r->err = Err::NOAUTH;
    }
    if (r->err != Err::OK) return;
    const std::string parent = parent_of(op.path);
    std::string path = op.path;
    if (seq) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%010d", nodes[parent].cversion);
      path += buf;
    }
    if (!is_valid_path(path)) {
      r->err = Err::BADARGUMENTS;
    } else if (get(path)) {
      r->err = Err::NODEEXISTS;
    } else if (nodes[parent].kind == Kind::kEphemeral) {
      r->err = Err::NOCHILDRENFOREPHEMERALS;
    }
    if (r->err != Err::OK) return;
    MNode n;
    n.data = op.data;
    n.acl = acl;
    n.czxid = n.mzxid = n.pzxid = zxid;
    n.ctime = n.mtime = h.time_ms;
    n.kind = eph                ? Kind::kEphemeral
             : m == 4 || m == 7 ? Kind::kContainer
             : ttl              ? Kind::kTtl
                                : Kind::kPersistent;
    n.session = eph ? h.session_id : 0;
    n.ttl = ttl ? op.ttl_ms : 0;
    nodes[path] = n;
    MNode& p = nodes[parent];
    p.cversion = static_cast<std::int32_t>(static_cast<std::uint32_t>(p.cversion) + 1u);
    p.pzxid = zxid;
    r->path = path;
    r->stat = stat(path);
    fire(EventType::kNodeCreated, path);
    fire(EventType::kNodeChildrenChanged, parent);
  }

  void erase(const std::string& path, std::int64_t zxid) {
    const std::string parent = parent_of(path);
    nodes[parent].pzxid = zxid;
    triggers.push_back({EventType::kNodeDeleted, path, nodes[path].acl});
    nodes.erase(path);
    fire(EventType::kNodeChildrenChanged, parent);
  }

  static bool deletable(const std::string& p) {
    return p.find('/') != std::string::npos && p.find('\0') == std::string::npos && p != "/" &&
           p != "/zookeeper" && p != "/zookeeper/quota" && p != "/zookeeper/config";
  }

  void remove(const DeleteOp& op, const TxnHeader& h, std::int64_t zxid, OpResult* r) {
    r->type = OpType::kDelete;
    MNode* parent = deletable(op.path) ? get(parent_of(op.path)) : nullptr;
    MNode* n = get(op.path);
    if (!deletable(op.path)) {
      r->err = Err::BADARGUMENTS;
    } else if (!parent) {
      r->err = Err::NONODE;
    } else if (!check_acl(parent->acl, perms::kDelete, h.auth)) {
      r->err = Err::NOAUTH;
    } else if (!n) {
      r->err = Err::NONODE;
    } else if (op.version != -1 && op.version != n->version) {
      r->err = Err::BADVERSION;
    } else if (!children(op.path).empty()) {
      r->err = Err::NOTEMPTY;
    } else {
      erase(op.path, zxid);
    }
  }

  void set_data(const SetDataOp& op, const TxnHeader& h, std::int64_t zxid, OpResult* r) {
    r->type = OpType::kSetData;
    MNode* n = get(op.path);
    if (op.data.size() > cfg.max_data_bytes || !is_valid_path(op.path)) {
      r->err = Err::BADARGUMENTS;
    } else if (!n) {
      r->err = Err::NONODE;
    } else if (!check_acl(n->acl, perms::kWrite, h.auth)) {
      r->err = Err::NOAUTH;
    } else if (op.version != -1 && op.version != n->version) {
      r->err = Err::BADVERSION;
    } else {
      n->data = op.data;
      n->version++;
      n->mzxid = zxid;
      n->mtime = h.time_ms;
      r->stat = stat(op.path);
      fire(EventType::kNodeDataChanged, op.path);
    }
  }

  void set_acl(const SetAclOp& op, const TxnHeader& h, OpResult* r) {
    r->type = OpType::kSetAcl;
    AclList acl;
    MNode* n = get(op.path);
    if (!is_valid_path(op.path)) {
      r->err = Err::BADARGUMENTS;
    } else if ((r->err = fixup_acl(op.acl, h.auth, &acl)) != Err::OK) {
    } else if (!n) {
      r->err = Err::NONODE;
    } else if (!check_acl(n->acl, perms::kAdmin, h.auth)) {
      r->err = Err::NOAUTH;
    } else if (op.version != -1 && op.version != n->aversion) {
      r->err = Err::BADVERSION;
    } else {
      n->acl = acl;
      n->aversion++;
      r->stat = stat(op.path);
    }
  }

  void check(const CheckOp& op, const TxnHeader& h, OpResult* r) {
    r->type = OpType::kCheck;
    MNode* n = get(op.path);
    if (!is_valid_path(op.path)) {
      r->err = Err::BADARGUMENTS;
    } else if (!n) {
      r->err = Err::NONODE;
    } else if (!check_acl(n->acl, perms::kRead, h.auth)) {
      r->err = Err::NOAUTH;
    } else if (op.version != -1 && op.version != n->version) {
      r->err = Err::BADVERSION;
    } else {
      r->stat = stat(op.path);
    }
  }

  bool expired(const std::string& p, std::int64_t now) const {
    const MNode& n = nodes.at(p);
    if (!children(p).empty()) return false;
    const std::int64_t elapsed = now - n.mtime;  // the generator keeps times small
    if (n.kind == Kind::kContainer) {
      return n.cversion > 0 ||
             (cfg.container_max_never_used_ms != 0 && elapsed > cfg.container_max_never_used_ms);
    }
    return n.kind == Kind::kTtl && elapsed > n.ttl;
  }

  void apply(const Txn& txn, std::int64_t zxid, TxnResult* out) {
    triggers.clear();
    const TxnHeader& h = txn.header;
    OpResult r;
    if (auto* cr = std::get_if<CreateOp>(&txn.op)) {
      create(*cr, h, zxid, &r);
    } else if (auto* de = std::get_if<DeleteOp>(&txn.op)) {
      remove(*de, h, zxid, &r);
    } else if (auto* sd = std::get_if<SetDataOp>(&txn.op)) {
      set_data(*sd, h, zxid, &r);
    } else if (auto* sa = std::get_if<SetAclOp>(&txn.op)) {
      set_acl(*sa, h, &r);
    } else if (auto* ck = std::get_if<CheckOp>(&txn.op)) {
      check(*ck, h, &r);
    } else if (auto* mu = std::get_if<MultiOp>(&txn.op)) {
      multi(*mu, h, zxid, out);
      return;
    } else if (auto* cs = std::get_if<CreateSessionOp>(&txn.op)) {
      r.type = OpType::kCreateSession;
      if (cs->session_id == 0) {
        r.err = Err::BADARGUMENTS;
      } else {
        sessions[cs->session_id] = cs->timeout_ms;
      }
    } else if (auto* cl = std::get_if<CloseSessionOp>(&txn.op)) {
      r.type = OpType::kCloseSession;
      if (sessions.erase(cl->session_id)) {
        std::vector<std::string> doomed;
        for (const auto& [p, n] : nodes) {
          if (n.kind == Kind::kEphemeral && n.session == cl->session_id) doomed.push_back(p);
        }
        for (const std::string& p : doomed)
          erase(p, zxid);
      }
    } else if (auto* dx = std::get_if<DeleteExpiredOp>(&txn.op)) {
      r.type = OpType::kDeleteExpired;
      if (!deletable(dx->path)) {
        r.err = Err::BADARGUMENTS;
      } else if (!get(dx->path)) {
        r.err = Err::NONODE;
      } else if (!children(dx->path).empty()) {
        r.err = Err::NOTEMPTY;
      } else if (!expired(dx->path, h.time_ms)) {
        r.err = Err::BADVERSION;
      } else {
        erase(dx->path, zxid);
      }
    }
    *out = TxnResult{r.type, r.err, r.path, r.stat, {}};
  }

  void multi(const MultiOp& m, const TxnHeader& h, std::int64_t zxid, TxnResult* out) {
    const auto saved_nodes = nodes;
    out->type = OpType::kMulti;
    out->err = Err::OK;
    std::size_t failed = m.ops.size();
    for (std::size_t i = 0; i < m.ops.size(); ++i) {
      OpResult r;
      const MultiSubOp& op = m.ops[i];
      if (auto* o = std::get_if<CreateOp>(&op)) create(*o, h, zxid, &r);
      if (auto* o = std::get_if<DeleteOp>(&op)) remove(*o, h, zxid, &r);
      if (auto* o = std::get_if<SetDataOp>(&op)) set_data(*o, h, zxid, &r);
      if (auto* o = std::get_if<CheckOp>(&op)) check(*o, h, &r);
      out->multi.push_back(r);
      if (r.err != Err::OK) {
        failed = i;
        break;
      }
    }
    if (failed == m.ops.size()) return;
    nodes = saved_nodes;
    triggers.clear();
    out->err = out->multi[failed].err;
    out->multi.clear();
    for (std::size_t i = 0; i < m.ops.size(); ++i) {
      OpResult r;
      r.type = op_type(m.ops[i]);
      r.err = i < failed ? Err::OK : i == failed ? out->err : Err::RUNTIMEINCONSISTENCY;
      out->multi.push_back(r);
    }
  }

  // ---- reads (§1.1, §1.7, §1.13): READ is needed on the node itself

  Err readable(const std::string& p, const AuthInfo& auth) const {
    auto it = nodes.find(p);
    if (it == nodes.end()) return Err::NONODE;
    return check_acl(it->second.acl, perms::kRead, auth) ? Err::OK : Err::NOAUTH;
  }
  Err exists(const std::string& p, const AuthInfo& auth, Stat* st) const {
    if (p.find('\0') != std::string::npos) return Err::BADARGUMENTS;
    const Err e = readable(p, auth);
    if (e == Err::OK) *st = stat(p);
    return e;
  }
  Err all_children_number(const std::string& p, const AuthInfo& auth, std::int32_t* n) const {
    const Err e = readable(p, auth);
    if (e != Err::OK) return e;
    const std::string prefix = p == "/" ? "/" : p + "/";
    *n = 0;
    for (const auto& [path, node] : nodes) {
      if (path != p && path.compare(0, prefix.size(), prefix) == 0) ++*n;
    }
    return Err::OK;
  }
  // getACL: READ or ADMIN; without ADMIN digest ids read "user:x".
  Err acl_of(const std::string& p, const AuthInfo& auth, AclList* acl, Stat* st) const {
    auto it = nodes.find(p);
    if (it == nodes.end()) return Err::NONODE;
    const AclList& stored = it->second.acl;
    if (!check_acl(stored, perms::kRead, auth) && !check_acl(stored, perms::kAdmin, auth))
      return Err::NOAUTH;
    *acl = stored;
    if (!check_acl(stored, perms::kAdmin, auth)) {
      for (Acl& a : *acl) {
        if (a.id.scheme == "digest") a.id.id = a.id.id.substr(0, a.id.id.find(':')) + ":x";
      }
    }
    *st = stat(p);
    return Err::OK;
  }
  std::vector<std::string> ephemerals(SessionId session, const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& [path, n] : nodes) {
      if (n.kind == Kind::kEphemeral && n.session == session &&
          path.compare(0, prefix.size(), prefix) == 0)
        out.push_back(path);
    }
    return out;
  }
  std::vector<ReadResult> multi_read(const std::vector<ReadOp>& ops, const AuthInfo& auth) const {
    std::vector<ReadResult> out;
    for (const ReadOp& op : ops) {
      ReadResult r;
      r.err = readable(op.path, auth);
      if (r.err == Err::OK && op.kind == ReadOp::Kind::kGetData) {
        r.data = nodes.at(op.path).data;
        r.stat = stat(op.path);
      } else if (r.err == Err::OK) {
        r.children = children(op.path);
      }
      out.push_back(r);
    }
    return out;
  }
};

// ================================================================== the generator

struct Gen {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  bool chance(int percent) { return below(100) < static_cast<std::uint64_t>(percent); }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }
};

struct Scenario {
  Gen g;
  std::int64_t time_ms = 1000;
  std::vector<std::string> paths;  // valid paths over a small alphabet (collisions happen)
  std::vector<AuthInfo> auths;
  std::vector<AclList> acls;
  std::vector<std::string> created;  // recent create results (sequential names)

  explicit Scenario(std::uint64_t seed) : g{seed} {
    for (const char* a : {"a", "b", "c"}) {
      paths.push_back(std::string("/") + a);
      for (const char* b : {"a", "b"}) {
        paths.push_back(std::string("/") + a + "/" + b);
        paths.push_back(std::string("/") + a + "/" + b + "/x");
      }
    }
    auths = {testing::ip_auth(), testing::digest_auth("bob", "pw"),
             testing::digest_auth("alice", "pw"), testing::ip_auth("10.1.2.3"),
             testing::super_auth()};
    const std::string bob = digest_id("bob", "pw");
    acls = {open_acl_unsafe(),
            open_acl_unsafe(),
            read_acl_unsafe(),
            creator_all_acl(),
            {{perms::kAll, {"digest", bob}}},
            {{perms::kAll, {"ip", "10.0.0.0/8"}}, {perms::kRead, {"world", "anyone"}}},
            {{perms::kAll & ~perms::kDelete, {"world", "anyone"}}},
            {{perms::kRead | perms::kCreate, {"world", "anyone"}}, {perms::kAll, {"digest", bob}}},
            {},                                             // INVALIDACL
            {{perms::kAll, {"nosuch", "x"}}},               // INVALIDACL
            {open_acl_unsafe()[0], open_acl_unsafe()[0]}};  // duplicates
  }

  std::string path() {
    if (g.chance(3))
      return g.pick(
          std::vector<std::string>{"/a/", "a", "", "/zookeeper", "/", "/a//b", "/zookeeper/quota"});
    if (!created.empty() && g.chance(15)) return g.pick(created);
    return g.pick(paths);
  }
  Bytes data() {
    if (g.chance(3)) return Bytes(65, 'x');  // over the 64-byte limit of this test
    return Bytes(g.below(6), static_cast<std::uint8_t>('a' + g.below(3)));
  }
  std::int32_t version() {
    if (g.chance(50)) return -1;
    return static_cast<std::int32_t>(g.below(4));
  }
  CreateOp create() {
    CreateOp op;
    op.path = path();
    op.data = data();
    op.acl = g.pick(acls);
    static const std::vector<std::int32_t> kModes = {0, 0, 0, 1, 1, 2, 2, 3, 4, 5, 6, 7, 8};
    op.mode = g.pick(kModes);
    const bool ttl = op.mode == 5 || op.mode == 6;
    op.ttl_ms = ttl ? static_cast<std::int64_t>(g.below(300)) : (g.chance(3) ? 5 : -1);
    return op;
  }
  MultiSubOp sub_op() {
    switch (g.below(4)) {
      case 0:
        return create();
      case 1:
        return DeleteOp{path(), version()};
      case 2:
        return SetDataOp{path(), data(), version()};
      default:
        return CheckOp{path(), version()};
    }
  }
  TxnOp op() {
    const std::uint64_t r = g.below(100);
    if (r < 30) return create();
    if (r < 45) return DeleteOp{path(), version()};
    if (r < 58) return SetDataOp{path(), data(), version()};
    if (r < 63) return SetAclOp{path(), g.pick(acls), version()};
    if (r < 68) return CheckOp{path(), version()};
    if (r < 80) {
      MultiOp m;
      for (std::uint64_t i = 1 + g.below(4); i > 0; --i)
        m.ops.push_back(sub_op());
      return m;
    }
    if (r < 86)
      return CreateSessionOp{static_cast<SessionId>(g.below(4)),
                             1000 + static_cast<std::int32_t>(g.below(3))};
    if (r < 91) return CloseSessionOp{static_cast<SessionId>(1 + g.below(3))};
    if (r < 99) return DeleteExpiredOp{path()};
    return NoOp{};
  }
  // Paths for reads: those of the writes, one with a NUL, and often a node that exists (deep
  // sequential names are otherwise rare).
  std::string read_path(const Model& m) {
    if (g.chance(2)) return std::string("/a\0b", 4);
    if (g.chance(30)) {
      auto it = m.nodes.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(g.below(m.nodes.size())));
      return it->first;
    }
    return path();
  }
  Txn txn() {
    time_ms += static_cast<std::int64_t>(g.below(60));
    TxnHeader h{static_cast<SessionId>(g.below(4)), 0, time_ms, g.pick(auths)};
    return Txn{h, op()};
  }
};

// ================================================================== comparison

std::string describe(const OpResult& r) {
  std::ostringstream o;
  o << "type=" << static_cast<int>(r.type) << " err=" << err_name(r.err) << " path=" << r.path
    << " czxid=" << r.stat.czxid << " mzxid=" << r.stat.mzxid << " pzxid=" << r.stat.pzxid
    << " v=" << r.stat.version << " cv=" << r.stat.cversion << " av=" << r.stat.aversion
    << " owner=" << r.stat.ephemeralOwner << " len=" << r.stat.dataLength
    << " kids=" << r.stat.numChildren;
  return o.str();
}

void compare_results(const TxnResult& got, const TxnResult& want, const std::string& where) {
  ASSERT_EQ(got.type, want.type) << where;
  ASSERT_EQ(got.err, want.err) << where << " got " << err_name(got.err) << " want "
                               << err_name(want.err);
  ASSERT_EQ(got.path, want.path) << where;
  ASSERT_EQ(got.stat, want.stat) << where;
  ASSERT_EQ(got.multi.size(), want.multi.size()) << where;
  for (std::size_t i = 0; i < got.multi.size(); ++i) {
    ASSERT_EQ(describe(got.multi[i]), describe(want.multi[i])) << where << " multi op " << i;
  }
}

void compare_triggers(const std::vector<WatchTrigger>& got, const std::vector<MTrigger>& want,
                      Zxid zxid, const std::string& where) {
  ASSERT_EQ(got.size(), want.size()) << where;
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].type, want[i].type) << where << " trigger " << i;
    ASSERT_EQ(got[i].path, want[i].path) << where << " trigger " << i;
    ASSERT_EQ(got[i].zxid, zxid) << where;
    ASSERT_TRUE(got[i].acl) << where;
    ASSERT_EQ(*got[i].acl, want[i].acl) << where << " trigger " << i;
  }
}

void compare_state(const DataTree& t, const Model& m, const std::vector<AuthInfo>& auths,
                   const std::string& where) {
  ASSERT_EQ(t.node_count(), m.nodes.size()) << where;
  for (const auto& [path, n] : m.nodes) {
    Stat st;
    Bytes data;
    AclList acl;
    std::vector<std::string> kids;
    ASSERT_EQ(t.get_data(path, testing::super_auth(), &data, &st), Err::OK) << where << " " << path;
    ASSERT_EQ(st, m.stat(path)) << where << " " << path;
    ASSERT_EQ(data, n.data) << where << " " << path;
    ASSERT_EQ(t.get_acl(path, testing::super_auth(), &acl, nullptr), Err::OK);
    ASSERT_EQ(acl, n.acl) << where << " " << path;
    ASSERT_EQ(t.get_children(path, testing::super_auth(), &kids), Err::OK);
    ASSERT_EQ(kids, m.children(path)) << where << " " << path;
    for (const AuthInfo& a : auths) {
      const bool readable = check_acl(n.acl, perms::kRead, a);
      ASSERT_EQ(t.get_data(path, a, nullptr, nullptr), readable ? Err::OK : Err::NOAUTH)
          << where << " " << path;
    }
  }
  const auto sessions = t.sessions();
  ASSERT_EQ(sessions.size(), m.sessions.size()) << where;
  for (const SessionInfo& s : sessions) {
    ASSERT_EQ(m.sessions.at(s.session_id), s.timeout_ms) << where;
    std::vector<std::string> want;
    for (const auto& [p, n] : m.nodes) {
      if (n.kind == Kind::kEphemeral && n.session == s.session_id) want.push_back(p);
    }
    ASSERT_EQ(t.get_ephemerals(s.session_id, "/"), want) << where;
  }
  std::vector<std::string> expired;
  const std::int64_t now = 1000000;
  for (const auto& [p, n] : m.nodes) {
    if (m.expired(p, now)) expired.push_back(p);
  }
  ASSERT_EQ(t.expired_nodes(now), expired) << where;
}

std::string printable(const std::string& p) {
  std::string out;
  for (char c : p)
    out += c == '\0' ? std::string("\\0") : std::string(1, c);
  return out;
}

/// A few random reads with random credentials, answered by the tree and by the model.
void compare_reads(const DataTree& t, const Model& m, Scenario& sc, const std::string& where) {
  for (int k = 0; k < 3; ++k) {
    const std::size_t auth_index = sc.g.below(sc.auths.size());
    const AuthInfo& auth = sc.auths[auth_index];
    const std::string p = sc.read_path(m);
    // The tree reads "" as the root (ZooKeeper's DataTree keys the root by "" too).
    const std::string mp = p.empty() ? std::string("/") : p;
    const std::string at = where + " read " + std::to_string(k) + " of '" + printable(p) +
                           "' with auth " + std::to_string(auth_index);
    switch (sc.g.below(7)) {
      case 0: {
        Stat got, want;
        const Err e = m.exists(mp, auth, &want);
        ASSERT_EQ(t.exists(p, auth, &got), e) << at << " exists";
        if (e == Err::OK) {
          ASSERT_EQ(got, want) << at << " exists";
        }
        break;
      }
      case 1: {
        Bytes data;
        Stat got;
        const Err e = m.readable(mp, auth);
        ASSERT_EQ(t.get_data(p, auth, &data, &got), e) << at << " getData";
        if (e == Err::OK) {
          ASSERT_EQ(data, m.nodes.at(mp).data) << at << " getData";
          ASSERT_EQ(got, m.stat(mp)) << at << " getData";
        }
        break;
      }
      case 2: {
        std::vector<std::string> kids;
        Stat got;
        const Err e = m.readable(mp, auth);
        ASSERT_EQ(t.get_children(p, auth, &kids, &got), e) << at << " getChildren";
        if (e == Err::OK) {
          ASSERT_EQ(kids, m.children(mp)) << at << " getChildren";
          ASSERT_EQ(got, m.stat(mp)) << at << " getChildren";
        }
        break;
      }
      case 3: {
        std::int32_t got = -1, want = -1;
        Err e = m.all_children_number(mp, auth, &want);
        if (p.empty() && e == Err::OK) ++want;  // ZooKeeper counts "/" itself for ""
        ASSERT_EQ(t.get_all_children_number(p, auth, &got), e) << at << " getAllChildrenNumber";
        if (e == Err::OK) {
          ASSERT_EQ(got, want) << at << " getAllChildrenNumber";
        }
        break;
      }
      case 4: {
        AclList got, want;
        Stat got_stat, want_stat;
        const Err e = m.acl_of(mp, auth, &want, &want_stat);
        ASSERT_EQ(t.get_acl(p, auth, &got, &got_stat), e) << at << " getACL";
        if (e == Err::OK) {
          ASSERT_EQ(got, want) << at << " getACL";
          ASSERT_EQ(got_stat, want_stat) << at << " getACL";
        }
        break;
      }
      case 5: {
        static const std::vector<std::string> kPrefixes = {"", "/", "/a", "/a/", "/b/a", "/c/b/"};
        const auto session = static_cast<SessionId>(sc.g.below(4));
        const std::string& prefix = sc.g.pick(kPrefixes);
        ASSERT_EQ(t.get_ephemerals(session, prefix), m.ephemerals(session, prefix))
            << at << " getEphemerals of session " << session << " prefix '" << prefix << "'";
        break;
      }
      default: {
        std::vector<ReadOp> ops{
            {sc.g.chance(50) ? ReadOp::Kind::kGetData : ReadOp::Kind::kGetChildren, p}};
        for (std::uint64_t n = sc.g.below(4); n > 0; --n) {
          ops.push_back({sc.g.chance(50) ? ReadOp::Kind::kGetData : ReadOp::Kind::kGetChildren,
                         sc.read_path(m)});
        }
        const auto got = t.multi_read(ops, auth);
        std::vector<ReadOp> model_ops = ops;
        for (ReadOp& o : model_ops) {
          if (o.path.empty()) o.path = "/";
        }
        const auto want = m.multi_read(model_ops, auth);
        ASSERT_EQ(got.size(), want.size()) << at << " multiRead";
        for (std::size_t i = 0; i < got.size(); ++i) {
          const std::string sub =
              at + " multiRead op " + std::to_string(i) + " of '" + printable(ops[i].path) + "'";
          ASSERT_EQ(got[i].err, want[i].err) << sub;
          ASSERT_EQ(got[i].data, want[i].data) << sub;
          ASSERT_EQ(got[i].children, want[i].children) << sub;
          if (ops[i].kind == ReadOp::Kind::kGetData) {
            ASSERT_EQ(got[i].stat, want[i].stat) << sub;
          }
        }
        break;
      }
    }
  }
}

std::string at_op(std::uint64_t seed, int op) {
  return "seed " + std::to_string(seed) + " op " + std::to_string(op);
}

/// One sequence of `ops` txns; `*op` is the index of the txn being checked (for messages).
void run_sequence(std::uint64_t seed, int ops, int* op) {
  TreeConfig cfg;
  cfg.max_data_bytes = 64;
  cfg.container_max_never_used_ms = (seed % 2) ? 5000 : 0;
  Scenario sc(seed);
  DataTree tree(cfg);
  DataTree replica(cfg);  // fed the encoded txns: codec + determinism
  std::optional<DataTree> restored;
  Model model(cfg);
  std::vector<WatchTrigger> triggers;
  const int state_every = 10;
  for (int i = 1; i <= ops; ++i) {
    *op = i;
    const Txn txn = sc.txn();
    const Zxid zxid = static_cast<Zxid>(i) * 3;  // gaps are allowed
    const std::string where = at_op(seed, i);
    triggers.clear();
    const TxnResult got = tree.apply(txn, zxid, &triggers);
    TxnResult want;
    model.apply(txn, static_cast<std::int64_t>(zxid), &want);
    ASSERT_NO_FATAL_FAILURE(compare_results(got, want, where));
    ASSERT_NO_FATAL_FAILURE(compare_triggers(triggers, model.triggers, zxid, where));
    if (!got.path.empty()) {
      sc.created.push_back(got.path);
      if (sc.created.size() > 8) sc.created.erase(sc.created.begin());
    }
    const Bytes wire = encode(txn);
    auto decoded = decode(wire, nullptr);
    ASSERT_TRUE(decoded) << where;
    ASSERT_NO_FATAL_FAILURE(
        compare_results(replica.apply(*decoded, zxid, nullptr), want, where + " (replica)"));
    if (restored) restored->apply(*decoded, zxid, nullptr);
    ASSERT_NO_FATAL_FAILURE(compare_reads(tree, model, sc, where));
    if (i % state_every == 0) {
      ASSERT_NO_FATAL_FAILURE(compare_state(tree, model, sc.auths, where));
    }
    if (i % 100 == 0) tree.check_invariants();
    if (i == ops / 2) {
      const Bytes snap = tree.serialize();
      std::string error;
      restored = DataTree::restore(snap.data(), snap.size(), &error, cfg);
      ASSERT_TRUE(restored) << where << ": " << error;
    }
  }
  *op = ops;
  const std::string end = at_op(seed, ops) + " (end)";
  ASSERT_NO_FATAL_FAILURE(compare_state(tree, model, sc.auths, end));
  tree.check_invariants();
  ASSERT_EQ(replica.digest(), tree.digest()) << end;
  ASSERT_TRUE(restored) << end;
  restored->check_invariants();
  ASSERT_EQ(restored->digest(), tree.digest()) << end;
  ASSERT_NO_FATAL_FAILURE(compare_state(*restored, model, sc.auths, end + " (restored)"));
}

/// Runs one sequence; returns false (after printing how to rerun it) if it failed.
bool run_seed(std::uint64_t seed, int ops) {
  int op = 0;
  try {
    run_sequence(seed, ops, &op);
  } catch (const std::exception& e) {
    ADD_FAILURE() << at_op(seed, op) << ": exception " << e.what();
  }
  if (!::testing::Test::HasFailure()) return true;
  std::printf(
      "differential test failed: seed %llu, op %d of %d; rerun with QL_DIFF_SEED=%llu "
      "QL_DIFF_OPS=%d --gtest_filter=DifferentialTest.RandomOpSequencesMatchNaiveModel\n",
      static_cast<unsigned long long>(seed), op, ops, static_cast<unsigned long long>(seed), ops);
  return false;
}

/// Length of short sequence `seed`: 100 to 200 ops.
int short_length(std::uint64_t seed) {
  Gen g{seed ^ 0x5EEDu};
  return 100 + static_cast<int>(g.below(101));
}

constexpr std::uint64_t kLongSeedBase = 1000000;

}  // namespace

TEST(DifferentialTest, RandomOpSequencesMatchNaiveModel) {
  struct Run {
    std::uint64_t seed;
    int ops;
  };
  std::vector<Run> runs;
  if (const char* only = std::getenv("QL_DIFF_SEED")) {
    const std::uint64_t seed = std::strtoull(only, nullptr, 10);
    const char* ops = std::getenv("QL_DIFF_OPS");
    runs.push_back({seed, ops ? std::atoi(ops) : seed > kLongSeedBase ? 5000 : short_length(seed)});
  } else {
    // Many short sequences (fresh trees: every error path near the root, sessions coming and
    // going) and a few long ones (deep trees, many sequential nodes, wide parents).
    const bool small = testing::small_tests();
    const std::uint64_t short_runs = small ? 300 : 2000;
    const std::uint64_t long_runs = small ? 1 : 3;
    for (std::uint64_t seed = 1; seed <= short_runs; ++seed)
      runs.push_back({seed, short_length(seed)});
    for (std::uint64_t i = 1; i <= long_runs; ++i)
      runs.push_back({kLongSeedBase + i, small ? 2000 : 5000});
  }
  std::size_t ops_total = 0;
  for (const Run& r : runs) {
    if (!run_seed(r.seed, r.ops)) return;
    ops_total += static_cast<std::size_t>(r.ops);
  }
  RecordProperty("sequences", static_cast<int>(runs.size()));
  RecordProperty("ops", static_cast<int>(ops_total));
}

TEST(DifferentialTest, CoverageOfOutcomes) {
  // The generator must reach every interesting outcome, or the comparison proves little.
  TreeConfig cfg;
  cfg.max_data_bytes = 64;
  std::map<std::pair<int, int>, int> seen;  // (op type, err) -> count
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    Scenario sc(seed);
    DataTree tree(cfg);
    for (int i = 1; i <= 2000; ++i) {
      const TxnResult r = tree.apply(sc.txn(), static_cast<Zxid>(i), nullptr);
      seen[{static_cast<int>(r.type), static_cast<int>(r.err)}]++;
      if (!r.path.empty()) {
        sc.created.push_back(r.path);
        if (sc.created.size() > 8) sc.created.erase(sc.created.begin());
      }
    }
  }
  const auto has = [&](OpType t, Err e) {
    return seen[{static_cast<int>(t), static_cast<int>(e)}] > 0;
  };
  for (Err e : {Err::OK, Err::NONODE, Err::NODEEXISTS, Err::NOAUTH, Err::BADARGUMENTS,
                Err::INVALIDACL, Err::SESSIONEXPIRED, Err::NOCHILDRENFOREPHEMERALS}) {
    EXPECT_TRUE(has(OpType::kCreate, e)) << "create " << err_name(e);
  }
  for (Err e :
       {Err::OK, Err::NONODE, Err::BADVERSION, Err::NOTEMPTY, Err::NOAUTH, Err::BADARGUMENTS}) {
    EXPECT_TRUE(has(OpType::kDelete, e)) << "delete " << err_name(e);
  }
  for (Err e : {Err::OK, Err::NONODE, Err::BADVERSION, Err::NOAUTH, Err::BADARGUMENTS}) {
    EXPECT_TRUE(has(OpType::kSetData, e)) << "setData " << err_name(e);
  }
  EXPECT_TRUE(has(OpType::kMulti, Err::OK));
  EXPECT_TRUE(has(OpType::kMulti, Err::NONODE));
  EXPECT_TRUE(has(OpType::kDeleteExpired, Err::OK));
  EXPECT_TRUE(has(OpType::kSetAcl, Err::OK));
}

}  // namespace quorumlab::sm
