// delete (§1.1, §1.3, §1.4, §1.6; PrepRequestProcessor case delete, DataTree.deleteNode).
#include "quorumlab/sm/path.hpp"
#include "tree_impl.hpp"

namespace quorumlab::sm {

using detail::Node;

namespace {

// getParentPathAndValidate.
bool is_deletable_path(std::string_view path) {
  return path.find('/') != std::string_view::npos && path.find('\0') == std::string_view::npos &&
         !is_special_path(path);
}

}  // namespace

Err DataTree::Impl::check_delete(const DeleteOp& op, const AuthInfo& auth, Node** node) const {
  if (!is_deletable_path(op.path)) return Err::BADARGUMENTS;
  const Node* parent = find_parent(op.path);
  if (!parent) return Err::NONODE;
  if (!allowed(*parent, perms::kDelete, auth)) return Err::NOAUTH;
  Node* n = find(op.path);
  if (!n) return Err::NONODE;
  if (op.version != -1 && op.version != n->version) return Err::BADVERSION;
  if (n->num_children > 0) return Err::NOTEMPTY;
  *node = n;
  return Err::OK;
}

void DataTree::Impl::do_delete(Node* n, ApplyContext& ctx) {
  Node* parent = n->parent;
  const std::int64_t old_pzxid = parent->pzxid;
  // A delete changes only the parent's pzxid; the persisted cversion counts creates (§1.3).
  modify(parent, [&] { parent->pzxid = static_cast<std::int64_t>(ctx.zxid); });
  std::unique_ptr<Node> detached = detach(n);
  emit(ctx, EventType::kNodeDeleted, *detached);
  emit(ctx, EventType::kNodeChildrenChanged, *parent);
  if (!ctx.undo) {
    destroy(std::move(detached));
    return;
  }
  detail::UndoEntry u;
  u.kind = detail::UndoEntry::Kind::kDeleted;
  u.node = parent;
  u.parent_pzxid = old_pzxid;
  u.deleted = std::move(detached);
  ctx.undo->push_back(std::move(u));
}

OpResult DataTree::Impl::apply_delete(const DeleteOp& op, ApplyContext& ctx) {
  OpResult r;
  r.type = OpType::kDelete;
  Node* n = nullptr;
  r.err = check_delete(op, ctx.header.auth, &n);
  if (r.err == Err::OK) do_delete(n, ctx);
  return r;
}

}  // namespace quorumlab::sm
