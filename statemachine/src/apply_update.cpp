// setData, setACL and check (§1.1, §1.4, §1.7; PrepRequestProcessor cases setData, setACL,
// check; DataTree.setData and setACL).
#include "quorumlab/sm/path.hpp"
#include "tree_impl.hpp"

namespace quorumlab::sm {

using detail::Node;

namespace {

bool version_matches(std::int32_t expected, std::int32_t current) {
  return expected == -1 || expected == current;
}

// checkAndIncVersion: signed 32-bit, wraps.
std::int32_t next_version(std::int32_t v) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(v) + 1u);
}

}  // namespace

Err DataTree::Impl::check_set_data(const SetDataOp& op, const AuthInfo& auth, Node** node) const {
  if (op.data.size() > config.max_data_bytes) return Err::BADARGUMENTS;
  if (!is_valid_path(op.path)) return Err::BADARGUMENTS;
  Node* n = find(op.path);
  if (!n) return Err::NONODE;
  if (!allowed(*n, perms::kWrite, auth)) return Err::NOAUTH;
  if (!version_matches(op.version, n->version)) return Err::BADVERSION;
  *node = n;
  return Err::OK;
}

OpResult DataTree::Impl::apply_set_data(const SetDataOp& op, ApplyContext& ctx) {
  OpResult r;
  r.type = OpType::kSetData;
  Node* n = nullptr;
  r.err = check_set_data(op, ctx.header.auth, &n);
  if (r.err != Err::OK) return r;
  if (ctx.undo) {
    detail::UndoEntry u;
    u.kind = detail::UndoEntry::Kind::kDataSet;
    u.node = n;
    u.data = n->data;
    u.data_null = n->data_null;
    u.data_hash = n->data_hash;
    u.version = n->version;
    u.mzxid = n->mzxid;
    u.mtime = n->mtime;
    ctx.undo->push_back(std::move(u));
  }
  data_size += op.data.size() - n->data.size();
  modify(n, [&] {
    n->data.assign(op.data.begin(), op.data.end());
    n->data_null = op.data_null;
    n->data_hash = detail::hash_data(n->data, n->data_null);
    n->version = next_version(n->version);
    n->mzxid = static_cast<std::int64_t>(ctx.zxid);
    n->mtime = ctx.header.time_ms;
  });
  emit(ctx, EventType::kNodeDataChanged, *n);
  r.stat = stat_of(*n);
  return r;
}

OpResult DataTree::Impl::apply_set_acl(const SetAclOp& op, ApplyContext& ctx) {
  OpResult r;
  r.type = OpType::kSetAcl;
  AclList fixed;
  Node* n = nullptr;
  if (!is_valid_path(op.path)) {
    r.err = Err::BADARGUMENTS;
  } else if ((r.err = fixup_acl(op.acl, ctx.header.auth, &fixed)) != Err::OK) {
  } else if (!(n = find(op.path))) {
    r.err = Err::NONODE;
  } else if (!allowed(*n, perms::kAdmin, ctx.header.auth)) {
    r.err = Err::NOAUTH;
  } else if (!version_matches(op.version, n->aversion)) {
    r.err = Err::BADVERSION;
  }
  if (r.err != Err::OK) return r;
  // Intern before releasing, so an unchanged list keeps its id.
  const std::uint32_t new_id = acls.intern(fixed);
  const std::uint32_t old_id = n->acl_id;
  modify(n, [&] {
    n->acl_id = new_id;
    n->aversion = next_version(n->aversion);
  });
  acls.release(old_id);
  r.stat = stat_of(*n);
  return r;
}

OpResult DataTree::Impl::apply_check(const CheckOp& op, ApplyContext& ctx) {
  OpResult r;
  r.type = OpType::kCheck;
  const Node* n = nullptr;
  if (!is_valid_path(op.path)) {
    r.err = Err::BADARGUMENTS;
  } else if (!(n = find(op.path))) {
    r.err = Err::NONODE;
  } else if (!allowed(*n, perms::kRead, ctx.header.auth)) {
    r.err = Err::NOAUTH;
  } else if (!version_matches(op.version, n->version)) {
    r.err = Err::BADVERSION;
  } else {
    r.stat = stat_of(*n);
  }
  return r;
}

}  // namespace quorumlab::sm
