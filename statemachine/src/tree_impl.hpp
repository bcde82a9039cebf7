// Internal: DataTree's state and the helpers shared by the per-op apply files
// (apply_create.cpp, apply_delete.cpp, apply_update.cpp, apply_multi.cpp, apply_session.cpp),
// reads.cpp and snapshot.cpp.
#pragma once

#include <map>
#include <memory>
#include <unordered_set>
#include <vector>

#include "acl_cache.hpp"
#include "node_table.hpp"
#include "quorumlab/sm/data_tree.hpp"

namespace quorumlab::sm {

namespace detail {

struct Session {
  std::int32_t timeout_ms = 0;
  std::unordered_set<Node*> ephemerals;
};

/// How to undo one change made by a multi sub-op (applied in reverse order on failure).
struct UndoEntry {
  enum class Kind { kCreated, kDeleted, kDataSet };
  Kind kind = Kind::kCreated;
  Node* node = nullptr;           ///< kCreated/kDataSet: the node; kDeleted: its parent
  std::unique_ptr<Node> deleted;  ///< kDeleted: the detached node, kept alive until commit
  std::int32_t parent_cversion = 0;
  std::int64_t parent_pzxid = 0;
  Bytes data;  ///< kDataSet: previous data, version, mzxid, mtime
  bool data_null = false;
  std::uint64_t data_hash = 0;
  std::int32_t version = 0;
  std::int64_t mzxid = 0;
  std::int64_t mtime = 0;
};
using UndoLog = std::vector<UndoEntry>;

/// Everything one apply needs besides the op.
struct ApplyContext {
  const TxnHeader& header;
  Zxid zxid;
  std::vector<WatchTrigger>* triggers;  ///< null: the caller does not want triggers
  UndoLog* undo;                        ///< null: not inside a multi
};

/// A child name with its first 8 bytes as a big-endian integer: most comparisons while sorting
/// children are one integer comparison instead of a memcmp through a pointer.
struct NameKey {
  std::uint64_t prefix = 0;
  std::string_view name;

  NameKey() = default;
  explicit NameKey(std::string_view n) : name(n) {
    for (std::size_t i = 0; i < 8; ++i) {
      prefix = (prefix << 8) | (i < n.size() ? static_cast<std::uint8_t>(n[i]) : 0u);
    }
  }
  friend bool operator<(const NameKey& a, const NameKey& b) {
    return a.prefix != b.prefix ? a.prefix < b.prefix : a.name < b.name;
  }
};

struct CreatePlan {
  Node* parent = nullptr;
  std::string path;
  AclList acl;
  NodeKind kind = NodeKind::kPersistent;
  std::int64_t owner = 0;
};

}  // namespace detail

struct DataTree::Impl {
  using Node = detail::Node;
  using NodeKind = detail::NodeKind;
  using ApplyContext = detail::ApplyContext;

  /// The initial tree of §1.6.
  explicit Impl(TreeConfig cfg);
  struct EmptyTag {};
  /// No nodes at all (snapshot restore fills it).
  Impl(TreeConfig cfg, EmptyTag);
  ~Impl();

  TreeConfig config;
  detail::NodeTable table;
  Node* root = nullptr;
  detail::AclCache acls;
  std::map<SessionId, detail::Session> sessions;
  std::unordered_set<Node*> containers;
  std::unordered_set<Node*> ttls;
  Zxid last_zxid = 0;
  std::uint64_t digest = 0;
  std::uint64_t data_size = 0;
  std::size_t ephemeral_count = 0;
  // Scratch space for const reads (the tree is single-threaded), so reads allocate only
  // their outputs once these have grown.
  mutable std::vector<detail::NameKey> scratch_keys;
  mutable std::vector<detail::NameKey> scratch_keys_tmp;
  mutable std::vector<const Node*> scratch_nodes;

  // ---- lookups and derived values (data_tree.cpp)
  /// The node at `path`; "" is the root too, as in ZooKeeper's DataTree (which keys the root
  /// both by "" and by "/"), so reads of the empty path answer the root.
  Node* find(std::string_view path) const { return path.empty() ? root : table.find(path); }
  /// The node a create or delete of `path` names as parent: the root for "/x" (ZooKeeper's
  /// "" alias), null if missing. Precondition: path contains '/'.
  Node* find_parent(std::string_view path) const;
  bool allowed(const Node& n, std::int32_t perm, const AuthInfo& auth) const;
  Stat stat_of(const Node& n) const;
  std::uint64_t node_hash(const Node& n) const;
  static std::uint64_t session_hash(SessionId id, std::int32_t timeout_ms);
  bool is_expired(const Node& n, std::int64_t now_ms) const;

  // ---- primitives: keep links, table, indexes, counters and digest consistent
  /// Links a detached node under n->parent (as last child), into the table and indexes.
  Node* attach(std::unique_ptr<Node> n);
  /// Reverse of attach. The node keeps its parent pointer and ACL reference.
  std::unique_ptr<Node> detach(Node* n);
  /// Frees a detached node and its ACL reference.
  void destroy(std::unique_ptr<Node> n);
  /// Runs `change` on n, updating the digest around it.
  template <typename F>
  void modify(Node* n, F&& change) {
    digest -= node_hash(*n);
    change();
    digest += node_hash(*n);
  }
  void emit(ApplyContext& ctx, EventType type, const Node& n) const;
  void add_initial_node(Node* parent, std::string path, const AclList& acl);

  // ---- ops (apply_*.cpp). Each check_* is pure; each do_* assumes its check passed.
  TxnResult apply_op(const TxnOp& op, ApplyContext& ctx);
  OpResult apply_sub_op(const MultiSubOp& op, ApplyContext& ctx);

  Err check_create(const CreateOp& op, const TxnHeader& h, detail::CreatePlan* plan) const;
  Node* do_create(detail::CreatePlan& plan, const CreateOp& op, ApplyContext& ctx);
  OpResult apply_create(const CreateOp& op, ApplyContext& ctx);

  Err check_delete(const DeleteOp& op, const AuthInfo& auth, Node** node) const;
  void do_delete(Node* n, ApplyContext& ctx);
  OpResult apply_delete(const DeleteOp& op, ApplyContext& ctx);

  Err check_set_data(const SetDataOp& op, const AuthInfo& auth, Node** node) const;
  OpResult apply_set_data(const SetDataOp& op, ApplyContext& ctx);
  OpResult apply_set_acl(const SetAclOp& op, ApplyContext& ctx);
  OpResult apply_check(const CheckOp& op, ApplyContext& ctx);

  TxnResult apply_multi(const MultiOp& op, ApplyContext& ctx);
  void rollback(detail::UndoLog& undo);
  void commit(detail::UndoLog& undo);

  OpResult apply_create_session(const CreateSessionOp& op);
  OpResult apply_close_session(const CloseSessionOp& op, ApplyContext& ctx);
  OpResult apply_delete_expired(const DeleteExpiredOp& op, ApplyContext& ctx);

  // ---- checking (data_tree.cpp)
  void check_invariants() const;
};

}  // namespace quorumlab::sm
