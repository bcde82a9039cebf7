#include "quorumlab/node/session_tracker.hpp"

namespace quorumlab::node {

void SessionTracker::set_deadline(SessionId id, Entry& e, std::int64_t deadline) {
  by_deadline_.erase({e.deadline_ms, id});
  e.deadline_ms = deadline;
  by_deadline_.insert({deadline, id});
}

void SessionTracker::add(SessionId id, std::int32_t timeout_ms, std::int64_t now_ms) {
  auto [it, inserted] = sessions_.try_emplace(id, Entry{timeout_ms, now_ms + timeout_ms, false});
  if (inserted) {
    by_deadline_.insert({it->second.deadline_ms, id});
    return;
  }
  it->second.timeout_ms = timeout_ms;
  it->second.closing = false;
  set_deadline(id, it->second, now_ms + timeout_ms);
}

void SessionTracker::touch(SessionId id, std::int64_t now_ms) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.closing) return;
  set_deadline(id, it->second, now_ms + it->second.timeout_ms);
}

bool SessionTracker::touch_if_alive(SessionId id, std::int64_t now_ms) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.closing || it->second.deadline_ms <= now_ms) return false;
  set_deadline(id, it->second, now_ms + it->second.timeout_ms);
  return true;
}

void SessionTracker::remove(SessionId id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  by_deadline_.erase({it->second.deadline_ms, id});
  sessions_.erase(it);
}

std::vector<SessionId> SessionTracker::take_expired(std::int64_t now_ms) {
  std::vector<SessionId> out;
  for (auto it = by_deadline_.begin(); it != by_deadline_.end() && it->first <= now_ms;) {
    SessionId id = it->second;
    it = by_deadline_.erase(it);
    auto& e = sessions_.at(id);
    e.closing = true;
    e.deadline_ms = INT64_MAX;  // out of the deadline index until add/remove
    out.push_back(id);
  }
  return out;
}

}  // namespace quorumlab::node
