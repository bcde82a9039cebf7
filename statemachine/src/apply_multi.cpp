// multi (§1.13): all-or-nothing under one zxid. Sub-ops are applied to the live tree in
// order, so later ops see earlier ones (consecutive sequence numbers, create-then-delete,
// ...), with an undo log; at the first failure the log is replayed backwards, which restores
// the tree exactly (digest included), and the results become OK / the error /
// RUNTIMEINCONSISTENCY as ZooKeeper's DataTree.processTxn reports them.
#include <stdexcept>

#include "tree_impl.hpp"

namespace quorumlab::sm {

using detail::Node;
using detail::UndoEntry;
using detail::UndoLog;

TxnResult DataTree::Impl::apply_multi(const MultiOp& op, ApplyContext& ctx) {
  TxnResult result;
  result.type = OpType::kMulti;
  UndoLog undo;
  std::vector<WatchTrigger> pending;
  ApplyContext sub{ctx.header, ctx.zxid, ctx.triggers ? &pending : nullptr, &undo};
  const std::uint64_t digest_before = digest;
  std::size_t failed = op.ops.size();
  for (std::size_t i = 0; i < op.ops.size() && failed == op.ops.size(); ++i) {
    result.multi.push_back(apply_sub_op(op.ops[i], sub));
    if (result.multi.back().err != Err::OK) failed = i;
  }
  if (failed == op.ops.size()) {
    commit(undo);
    if (ctx.triggers) {
      for (WatchTrigger& t : pending)
        ctx.triggers->push_back(std::move(t));
    }
    return result;
  }
  rollback(undo);
  if (digest != digest_before) throw std::logic_error("multi rollback changed the digest");
  result.err = result.multi[failed].err;
  result.multi.resize(op.ops.size());
  for (std::size_t i = 0; i < op.ops.size(); ++i) {
    OpResult& r = result.multi[i];
    r = OpResult{op_type(op.ops[i]),
                 i < failed    ? Err::OK
                 : i == failed ? result.err
                               : Err::RUNTIMEINCONSISTENCY,
                 {},
                 {}};
  }
  return result;
}

void DataTree::Impl::commit(UndoLog& undo) {
  for (UndoEntry& u : undo)
    destroy(std::move(u.deleted));
  undo.clear();
}

void DataTree::Impl::rollback(UndoLog& undo) {
  for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
    UndoEntry& u = *it;
    switch (u.kind) {
      case UndoEntry::Kind::kCreated: {
        Node* parent = u.node->parent;
        destroy(detach(u.node));
        modify(parent, [&] {
          parent->cversion = u.parent_cversion;
          parent->pzxid = u.parent_pzxid;
        });
        break;
      }
      case UndoEntry::Kind::kDeleted: {
        Node* parent = u.node;
        attach(std::move(u.deleted));
        modify(parent, [&] { parent->pzxid = u.parent_pzxid; });
        break;
      }
      case UndoEntry::Kind::kDataSet: {
        Node* n = u.node;
        data_size += u.data.size() - n->data.size();
        modify(n, [&] {
          n->data = std::move(u.data);
          n->data_null = u.data_null;
          n->data_hash = u.data_hash;
          n->version = u.version;
          n->mzxid = u.mzxid;
          n->mtime = u.mtime;
        });
        break;
      }
    }
  }
  undo.clear();
}

}  // namespace quorumlab::sm
