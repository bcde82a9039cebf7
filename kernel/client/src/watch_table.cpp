// ZooKeeper's client-side watch bookkeeping (ZKWatchManager.materialize and friends).
#include "watch_table.hpp"

namespace quorumlab::client::detail {

WatchTable::Table& WatchTable::table(WatchKind kind) {
  switch (kind) {
    case WatchKind::kData:
      return data_;
    case WatchKind::kExist:
      return exist_;
    case WatchKind::kChild:
      return child_;
    case WatchKind::kPersistent:
      return persistent_;
    case WatchKind::kPersistentRecursive:
      return recursive_;
  }
  return data_;
}

void WatchTable::add(WatchKind kind, const std::string& path, Watcher watcher) {
  table(kind)[path].push_back(std::move(watcher));
}

void WatchTable::take(Table& t, const std::string& path, std::vector<Watcher>* out) {
  auto it = t.find(path);
  if (it == t.end()) return;
  for (auto& w : it->second)
    out->push_back(std::move(w));
  t.erase(it);
}

void WatchTable::copy(const Table& t, const std::string& path, std::vector<Watcher>* out) {
  auto it = t.find(path);
  if (it == t.end()) return;
  out->insert(out->end(), it->second.begin(), it->second.end());
}

std::vector<Watcher> WatchTable::materialize(EventType type, const std::string& path) {
  std::vector<Watcher> out;
  switch (type) {
    case EventType::kNodeCreated:
    case EventType::kNodeDataChanged:
      take(data_, path, &out);
      take(exist_, path, &out);
      break;
    case EventType::kNodeChildrenChanged:
      take(child_, path, &out);
      break;
    case EventType::kNodeDeleted:
      take(data_, path, &out);
      take(exist_, path, &out);
      take(child_, path, &out);
      break;
    default:
      return out;
  }
  copy(persistent_, path, &out);
  if (type == EventType::kNodeChildrenChanged) return out;
  // Recursive watchers on the path itself and on every ancestor, root last.
  std::string p = path;
  while (true) {
    copy(recursive_, p, &out);
    if (p == "/" || p.empty()) break;
    auto slash = p.rfind('/');
    p = slash == 0 ? "/" : p.substr(0, slash);
  }
  return out;
}

bool WatchTable::contains(const std::string& path, WatcherType type) const {
  auto has = [&path](const Table& t) { return t.count(path) > 0; };
  switch (type) {
    case WatcherType::kChildren:
      return has(child_);
    case WatcherType::kData:
      return has(data_) || has(exist_);
    case WatcherType::kPersistent:
      return has(persistent_);
    case WatcherType::kPersistentRecursive:
      return has(recursive_);
    case WatcherType::kAny:
      return has(data_) || has(exist_) || has(child_) || has(persistent_) || has(recursive_);
  }
  return false;
}

std::vector<Firing> WatchTable::remove(const std::string& path, WatcherType type) {
  std::vector<Firing> out;
  auto move_out = [&](Table& t, EventType event_type) {
    std::vector<Watcher> ws;
    take(t, path, &ws);
    if (ws.empty()) return;
    out.push_back(
        Firing{std::move(ws), WatchedEvent{event_type, KeeperState::kSyncConnected, path, -1}});
  };
  bool any = type == WatcherType::kAny;
  if (any || type == WatcherType::kData) {
    move_out(data_, EventType::kDataWatchRemoved);
    move_out(exist_, EventType::kDataWatchRemoved);
  }
  if (any || type == WatcherType::kChildren) move_out(child_, EventType::kChildWatchRemoved);
  if (any || type == WatcherType::kPersistent) {
    move_out(persistent_, EventType::kPersistentWatchRemoved);
  }
  if (any || type == WatcherType::kPersistentRecursive) {
    move_out(recursive_, EventType::kPersistentWatchRemoved);
  }
  return out;
}

WatchLists WatchTable::lists() const {
  auto keys = [](const Table& t) {
    std::vector<std::string> k;
    k.reserve(t.size());
    for (const auto& [path, ws] : t)
      k.push_back(path);
    return k;
  };
  return WatchLists{keys(data_), keys(exist_), keys(child_), keys(persistent_), keys(recursive_)};
}

void WatchTable::clear() {
  data_.clear();
  exist_.clear();
  child_.clear();
  persistent_.clear();
  recursive_.clear();
}

bool WatchTable::empty() const {
  return size() == 0;
}

std::size_t WatchTable::size() const {
  std::size_t n = 0;
  for (const Table* t : {&data_, &exist_, &child_, &persistent_, &recursive_}) {
    for (const auto& [path, ws] : *t)
      n += ws.size();
  }
  return n;
}

}  // namespace quorumlab::client::detail
