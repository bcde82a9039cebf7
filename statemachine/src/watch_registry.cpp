#include "quorumlab/sm/watch_registry.hpp"

#include <algorithm>
#include <set>

#include "quorumlab/sm/path.hpp"

namespace quorumlab::sm {

namespace {
constexpr int kDataTable = 1;
constexpr int kChildTable = 2;
constexpr std::uint8_t kAllModes = 0xFF;
}  // namespace

// ------------------------------------------------------------------ table primitives

void WatchRegistry::add(Table& table, int table_bit, ConnId conn, std::string_view path,
                        std::uint8_t mode) {
  std::vector<Entry>& entries = table[std::string(path)];
  auto it =
      std::find_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.conn == conn; });
  if (it == entries.end()) {
    entries.push_back(Entry{conn, 0});
    it = entries.end() - 1;
  }
  if ((mode & kRecursive) && !(it->modes & kRecursive)) recursive_count_++;
  it->modes |= mode;
  conns_[conn].tables[std::string(path)] |= static_cast<std::uint8_t>(table_bit);
}

void WatchRegistry::forget(ConnId conn, int table_bit, const std::string& path) {
  auto c = conns_.find(conn);
  if (c == conns_.end()) return;
  auto t = c->second.tables.find(path);
  if (t == c->second.tables.end()) return;
  t->second &= static_cast<std::uint8_t>(~table_bit);
  if (t->second == 0) c->second.tables.erase(t);
}

bool WatchRegistry::remove(Table& table, int table_bit, ConnId conn, std::string_view path,
                           std::uint8_t modes) {
  auto it = table.find(std::string(path));
  if (it == table.end()) return false;
  std::vector<Entry>& entries = it->second;
  auto e =
      std::find_if(entries.begin(), entries.end(), [&](const Entry& x) { return x.conn == conn; });
  if (e == entries.end() || (e->modes & modes) == 0) return false;
  if (e->modes & modes & kRecursive) recursive_count_--;
  e->modes &= static_cast<std::uint8_t>(~modes);
  if (e->modes == 0) {
    entries.erase(e);
    forget(conn, table_bit, it->first);
    if (entries.empty()) table.erase(it);
  }
  return true;
}

bool WatchRegistry::has(const Table& table, ConnId conn, std::string_view path,
                        std::uint8_t modes) const {
  auto it = table.find(std::string(path));
  if (it == table.end()) return false;
  for (const Entry& e : it->second) {
    if (e.conn == conn) return (e.modes & modes) != 0;
  }
  return false;
}

// ------------------------------------------------------------------ arming

void WatchRegistry::set_auth(ConnId conn, AuthInfo auth) {
  Connection& c = conns_[conn];
  c.has_auth = true;
  c.auth = std::move(auth);
}

void WatchRegistry::add_data_watch(ConnId conn, std::string_view path) {
  add(data_, kDataTable, conn, path, kStandard);
}

void WatchRegistry::add_child_watch(ConnId conn, std::string_view path) {
  add(child_, kChildTable, conn, path, kStandard);
}

void WatchRegistry::add_watch(ConnId conn, std::string_view path, AddWatchMode mode) {
  if (mode == AddWatchMode::kPersistentRecursive) {
    add(data_, kDataTable, conn, path, kRecursive);
    return;
  }
  add(data_, kDataTable, conn, path, kPersistent);
  add(child_, kChildTable, conn, path, kPersistent);
}

// ------------------------------------------------------------------ firing

void WatchRegistry::collect(Table& table, int table_bit, const std::string& path,
                            bool recursive_ancestors, std::vector<ConnId>* out) {
  auto it = table.find(path);
  if (it != table.end()) {
    std::vector<Entry>& entries = it->second;
    std::size_t kept = 0;
    for (Entry& e : entries) {
      out->push_back(e.conn);
      if (e.modes & kStandard) {
        e.modes &= static_cast<std::uint8_t>(~kStandard);
        if (e.modes == 0) {
          forget(e.conn, table_bit, path);
          continue;
        }
      }
      entries[kept++] = e;
    }
    entries.resize(kept);
    if (entries.empty()) table.erase(it);
  }
  if (!recursive_ancestors || recursive_count_ == 0) return;
  std::string_view p = path;
  while (p.size() > 1) {
    p = parent_path(p);
    auto anc = table.find(std::string(p));
    if (anc == table.end()) continue;
    for (const Entry& e : anc->second) {
      if (e.modes & kRecursive) out->push_back(e.conn);
    }
  }
}

bool WatchRegistry::may_read(ConnId conn, const AclRef& acl) const {
  if (!acl) return true;
  static const AuthInfo kNoIds;
  auto c = conns_.find(conn);
  const AuthInfo& auth = (c != conns_.end() && c->second.has_auth) ? c->second.auth : kNoIds;
  return check_acl(*acl, perms::kRead, auth);
}

void WatchRegistry::notify(ConnId conn, EventType type, const std::string& path, std::int64_t zxid,
                           const AclRef& acl, std::vector<Notification>* out) const {
  if (may_read(conn, acl)) out->push_back(Notification{conn, type, path, zxid});
}

void WatchRegistry::fire(const std::vector<WatchTrigger>& triggers,
                         std::vector<Notification>* out) {
  std::vector<ConnId> conns;
  for (const WatchTrigger& t : triggers) {
    conns.clear();
    switch (t.type) {
      case EventType::kNodeCreated:
      case EventType::kNodeDataChanged:
        collect(data_, kDataTable, t.path, true, &conns);
        break;
      case EventType::kNodeDeleted:
        collect(data_, kDataTable, t.path, true, &conns);
        collect(child_, kChildTable, t.path, false, &conns);
        break;
      case EventType::kNodeChildrenChanged:
        collect(child_, kChildTable, t.path, false, &conns);
        break;
      default:
        continue;
    }
    std::sort(conns.begin(), conns.end());
    conns.erase(std::unique(conns.begin(), conns.end()), conns.end());
    for (ConnId c : conns)
      notify(c, t.type, t.path, static_cast<std::int64_t>(t.zxid), t.acl, out);
  }
}

std::vector<Notification> WatchRegistry::fire(const std::vector<WatchTrigger>& triggers) {
  std::vector<Notification> out;
  fire(triggers, &out);
  return out;
}

// ------------------------------------------------------------------ check / remove

Err WatchRegistry::check_watches(ConnId conn, std::string_view path, WatcherType type) const {
  bool found = false;
  switch (type) {
    case WatcherType::kChildren:  // ZooKeeper 3.8: any watch in the child table
      found = has(child_, conn, path, kAllModes);
      break;
    case WatcherType::kData:  // any watch in the data table (a persistent one's data half)
      found = has(data_, conn, path, kAllModes);
      break;
    case WatcherType::kPersistent:
      found = has(data_, conn, path, kPersistent);
      break;
    case WatcherType::kPersistentRecursive:
      found = has(data_, conn, path, kRecursive);
      break;
    case WatcherType::kAny:
      found = has(child_, conn, path, kAllModes) || has(data_, conn, path, kAllModes);
      break;
    default:
      return Err::BADARGUMENTS;
  }
  return found ? Err::OK : Err::NOWATCHER;
}

Err WatchRegistry::remove_watches(ConnId conn, std::string_view path, WatcherType type) {
  bool removed = false;
  switch (type) {
    case WatcherType::kChildren:  // ZooKeeper 3.8: whatever the child table holds
      removed = remove(child_, kChildTable, conn, path, kAllModes);
      break;
    case WatcherType::kData:  // whatever the data table holds (a persistent watch's data half)
      removed = remove(data_, kDataTable, conn, path, kAllModes);
      break;
    case WatcherType::kPersistent:
      removed = remove(child_, kChildTable, conn, path, kPersistent);
      removed = remove(data_, kDataTable, conn, path, kPersistent) || removed;
      break;
    case WatcherType::kPersistentRecursive:
      removed = remove(data_, kDataTable, conn, path, kRecursive);
      break;
    case WatcherType::kAny:
      removed = remove(child_, kChildTable, conn, path, kAllModes);
      removed = remove(data_, kDataTable, conn, path, kAllModes) || removed;
      break;
    default:
      return Err::BADARGUMENTS;
  }
  return removed ? Err::OK : Err::NOWATCHER;
}

void WatchRegistry::remove_connection(ConnId conn) {
  auto c = conns_.find(conn);
  if (c == conns_.end()) return;
  const auto tables = c->second.tables;  // remove() edits the original
  for (const auto& [path, bits] : tables) {
    if (bits & kDataTable) remove(data_, kDataTable, conn, path, kAllModes);
    if (bits & kChildTable) remove(child_, kChildTable, conn, path, kAllModes);
  }
  conns_.erase(conn);
}

// ------------------------------------------------------------------ setWatches

void WatchRegistry::set_watches(ConnId conn, Zxid relative_zxid,
                                const std::vector<std::string>& data,
                                const std::vector<std::string>& exist,
                                const std::vector<std::string>& child,
                                const std::vector<std::string>& persistent,
                                const std::vector<std::string>& recursive, const DataTree& tree,
                                std::vector<Notification>* out) {
  AuthInfo super_auth;
  super_auth.super = true;
  auto c = conns_.find(conn);
  const AuthInfo auth = (c != conns_.end() && c->second.has_auth) ? c->second.auth : AuthInfo{};
  // Fires `type` at once if the connection may read the node (missing nodes: always).
  auto fire_now = [&](const std::string& path, EventType type, bool node_exists) {
    if (!node_exists || tree.exists(path, auth, nullptr) == Err::OK) {
      out->push_back(Notification{conn, type, path, kNoZxid});
    }
  };
  const auto newer = [&](std::int64_t zxid) {
    return zxid > static_cast<std::int64_t>(relative_zxid);
  };
  for (const std::string& path : data) {
    Stat st;
    if (tree.exists(path, super_auth, &st) != Err::OK) {
      fire_now(path, EventType::kNodeDeleted, false);
    } else if (newer(st.mzxid)) {
      fire_now(path, EventType::kNodeDataChanged, true);
    } else {
      add_data_watch(conn, path);
    }
  }
  for (const std::string& path : exist) {
    if (tree.exists(path, super_auth, nullptr) == Err::OK) {
      fire_now(path, EventType::kNodeCreated, true);
    } else {
      add_data_watch(conn, path);
    }
  }
  for (const std::string& path : child) {
    Stat st;
    if (tree.exists(path, super_auth, &st) != Err::OK) {
      fire_now(path, EventType::kNodeDeleted, false);
    } else if (newer(st.pzxid)) {
      fire_now(path, EventType::kNodeChildrenChanged, true);
    } else {
      add_child_watch(conn, path);
    }
  }
  for (const std::string& path : persistent)
    add_watch(conn, path, AddWatchMode::kPersistent);
  for (const std::string& path : recursive) {
    add_watch(conn, path, AddWatchMode::kPersistentRecursive);
  }
}

// ------------------------------------------------------------------ monitoring

WatchSummary WatchRegistry::summary() const {
  WatchSummary s;
  std::set<std::string_view> paths;
  for (const Table* t : {&data_, &child_}) {
    for (const auto& [path, entries] : *t) {
      paths.insert(path);
      s.watches += entries.size();
    }
  }
  s.paths = paths.size();
  for (const auto& [id, c] : conns_)
    s.connections += c.tables.empty() ? 0 : 1;
  return s;
}

std::vector<std::string> WatchRegistry::paths_of(ConnId conn) const {
  std::vector<std::string> out;
  auto c = conns_.find(conn);
  if (c == conns_.end()) return out;
  for (const auto& [path, bits] : c->second.tables)
    out.push_back(path);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<ConnId> WatchRegistry::connections_of(std::string_view path) const {
  std::vector<ConnId> out;
  for (const Table* t : {&data_, &child_}) {
    auto it = t->find(std::string(path));
    if (it == t->end()) continue;
    for (const Entry& e : it->second)
      out.push_back(e.conn);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace quorumlab::sm
