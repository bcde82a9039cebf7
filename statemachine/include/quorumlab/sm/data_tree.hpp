// DataTree: ZooKeeper's znode tree as a deterministic state machine
// (reference/zookeeper.md §1.1-§1.13).
//
// The kernel applies committed txns in zxid order on every replica; each apply validates the
// txn against the current tree (paths, versions, ACLs, sessions, ...) and either changes the
// tree or returns an error. Either way the txn consumes its zxid, like ZooKeeper's error txn.
// Reads are served from the local tree. Watches live in WatchRegistry; apply reports what
// changed as WatchTriggers.
//
// Determinism: apply depends only on the tree, the txn, the zxid and the TreeConfig; it never
// reads a clock or a random source, and iterates only in defined orders. Replicas must use
// the same TreeConfig (max_data_bytes, extended_types_enabled and
// container_max_never_used_ms change apply results).
//
// Threading: none. A DataTree is used by one thread (the node's reactor), or callers
// serialize access, reads included (get_children fills an internal cache). Reads are const
// and, apart from that cache, do not allocate beyond their outputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quorumlab/sm/acl.hpp"
#include "quorumlab/sm/err.hpp"
#include "quorumlab/sm/txn.hpp"
#include "quorumlab/sm/znode.hpp"
#include "quorumlab/types.hpp"

namespace quorumlab::sm {

/// Settings that affect apply; every replica must use equal values.
struct TreeConfig {
  /// Largest znode data accepted by create and setData; larger is BADARGUMENTS (§1.9).
  std::size_t max_data_bytes = 1048576;
  /// `zookeeper.extendedTypesEnabled`: TTL modes are UNIMPLEMENTED when false.
  bool extended_types_enabled = true;
  /// `znode.container.maxNeverUsedIntervalMs`: a container that never had a child is expired
  /// after this many ms since its mtime; 0 = never (§1.2).
  std::int64_t container_max_never_used_ms = 0;
  /// `DigestAuthenticationProvider.superDigest` ("super:<base64>"), used by add_auth();
  /// empty = no super user. Does not affect apply.
  std::string super_digest;
};

/// A change that may fire watches, reported by apply in the order the changes happened.
/// `acl` is the ACL of the node the event is about (the deleted node's last ACL for
/// NodeDeleted, the parent's for NodeChildrenChanged); WatchRegistry uses it to withhold the
/// event from connections without READ (§1.7).
struct WatchTrigger {
  EventType type = EventType::kNone;
  std::string path;
  Zxid zxid = 0;
  AclRef acl;
};

/// Result of one op (a whole txn, or one op of a multi).
/// - create: `path` is the created path (with the sequence suffix) and `stat` its Stat.
/// - setData, setACL: `stat` is the node's new Stat. check: `stat` is the node's Stat.
/// - delete, deleteExpired, sessions, noop: nothing but `err`.
/// On error `path` is empty and `stat` is zero.
struct OpResult {
  OpType type = OpType::kNoOp;
  Err err = Err::OK;
  std::string path;
  Stat stat;
};

/// Result of applying a txn. For a multi, `multi` holds one OpResult per op (same order), and
/// `err` is OK if the multi was applied or else the code of the first failing op. A failed
/// multi changes nothing and reports, per §1.13, OK for the ops before the failing one, its
/// code for the failing one and RUNTIMEINCONSISTENCY for the ops after it; the kernel sends
/// each entry as ErrorResult(entry.err) and puts 0 in the ReplyHeader as ZooKeeper does.
struct TxnResult {
  OpType type = OpType::kNoOp;
  Err err = Err::OK;
  std::string path;
  Stat stat;
  std::vector<OpResult> multi;
};

/// A session in the session table (global sessions only).
struct SessionInfo {
  SessionId session_id = 0;
  std::int32_t timeout_ms = 0;
  std::size_t ephemeral_count = 0;
};

/// One read of a multiRead (§1.13): getData or getChildren, never with a watch.
struct ReadOp {
  enum class Kind { kGetData, kGetChildren };
  Kind kind = Kind::kGetData;
  std::string path;
};

/// Result of one ReadOp: `data` and `stat` for getData, `children` for getChildren.
struct ReadResult {
  Err err = Err::OK;
  Bytes data;
  bool data_null = false;  ///< getData of a node holding null data
  Stat stat;
  std::vector<std::string> children;
};

class DataTree {
 public:
  /// The initial tree of §1.6: "/", "/zookeeper", "/zookeeper/quota" (OPEN_ACL_UNSAFE, all
  /// stats zero) and "/zookeeper/config" (READ_ACL_UNSAFE, aversion -1), no sessions,
  /// last_applied_zxid() == 0.
  explicit DataTree(TreeConfig config = {});
  ~DataTree();
  /// Moves are O(1). A moved-from tree may only be destroyed or assigned to.
  DataTree(DataTree&&) noexcept;
  DataTree& operator=(DataTree&&) noexcept;
  DataTree(const DataTree&) = delete;
  DataTree& operator=(const DataTree&) = delete;

  const TreeConfig& config() const;

  /// Sets the data of "/zookeeper/config" to the ensemble description, as ZooKeeper's
  /// ZKDatabase.initConfigInZKDatabase does on every replica at start-up and after loading a
  /// snapshot (not a txn: every replica derives it from the same configuration). Like
  /// ZooKeeper's setData(path, data, -1, configVersion, time) the stat gets version -1 and
  /// mzxid 0 (a static configuration's version); mtime stays 0 so replicas keep equal digests.
  void set_ensemble_config(const Bytes& data);

  // ---------------------------------------------------------------- apply

  /// Applies a committed txn with the zxid the broadcast protocol assigned to it.
  /// Precondition: zxid > last_applied_zxid(); a violation is a logic error and throws
  /// std::logic_error without changing anything.
  /// Postconditions: last_applied_zxid() == zxid; the tree reflects the txn if the result is
  /// OK and is unchanged otherwise; if `triggers` is non-null, every watch-relevant change is
  /// appended to it in order (nothing for a failed txn or a failed multi).
  ///
  /// Per op (validation order as in ZooKeeper's PrepRequestProcessor; data size first):
  /// - create: data > max_data_bytes, mode not 0..6, TTL checks (UNIMPLEMENTED when disabled;
  ///   ttl outside [1, 2^40-1] for TTL modes or >= 0 for others) -> BADARGUMENTS/UNIMPLEMENTED;
  ///   ephemeral for a session not in the table -> SESSIONEXPIRED; no '/' or a NUL ->
  ///   BADARGUMENTS; fixupACL -> INVALIDACL; parent missing -> NONODE; no CREATE on the
  ///   parent -> NOAUTH; then the sequence suffix `%010d` of the parent's persisted cversion
  ///   (signed, wraps) is appended; invalid final path -> BADARGUMENTS; exists -> NODEEXISTS;
  ///   ephemeral parent -> NOCHILDRENFOREPHEMERALS. Effect: node with czxid = mzxid = pzxid =
  ///   zxid, ctime = mtime = time_ms; parent's persisted cversion + 1 and pzxid = zxid.
  /// - delete: no '/', a NUL or a special path -> BADARGUMENTS; parent missing -> NONODE; no
  ///   DELETE on the parent -> NOAUTH; node missing -> NONODE; version -> BADVERSION;
  ///   children -> NOTEMPTY. Effect: parent pzxid = zxid (cversion unchanged, §1.3).
  /// - setData: data size, invalid path -> BADARGUMENTS; NONODE; no WRITE -> NOAUTH;
  ///   BADVERSION. Effect: version + 1, mzxid = zxid, mtime = time_ms.
  /// - setACL: invalid path -> BADARGUMENTS; INVALIDACL; NONODE; no ADMIN -> NOAUTH;
  ///   aversion mismatch -> BADVERSION. Effect: aversion + 1 (no zxid changes, no triggers).
  /// - check: invalid path -> BADARGUMENTS; NONODE; no READ -> NOAUTH; BADVERSION.
  /// - multi: see TxnResult. Empty multi: OK with no results.
  /// - createSession: session id 0 -> BADARGUMENTS; otherwise OK; an existing session keeps
  ///   its ephemerals and takes the new timeout (ZooKeeper's replayed session map does).
  /// - closeSession: deletes the session's ephemerals in path order (triggers as for delete)
  ///   and removes it; an unknown session is OK and changes nothing (ZooKeeper: err 0).
  /// - deleteExpired: no '/', NUL or special path -> BADARGUMENTS; NONODE; children ->
  ///   NOTEMPTY; not a container/TTL node, or no longer expired at header.time_ms (see
  ///   expired_nodes) -> BADVERSION. No ACL or session checks (server-internal).
  /// - noop: OK.
  /// Session validity of the requester is not checked except for ephemeral creates: the
  /// kernel rejects requests of unknown sessions before proposing (has_session()).
  TxnResult apply(const Txn& txn, Zxid zxid, std::vector<WatchTrigger>* triggers);

  /// The zxid of the last applied txn; 0 for a new tree.
  Zxid last_applied_zxid() const;

  // ---------------------------------------------------------------- reads
  // Each read answers from the current tree with the caller's AuthInfo. Output pointers may
  // be null when the caller does not need that output; outputs are written only on OK.
  // Watches are armed by the kernel in WatchRegistry after the read, per §1.11: exists arms a
  // data watch on OK and NONODE, getData on OK only, getChildren a child watch on OK only.

  /// NUL in path -> BADARGUMENTS; missing -> NONODE; no READ -> NOAUTH (3.9.2+ behaviour).
  /// The kernel's exists request follows ZooKeeper 3.8 and checks no ACL (it passes super's
  /// rights); this check serves the READ tests of setWatches and addWatch.
  Err exists(std::string_view path, const AuthInfo& auth, Stat* stat) const;

  /// getData: NONODE; no READ -> NOAUTH. `data` is assigned (capacity reused); `*null`, if
  /// given, tells whether the node holds null data (ZooKeeper's null byte[], answered as a
  /// jute buffer of length -1; `data` is then empty).
  Err get_data(std::string_view path, const AuthInfo& auth, Bytes* data, Stat* stat,
               bool* null = nullptr) const;
  /// As get_data without the copy: on OK `*data` points at the node's own bytes, valid until
  /// the next apply, restore or move of the tree.
  Err get_data_view(std::string_view path, const AuthInfo& auth, const Bytes** data, Stat* stat,
                    bool* null = nullptr) const;

  /// getChildren / getChildren2: NONODE; no READ -> NOAUTH. Child names (not paths), in
  /// ascending byte order; `stat` is the parent's Stat. For nodes with many children the
  /// sorted answer is cached until a child is added or removed (so this const read may
  /// allocate internally; see the threading note above).
  Err get_children(std::string_view path, const AuthInfo& auth, std::vector<std::string>* children,
                   Stat* stat = nullptr) const;

  /// getACL: NONODE; neither READ nor ADMIN -> NOAUTH. Without ADMIN, digest ids are masked
  /// to "user:x". `stat` is the node's Stat.
  Err get_acl(std::string_view path, const AuthInfo& auth, AclList* acl, Stat* stat) const;

  /// getAllChildrenNumber: the number of descendants (for "/" every node but the root).
  /// NONODE; no READ -> NOAUTH. O(size of the subtree).
  Err get_all_children_number(std::string_view path, const AuthInfo& auth,
                              std::int32_t* number) const;

  /// getEphemerals of `session`: its ephemeral paths starting with `prefix` (plain string
  /// prefix; "" , "/" or whitespace returns all), in ascending order. ZooKeeper checks no ACL.
  std::vector<std::string> get_ephemerals(SessionId session, std::string_view prefix) const;

  /// multiRead: each op answered independently (errors per op, no all-or-nothing).
  std::vector<ReadResult> multi_read(const std::vector<ReadOp>& ops, const AuthInfo& auth) const;

  /// addauth with this tree's super digest; see add_auth() in acl.hpp.
  Err add_auth(AuthInfo* auth, std::string_view scheme, std::string_view credentials) const;

  // ---------------------------------------------------------------- sessions and cleanup

  /// The session table in ascending id order, for the leader's expiry tracker.
  std::vector<SessionInfo> sessions() const;
  bool has_session(SessionId session) const;

  /// Paths the leader should propose deleteExpired for at wall time `now_ms`, ascending, at
  /// most `limit` (ZooKeeper's ContainerManager rules, §1.2):
  /// - a container with no children whose persisted cversion > 0 (it had a child), or, if
  ///   container_max_never_used_ms > 0, one that never had a child and
  ///   now_ms - mtime > container_max_never_used_ms;
  /// - a TTL node with no children and now_ms - mtime > ttl (i.e. mtime + ttl < now_ms).
  /// apply(deleteExpired) checks the same rule at the txn's time_ms.
  std::vector<std::string> expired_nodes(std::int64_t now_ms, std::size_t limit = SIZE_MAX) const;

  // ---------------------------------------------------------------- monitoring

  /// Number of znodes, including "/" and the three /zookeeper nodes (ZooKeeper's
  /// zk_znode_count is one more: it also counts its "" alias of the root).
  std::size_t node_count() const;
  /// zk_approximate_data_size: sum over nodes of path length + data length.
  std::uint64_t approximate_data_size() const;
  /// zk_ephemerals_count.
  std::size_t ephemeral_count() const;

  /// A 64-bit digest of the whole state: the sum (mod 2^64) of a hash of every node (path,
  /// persisted stat, node kind, data, ACL) and of every session (id, timeout). Maintained
  /// incrementally in O(1) per changed node. Equal for replicas that applied the same txns;
  /// different states differ with probability about 1 - 2^-64. last_applied_zxid() is not
  /// part of it.
  std::uint64_t digest() const;

  // ---------------------------------------------------------------- snapshots

  /// The whole state (nodes, ACLs, sessions, last applied zxid) in our snapshot format,
  /// ending with an XXH3-64 checksum. A consistent cut (not fuzzy).
  Bytes serialize() const;
  /// As serialize(), streamed in chunks. Sets the stream's failbit on write errors.
  void write_snapshot(std::ostream& out) const;

  /// Rebuilds a tree from serialize() output. Returns nullopt and, if `error` is non-null, a
  /// reason, for any input that is not a valid snapshot: bad magic, version or checksum,
  /// truncation, and structural errors (missing parent, duplicate path, invalid path, unknown
  /// ACL reference, ephemeral of an unknown session, digest mismatch, ...). The restored tree
  /// has the same digest(), answers and last_applied_zxid() as the original.
  static std::optional<DataTree> restore(const std::uint8_t* data, std::size_t size,
                                         std::string* error, TreeConfig config = {});
  static std::optional<DataTree> read_snapshot(std::istream& in, std::string* error,
                                               TreeConfig config = {});

  // ---------------------------------------------------------------- checking

  /// Verifies every internal invariant (links, counts, indexes, ACL references, the digest
  /// recomputed from scratch, ...). Throws std::logic_error naming the first violation.
  /// O(n); for tests and the simulator.
  void check_invariants() const;

  /// Test support only: sets the persisted cversion of an existing node (so sequence-number
  /// wrap-around can be tested without 2^31 creates). Returns false if the node is missing.
  bool debug_set_persisted_cversion(std::string_view path, std::int32_t cversion);

  struct Impl;

 private:
  explicit DataTree(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace quorumlab::sm
