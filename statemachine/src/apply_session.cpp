// Sessions as state (§1.12, §3.9) and the leader's container/TTL cleanup (§1.2).
#include <algorithm>

#include "quorumlab/sm/path.hpp"
#include "tree_impl.hpp"

namespace quorumlab::sm {

using detail::Node;
using detail::NodeKind;

OpResult DataTree::Impl::apply_create_session(const CreateSessionOp& op) {
  OpResult r;
  r.type = OpType::kCreateSession;
  if (op.session_id == 0) {
    r.err = Err::BADARGUMENTS;
    return r;
  }
  auto [it, inserted] = sessions.try_emplace(op.session_id);
  if (!inserted) digest -= session_hash(op.session_id, it->second.timeout_ms);
  it->second.timeout_ms = op.timeout_ms;
  digest += session_hash(op.session_id, op.timeout_ms);
  return r;
}

OpResult DataTree::Impl::apply_close_session(const CloseSessionOp& op, ApplyContext& ctx) {
  OpResult r;
  r.type = OpType::kCloseSession;
  auto it = sessions.find(op.session_id);
  if (it == sessions.end()) return r;  // unknown or already closed: nothing to do
  // ZooKeeper iterates a HashSet; we delete in path order so every replica emits the same
  // triggers in the same order.
  std::vector<Node*> doomed(it->second.ephemerals.begin(), it->second.ephemerals.end());
  std::sort(doomed.begin(), doomed.end(),
            [](const Node* a, const Node* b) { return a->path < b->path; });
  for (Node* n : doomed)
    do_delete(n, ctx);
  digest -= session_hash(op.session_id, it->second.timeout_ms);
  sessions.erase(it);
  return r;
}

OpResult DataTree::Impl::apply_delete_expired(const DeleteExpiredOp& op, ApplyContext& ctx) {
  OpResult r;
  r.type = OpType::kDeleteExpired;
  Node* n = nullptr;
  if (op.path.find('/') == std::string::npos || op.path.find('\0') != std::string::npos ||
      is_special_path(op.path)) {
    r.err = Err::BADARGUMENTS;
  } else if (!(n = find(op.path))) {
    r.err = Err::NONODE;
  } else if (n->num_children > 0) {
    r.err = Err::NOTEMPTY;
  } else if (!is_expired(*n, ctx.header.time_ms)) {
    // Not a container/TTL node (ZooKeeper: BADVERSION for ephemerals), or no longer expired.
    r.err = Err::BADVERSION;
  } else {
    do_delete(n, ctx);
  }
  return r;
}

}  // namespace quorumlab::sm
