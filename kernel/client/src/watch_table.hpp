// The client's watch manager (ZooKeeper's ZKWatchManager): which watchers wait on which path,
// which of them a notification fires, and what is re-sent after a reconnect. Pure data
// structure, owned by the I/O thread.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "quorumlab/client/types.hpp"

namespace quorumlab::client::detail {

/// The tables a watcher can sit in. exists on a missing node arms kExist; exists/getData on a
/// present node arm kData; getChildren arms kChild; addWatch arms the persistent ones.
enum class WatchKind { kData, kExist, kChild, kPersistent, kPersistentRecursive };

/// Watchers to call with one event.
struct Firing {
  std::vector<Watcher> watchers;
  WatchedEvent event;
};

/// The paths of every table, for setWatches after a reconnect (client paths, sorted).
struct WatchLists {
  std::vector<std::string> data, exist, child, persistent, persistent_recursive;
  bool empty() const {
    return data.empty() && exist.empty() && child.empty() && persistent.empty() &&
           persistent_recursive.empty();
  }
};

class WatchTable {
 public:
  void add(WatchKind kind, const std::string& path, Watcher watcher);

  /// The watchers a server notification of `type` on `path` triggers (reference §1.11):
  /// one-shot watchers are removed, persistent ones stay. Recursive watchers on `path` or an
  /// ancestor get everything except NodeChildrenChanged.
  std::vector<Watcher> materialize(EventType type, const std::string& path);

  /// True when a watcher of `type` waits on `path` (kData covers data and exist watches; kAny
  /// covers every table).
  bool contains(const std::string& path, WatcherType type) const;

  /// Removes every watcher of `type` on `path` and returns them with the *WatchRemoved event
  /// each must receive.
  std::vector<Firing> remove(const std::string& path, WatcherType type);

  WatchLists lists() const;
  void clear();
  bool empty() const;
  std::size_t size() const;

 private:
  using Table = std::map<std::string, std::vector<Watcher>>;
  Table& table(WatchKind kind);
  static void take(Table& t, const std::string& path, std::vector<Watcher>* out);
  static void copy(const Table& t, const std::string& path, std::vector<Watcher>* out);

  Table data_, exist_, child_, persistent_, recursive_;
};

}  // namespace quorumlab::client::detail
