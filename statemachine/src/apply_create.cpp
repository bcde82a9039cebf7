// create / create2 / createContainer / createTTL (§1.1, §1.2, §1.5, §1.6;
// ZooKeeper's PrepRequestProcessor.pRequest2TxnCreate and DataTree.createNode).
#include <cstdio>

#include "quorumlab/sm/path.hpp"
#include "tree_impl.hpp"

namespace quorumlab::sm {

using detail::CreatePlan;
using detail::Node;
using detail::NodeKind;

namespace {

// validateCreateRequest: the mode, TTL and data-size checks that need no tree.
Err check_create_request(const CreateOp& op, const TreeConfig& config) {
  if (op.data.size() > config.max_data_bytes) return Err::BADARGUMENTS;
  if (!is_valid_tree_create_mode(op.mode)) return Err::BADARGUMENTS;
  const auto mode = static_cast<CreateMode>(op.mode);
  if (is_ttl(mode) && !config.extended_types_enabled) return Err::UNIMPLEMENTED;
  // EphemeralType.validateTTL: TTL modes need 0 < ttl <= 2^40-1, other modes a negative ttl.
  const bool ttl_ok = is_ttl(mode) ? op.ttl_ms > 0 && op.ttl_ms <= kTtlMaxMs : op.ttl_ms < 0;
  return ttl_ok ? Err::OK : Err::BADARGUMENTS;
}

NodeKind kind_of(CreateMode mode) {
  if (is_ephemeral(mode)) return NodeKind::kEphemeral;
  if (is_container(mode)) return NodeKind::kContainer;
  if (is_ttl(mode)) return NodeKind::kTtl;
  return NodeKind::kPersistent;
}

std::int64_t owner_of(CreateMode mode, const CreateOp& op, SessionId session) {
  if (is_ephemeral(mode)) return session;
  if (is_container(mode)) return kContainerEphemeralOwner;
  if (is_ttl(mode)) return ttl_ephemeral_owner(op.ttl_ms);
  return 0;
}

// String.format("%010d", cversion): zero-padded to 10 characters after the sign.
void append_sequence_suffix(std::string* path, std::int32_t cversion) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%010d", cversion);
  *path += buf;
}

}  // namespace

Err DataTree::Impl::check_create(const CreateOp& op, const TxnHeader& h, CreatePlan* plan) const {
  if (Err e = check_create_request(op, config); e != Err::OK) return e;
  const auto mode = static_cast<CreateMode>(op.mode);
  // checkGlobalSession: only ephemerals need the session at apply (see data_tree.hpp).
  if (is_ephemeral(mode) && sessions.count(h.session_id) == 0) return Err::SESSIONEXPIRED;
  // validatePathForCreate.
  if (op.path.find('/') == std::string::npos || op.path.find('\0') != std::string::npos) {
    return Err::BADARGUMENTS;
  }
  if (Err e = fixup_acl(op.acl, h.auth, &plan->acl); e != Err::OK) return e;
  plan->parent = find_parent(op.path);
  if (!plan->parent) return Err::NONODE;
  if (!allowed(*plan->parent, perms::kCreate, h.auth)) return Err::NOAUTH;
  plan->path = op.path;
  if (is_sequential(mode)) append_sequence_suffix(&plan->path, plan->parent->cversion);
  if (!is_valid_path(plan->path)) return Err::BADARGUMENTS;
  if (find(plan->path)) return Err::NODEEXISTS;
  if (plan->parent->kind == NodeKind::kEphemeral) return Err::NOCHILDRENFOREPHEMERALS;
  plan->kind = kind_of(mode);
  plan->owner = owner_of(mode, op, h.session_id);
  return Err::OK;
}

Node* DataTree::Impl::do_create(CreatePlan& plan, const CreateOp& op, ApplyContext& ctx) {
  const auto zxid = static_cast<std::int64_t>(ctx.zxid);
  auto n = std::make_unique<Node>();
  n->path = std::move(plan.path);
  n->path_hash = detail::hash_path(n->path);
  n->parent = plan.parent;
  n->data = op.data;
  n->data_null = op.data_null;
  n->data_hash = detail::hash_data(n->data, n->data_null);
  n->czxid = n->mzxid = n->pzxid = zxid;
  n->ctime = n->mtime = ctx.header.time_ms;
  n->owner = plan.owner;
  n->kind = plan.kind;
  n->acl_id = acls.intern(plan.acl);
  Node* parent = plan.parent;
  if (ctx.undo) {
    detail::UndoEntry u;
    u.kind = detail::UndoEntry::Kind::kCreated;
    u.parent_cversion = parent->cversion;
    u.parent_pzxid = parent->pzxid;
    ctx.undo->push_back(std::move(u));
  }
  // The persisted cversion counts creates; a signed int that wraps (§1.5).
  modify(parent, [&] {
    parent->cversion = static_cast<std::int32_t>(static_cast<std::uint32_t>(parent->cversion) + 1u);
    parent->pzxid = zxid;
  });
  Node* created = attach(std::move(n));
  if (ctx.undo) ctx.undo->back().node = created;
  emit(ctx, EventType::kNodeCreated, *created);
  emit(ctx, EventType::kNodeChildrenChanged, *parent);
  return created;
}

OpResult DataTree::Impl::apply_create(const CreateOp& op, ApplyContext& ctx) {
  OpResult r;
  r.type = OpType::kCreate;
  CreatePlan plan;
  r.err = check_create(op, ctx.header, &plan);
  if (r.err != Err::OK) return r;
  const Node* n = do_create(plan, op, ctx);
  r.path = n->path;
  r.stat = stat_of(*n);
  return r;
}

}  // namespace quorumlab::sm
