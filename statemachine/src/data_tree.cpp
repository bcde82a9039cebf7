// DataTree: construction, shared helpers, apply dispatch and invariant checks. The per-op
// logic lives in apply_*.cpp, reads in reads.cpp, snapshots in snapshot.cpp.
#include "quorumlab/sm/data_tree.hpp"

#include <stdexcept>
#include <string>

#include "quorumlab/sm/path.hpp"
#include "tree_impl.hpp"

namespace quorumlab::sm {

using detail::Node;
using detail::NodeKind;

namespace {

[[noreturn]] void violated(const std::string& what) {
  throw std::logic_error("DataTree invariant violated: " + what);
}

constexpr std::uint64_t kNodeDomain = 0x9E3779B97F4A7C15ull;
constexpr std::uint64_t kSessionDomain = 0xC2B2AE3D27D4EB4Full;

}  // namespace

// ------------------------------------------------------------------ Impl basics

DataTree::Impl::Impl(TreeConfig cfg) : config(std::move(cfg)) {
  // The initial tree of §1.6. ZooKeeper links these children directly (not through
  // createNode), so the parents' persisted cversion stays 0 and the visible cversion of "/"
  // is -1 and of "/zookeeper" is -2.
  add_initial_node(nullptr, "/", open_acl_unsafe());
  add_initial_node(root, "/zookeeper", open_acl_unsafe());
  Node* zk = find("/zookeeper");
  add_initial_node(zk, "/zookeeper/quota", open_acl_unsafe());
  add_initial_node(zk, "/zookeeper/config", read_acl_unsafe());
  // DataTree.addConfigNode sets the ACL with version -1, which becomes the aversion.
  Node* config_node = find("/zookeeper/config");
  modify(config_node, [&] { config_node->aversion = -1; });
}

DataTree::Impl::Impl(TreeConfig cfg, EmptyTag) : config(std::move(cfg)) {}

DataTree::Impl::~Impl() {
  std::vector<Node*> all;
  table.for_each([&](Node* n) { all.push_back(n); });
  for (Node* n : all)
    delete n;
}

void DataTree::Impl::add_initial_node(Node* parent, std::string path, const AclList& acl) {
  auto n = std::make_unique<Node>();
  n->path = std::move(path);
  n->path_hash = detail::hash_path(n->path);
  n->data_hash = detail::hash_bytes(nullptr, 0);
  n->acl_id = acls.intern(acl);
  if (!parent) {
    root = n.release();
    table.insert(root);
    digest += node_hash(*root);
    data_size += root->path.size();
    return;
  }
  n->parent = parent;
  attach(std::move(n));
}

Node* DataTree::Impl::find_parent(std::string_view path) const {
  const std::size_t slash = path.rfind('/');
  return slash == 0 ? root : find(path.substr(0, slash));
}

bool DataTree::Impl::allowed(const Node& n, std::int32_t perm, const AuthInfo& auth) const {
  if ((acls.world_perms(n.acl_id) & perm) != 0) return true;
  return check_acl(acls.list(n.acl_id), perm, auth);
}

Stat DataTree::Impl::stat_of(const Node& n) const {
  Stat s;
  s.czxid = n.czxid;
  s.mzxid = n.mzxid;
  s.ctime = n.ctime;
  s.mtime = n.mtime;
  s.version = n.version;
  // DataNode.copyStat: persisted cversion counts creates; clients see creates + deletes.
  s.cversion = static_cast<std::int32_t>(static_cast<std::uint32_t>(n.cversion) * 2u -
                                         static_cast<std::uint32_t>(n.num_children));
  s.aversion = n.aversion;
  s.ephemeralOwner = n.kind == NodeKind::kEphemeral ? n.owner : 0;
  s.dataLength = static_cast<std::int32_t>(n.data.size());
  s.numChildren = n.num_children;
  s.pzxid = n.pzxid;
  return s;
}

std::uint64_t DataTree::Impl::node_hash(const Node& n) const {
  const std::uint64_t words[] = {
      kNodeDomain,
      n.path_hash,
      n.data_hash,
      acls.hash(n.acl_id),
      static_cast<std::uint64_t>(n.czxid),
      static_cast<std::uint64_t>(n.mzxid),
      static_cast<std::uint64_t>(n.pzxid),
      static_cast<std::uint64_t>(n.ctime),
      static_cast<std::uint64_t>(n.mtime),
      static_cast<std::uint64_t>(n.owner),
      static_cast<std::uint32_t>(n.version) |
          (std::uint64_t{static_cast<std::uint32_t>(n.cversion)} << 32),
      static_cast<std::uint32_t>(n.aversion) |
          (std::uint64_t{static_cast<std::uint8_t>(n.kind)} << 32),
  };
  return detail::hash_bytes(words, sizeof words);
}

std::uint64_t DataTree::Impl::session_hash(SessionId id, std::int32_t timeout_ms) {
  const std::uint64_t words[] = {kSessionDomain, static_cast<std::uint64_t>(id),
                                 static_cast<std::uint32_t>(timeout_ms)};
  return detail::hash_bytes(words, sizeof words);
}

bool DataTree::Impl::is_expired(const Node& n, std::int64_t now_ms) const {
  if (n.num_children > 0) return false;
  std::int64_t elapsed = 0;
  if (__builtin_sub_overflow(now_ms, n.mtime, &elapsed)) {
    elapsed = now_ms > n.mtime ? INT64_MAX : INT64_MIN;
  }
  if (n.kind == NodeKind::kContainer) {
    // cversion > 0: it had a child (persisted cversion counts creates; signed as in Java).
    const std::int64_t never_used = config.container_max_never_used_ms;
    return n.cversion > 0 || (never_used != 0 && elapsed > never_used);
  }
  if (n.kind == NodeKind::kTtl) {
    const std::int64_t ttl = n.owner & kTtlMaxMs;
    return ttl != 0 && elapsed > ttl;
  }
  return false;
}

// ------------------------------------------------------------------ primitives

Node* DataTree::Impl::attach(std::unique_ptr<Node> owned) {
  Node* n = owned.release();
  Node* p = n->parent;
  n->next_sibling = nullptr;
  if (!p->first_child) {
    p->first_child = n;
    n->prev_sibling = n;
  } else {
    Node* last = p->first_child->prev_sibling;
    last->next_sibling = n;
    n->prev_sibling = last;
    p->first_child->prev_sibling = n;
  }
  p->num_children++;
  p->sorted_names.reset();
  table.insert(n);
  digest += node_hash(*n);
  data_size += n->path.size() + n->data.size();
  if (n->kind == NodeKind::kEphemeral) {
    sessions.at(n->owner).ephemerals.insert(n);
    ephemeral_count++;
  } else if (n->kind == NodeKind::kContainer) {
    containers.insert(n);
  } else if (n->kind == NodeKind::kTtl) {
    ttls.insert(n);
  }
  return n;
}

std::unique_ptr<Node> DataTree::Impl::detach(Node* n) {
  if (n->first_child || n == root) throw std::logic_error("DataTree: detach of a parent");
  Node* p = n->parent;
  Node* last = p->first_child->prev_sibling;
  if (p->first_child == n) {
    p->first_child = n->next_sibling;
    if (p->first_child) p->first_child->prev_sibling = last;
  } else {
    n->prev_sibling->next_sibling = n->next_sibling;
    if (n->next_sibling) {
      n->next_sibling->prev_sibling = n->prev_sibling;
    } else {
      p->first_child->prev_sibling = n->prev_sibling;
    }
  }
  n->next_sibling = n->prev_sibling = nullptr;
  p->num_children--;
  p->sorted_names.reset();
  table.erase(n);
  digest -= node_hash(*n);
  data_size -= n->path.size() + n->data.size();
  if (n->kind == NodeKind::kEphemeral) {
    sessions.at(n->owner).ephemerals.erase(n);
    ephemeral_count--;
  } else if (n->kind == NodeKind::kContainer) {
    containers.erase(n);
  } else if (n->kind == NodeKind::kTtl) {
    ttls.erase(n);
  }
  return std::unique_ptr<Node>(n);
}

void DataTree::Impl::destroy(std::unique_ptr<Node> n) {
  if (n) acls.release(n->acl_id);
}

void DataTree::Impl::emit(ApplyContext& ctx, EventType type, const Node& n) const {
  if (!ctx.triggers) return;
  ctx.triggers->push_back(WatchTrigger{type, n.path, ctx.zxid, acls.ref(n.acl_id)});
}

// ------------------------------------------------------------------ apply dispatch

namespace {

TxnResult to_txn_result(OpResult r) {
  TxnResult t;
  t.type = r.type;
  t.err = r.err;
  t.path = std::move(r.path);
  t.stat = r.stat;
  return t;
}

}  // namespace

TxnResult DataTree::Impl::apply_op(const TxnOp& op, ApplyContext& ctx) {
  if (const auto* o = std::get_if<CreateOp>(&op)) return to_txn_result(apply_create(*o, ctx));
  if (const auto* o = std::get_if<DeleteOp>(&op)) return to_txn_result(apply_delete(*o, ctx));
  if (const auto* o = std::get_if<SetDataOp>(&op)) return to_txn_result(apply_set_data(*o, ctx));
  if (const auto* o = std::get_if<SetAclOp>(&op)) return to_txn_result(apply_set_acl(*o, ctx));
  if (const auto* o = std::get_if<CheckOp>(&op)) return to_txn_result(apply_check(*o, ctx));
  if (const auto* o = std::get_if<MultiOp>(&op)) return apply_multi(*o, ctx);
  if (const auto* o = std::get_if<CreateSessionOp>(&op)) {
    return to_txn_result(apply_create_session(*o));
  }
  if (const auto* o = std::get_if<CloseSessionOp>(&op)) {
    return to_txn_result(apply_close_session(*o, ctx));
  }
  if (const auto* o = std::get_if<DeleteExpiredOp>(&op)) {
    return to_txn_result(apply_delete_expired(*o, ctx));
  }
  return TxnResult{};  // NoOp
}

OpResult DataTree::Impl::apply_sub_op(const MultiSubOp& op, ApplyContext& ctx) {
  if (const auto* o = std::get_if<CreateOp>(&op)) return apply_create(*o, ctx);
  if (const auto* o = std::get_if<DeleteOp>(&op)) return apply_delete(*o, ctx);
  if (const auto* o = std::get_if<SetDataOp>(&op)) return apply_set_data(*o, ctx);
  return apply_check(std::get<CheckOp>(op), ctx);
}

// ------------------------------------------------------------------ invariants

void DataTree::Impl::check_invariants() const {
  std::uint64_t want_digest = 0, want_size = 0;
  std::size_t reachable = 0, ephemerals = 0;
  std::vector<std::uint64_t> acl_refs(acls.id_limit(), 0);
  std::vector<const Node*> stack{root};
  if (root->parent || root->path != "/") violated("root");
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    ++reachable;
    if (table.find(n->path) != n) violated("table lookup of " + n->path);
    if (n->path_hash != detail::hash_path(n->path)) violated("path hash of " + n->path);
    if (n->data_hash != detail::hash_data(n->data, n->data_null) ||
        (n->data_null && !n->data.empty())) {
      violated("data hash of " + n->path);
    }
    if (!is_valid_path(n->path)) violated("invalid path " + n->path);
    if (n != root && (n->parent == nullptr || parent_path(n->path) != n->parent->path)) {
      violated("parent of " + n->path);
    }
    if (!acls.present(n->acl_id)) violated("ACL reference of " + n->path);
    acl_refs[n->acl_id]++;
    want_digest += node_hash(*n);
    want_size += n->path.size() + n->data.size();
    std::int32_t children = 0;
    for (const Node* c = n->first_child; c; c = c->next_sibling) {
      if (c->parent != n) violated("child link of " + c->path);
      if (!c->next_sibling && n->first_child->prev_sibling != c)
        violated("last child of " + n->path);
      if (c != n->first_child && c->prev_sibling->next_sibling != c) violated("sibling links");
      ++children;
      stack.push_back(c);
    }
    if (children != n->num_children) violated("numChildren of " + n->path);
    if (n->sorted_names && n->sorted_names->size() != static_cast<std::size_t>(children)) {
      violated("stale getChildren cache of " + n->path);
    }
    if (n->kind == NodeKind::kEphemeral) {
      ++ephemerals;
      auto s = sessions.find(n->owner);
      if (s == sessions.end() || !s->second.ephemerals.count(const_cast<Node*>(n))) {
        violated("ephemeral index of " + n->path);
      }
      if (children) violated("ephemeral with children " + n->path);
    }
    if ((n->kind == NodeKind::kContainer) != (containers.count(const_cast<Node*>(n)) == 1)) {
      violated("container index of " + n->path);
    }
    if ((n->kind == NodeKind::kTtl) != (ttls.count(const_cast<Node*>(n)) == 1)) {
      violated("TTL index of " + n->path);
    }
  }
  if (reachable != table.size()) violated("unreachable nodes in the table");
  std::size_t indexed = 0;
  for (const auto& [id, s] : sessions) {
    indexed += s.ephemerals.size();
    want_digest += session_hash(id, s.timeout_ms);
  }
  if (indexed != ephemerals || ephemerals != ephemeral_count) violated("ephemeral count");
  if (containers.size() + ttls.size() > reachable) violated("container/TTL index size");
  for (std::uint32_t id = 0; id < acls.id_limit(); ++id) {
    if (acls.present(id) && acls.refs(id) != acl_refs[id]) violated("ACL reference count");
  }
  if (want_size != data_size) violated("approximate data size");
  if (want_digest != digest) violated("digest");
}

// ------------------------------------------------------------------ DataTree

DataTree::DataTree(TreeConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
DataTree::DataTree(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DataTree::~DataTree() = default;
DataTree::DataTree(DataTree&&) noexcept = default;
DataTree& DataTree::operator=(DataTree&&) noexcept = default;

const TreeConfig& DataTree::config() const {
  return impl_->config;
}

void DataTree::set_ensemble_config(const Bytes& data) {
  Node* n = impl_->find("/zookeeper/config");
  if (n == nullptr) return;  // a snapshot always has it; nothing to do otherwise
  impl_->data_size = impl_->data_size - n->data.size() + data.size();
  impl_->modify(n, [&] {
    n->data = data;
    n->data_null = false;
    n->data_hash = detail::hash_data(n->data, false);
    n->version = -1;
    n->mzxid = 0;
  });
}

TxnResult DataTree::apply(const Txn& txn, Zxid zxid, std::vector<WatchTrigger>* triggers) {
  if (zxid <= impl_->last_zxid) {
    throw std::logic_error("DataTree::apply: zxid " + std::to_string(zxid) + " <= last applied " +
                           std::to_string(impl_->last_zxid));
  }
  impl_->last_zxid = zxid;
  detail::ApplyContext ctx{txn.header, zxid, triggers, nullptr};
  return impl_->apply_op(txn.op, ctx);
}

Zxid DataTree::last_applied_zxid() const {
  return impl_->last_zxid;
}
std::size_t DataTree::node_count() const {
  return impl_->table.size();
}
std::uint64_t DataTree::approximate_data_size() const {
  return impl_->data_size;
}
std::size_t DataTree::ephemeral_count() const {
  return impl_->ephemeral_count;
}
std::uint64_t DataTree::digest() const {
  return impl_->digest;
}
void DataTree::check_invariants() const {
  impl_->check_invariants();
}

Err DataTree::add_auth(AuthInfo* auth, std::string_view scheme,
                       std::string_view credentials) const {
  return sm::add_auth(auth, scheme, credentials, impl_->config.super_digest);
}

bool DataTree::debug_set_persisted_cversion(std::string_view path, std::int32_t cversion) {
  Node* n = impl_->find(path);
  if (!n) return false;
  impl_->modify(n, [&] { n->cversion = cversion; });
  return true;
}

}  // namespace quorumlab::sm
