// WatchRegistry: the watches of the client connections of one server
// (reference/zookeeper.md §1.11; ZooKeeper's WatchManager pair in DataTree).
//
// Watches live only on the server a client is connected to. The kernel arms them after reads
// and turns the DataTree's WatchTriggers into notifications with fire(), right after the
// apply that produced them and before any later reply to the same client (§2.5).
//
// Model: two tables, as in ZooKeeper. The data table holds data and exist watches, persistent
// watches and persistent-recursive watches; the child table holds child watches and
// persistent watches. A (connection, path) entry in a table carries a set of modes: standard
// (one-shot), persistent, persistent-recursive.
//
// Determinism: fire() emits notifications in trigger order, and within one trigger in
// ascending connection id. Threading: none (one reactor thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "quorumlab/sm/acl.hpp"
#include "quorumlab/sm/data_tree.hpp"
#include "quorumlab/sm/err.hpp"
#include "quorumlab/sm/znode.hpp"

namespace quorumlab::sm {

/// A client connection on this server, as the kernel numbers them.
using ConnId = std::uint64_t;

/// zxid carried by notifications that setWatches fires (ZooKeeper's NO_ZXID).
constexpr std::int64_t kNoZxid = -1;

/// One WatchedEvent for one connection (state is always SyncConnected on the wire).
struct Notification {
  ConnId conn = 0;
  EventType type = EventType::kNone;
  std::string path;
  std::int64_t zxid = kNoZxid;

  friend bool operator==(const Notification& a, const Notification& b) {
    return a.conn == b.conn && a.type == b.type && a.path == b.path && a.zxid == b.zxid;
  }
};

/// wchs: connections with at least one watch, distinct watched paths (over both tables), and
/// watches ((connection, path) entries, counted once per table).
struct WatchSummary {
  std::size_t connections = 0;
  std::size_t paths = 0;
  std::size_t watches = 0;
};

class WatchRegistry {
 public:
  /// Records the ids of `conn`, used to withhold notifications about nodes the connection may
  /// not READ (§1.7). A connection without recorded auth is treated as holding no ids (it
  /// still passes world:anyone). Call again after every addauth.
  void set_auth(ConnId conn, AuthInfo auth);

  /// Arms a one-shot data watch: getData on OK, exists on OK or NONODE (an "exist" watch).
  /// The kernel does not arm after NOAUTH or other errors.
  void add_data_watch(ConnId conn, std::string_view path);
  /// Arms a one-shot child watch: getChildren / getChildren2 on OK.
  void add_child_watch(ConnId conn, std::string_view path);
  /// addWatch (opcode 106): persistent (both tables) or persistent-recursive (data table,
  /// matching the path and all its descendants). The kernel checks READ first when the node
  /// exists (3.9.2+). Adding a watch that exists is a no-op.
  void add_watch(ConnId conn, std::string_view path, AddWatchMode mode);

  /// Turns triggers from DataTree::apply into notifications, appended to `out`, and removes
  /// the one-shot watches that fired (also those whose notification was withheld by ACL):
  /// - NodeCreated, NodeDataChanged: data table at the path (standard and persistent), plus
  ///   persistent-recursive watches on the path and every ancestor;
  /// - NodeDeleted: as above, plus the child table at the path; a connection in both gets
  ///   one notification;
  /// - NodeChildrenChanged: child table at the path (never persistent-recursive watches).
  /// A connection gets at most one notification per trigger. A notification is withheld if
  /// the trigger carries an ACL that denies the connection READ.
  void fire(const std::vector<WatchTrigger>& triggers, std::vector<Notification>* out);
  std::vector<Notification> fire(const std::vector<WatchTrigger>& triggers);

  /// checkWatches (opcode 17): OK if `conn` has a watch of `type` on `path`, else NOWATCHER.
  /// Children/Data: any watch in the child/data table, as ZooKeeper 3.8 (so a persistent
  /// watch, filed in both tables, is found by both, and a recursive one by Data);
  /// Persistent: a persistent watch; PersistentRecursive: a recursive watch (3.9's types);
  /// Any: any watch. Unknown type: BADARGUMENTS.
  Err check_watches(ConnId conn, std::string_view path, WatcherType type) const;
  /// removeWatches (opcode 18): removes what check_watches would find: Children/Data empty
  /// conn's entry in that table (a persistent watch then keeps only its other half, which
  /// goes on firing: ZooKeeper 3.8), Persistent/PersistentRecursive that mode from both
  /// tables, Any everything; NOWATCHER if nothing was removed. Known difference: ZooKeeper
  /// 3.8 also files a recursive watch in its child table, so Children finds one there.
  Err remove_watches(ConnId conn, std::string_view path, WatcherType type);

  /// Drops every watch and the auth of a closed connection.
  void remove_connection(ConnId conn);

  /// setWatches / setWatches2 after a reconnect (§1.11), against the local `tree`, with the
  /// client's last seen zxid. Appends notifications (zxid kNoZxid) for the watches that fire
  /// at once and re-arms the others:
  /// - data: NodeDeleted if missing, NodeDataChanged if mzxid > relative_zxid, else re-arm;
  /// - exist: NodeCreated if present, else re-arm;
  /// - child: NodeDeleted if missing, NodeChildrenChanged if pzxid > relative_zxid, else
  ///   re-arm;
  /// - persistent and persistent-recursive: re-added.
  /// Immediate events about an existing node the connection may not READ are withheld (and
  /// the watch is not re-armed). Uses the auth recorded by set_auth.
  void set_watches(ConnId conn, Zxid relative_zxid, const std::vector<std::string>& data,
                   const std::vector<std::string>& exist, const std::vector<std::string>& child,
                   const std::vector<std::string>& persistent,
                   const std::vector<std::string>& recursive, const DataTree& tree,
                   std::vector<Notification>* out);

  WatchSummary summary() const;
  /// wchc: the paths `conn` watches (both tables), ascending, without duplicates.
  std::vector<std::string> paths_of(ConnId conn) const;
  /// wchp: the connections watching `path` (both tables), ascending, without duplicates.
  std::vector<ConnId> connections_of(std::string_view path) const;

 private:
  enum Mode : std::uint8_t { kStandard = 1, kPersistent = 2, kRecursive = 4 };
  struct Entry {
    ConnId conn;
    std::uint8_t modes;
  };
  using Table = std::unordered_map<std::string, std::vector<Entry>>;
  struct Connection {
    bool has_auth = false;
    AuthInfo auth;
    std::unordered_map<std::string, std::uint8_t> tables;  ///< path -> bit 1 data, bit 2 child
  };

  void add(Table& table, int table_bit, ConnId conn, std::string_view path, std::uint8_t mode);
  /// Removes `modes` (all if 0xFF) of conn's entry; true if any mode was removed.
  bool remove(Table& table, int table_bit, ConnId conn, std::string_view path, std::uint8_t modes);
  bool has(const Table& table, ConnId conn, std::string_view path, std::uint8_t modes) const;
  /// Collects watchers of `path` in `table`, consuming standard watches; with
  /// `recursive_ancestors`, also recursive watchers of the path's ancestors.
  void collect(Table& table, int table_bit, const std::string& path, bool recursive_ancestors,
               std::vector<ConnId>* out);
  void forget(ConnId conn, int table_bit, const std::string& path);
  bool may_read(ConnId conn, const AclRef& acl) const;
  void notify(ConnId conn, EventType type, const std::string& path, std::int64_t zxid,
              const AclRef& acl, std::vector<Notification>* out) const;

  Table data_;
  Table child_;
  std::unordered_map<ConnId, Connection> conns_;
  std::size_t recursive_count_ = 0;  ///< entries with kRecursive (enables the ancestor walk)
};

}  // namespace quorumlab::sm
