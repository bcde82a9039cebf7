// The leader's session expiry tracker (ZooKeeper's SessionTrackerImpl/ExpiryQueue, simplified
// to exact deadlines). Sessions are touched by every request of a client connected to this
// node and by the liveness reports followers send; a session not touched within its timeout
// expires, and the leader proposes closeSession for it. A node that becomes leader replaces its
// tracker with a fresh one holding every session of its tree at now + timeout
// (Node::on_status_change): ZooKeeper's new leader gives every session a full timeout.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

#include "quorumlab/types.hpp"

namespace quorumlab::node {

class SessionTracker {
 public:
  /// Starts tracking (or refreshes) a session with the given timeout.
  void add(SessionId id, std::int32_t timeout_ms, std::int64_t now_ms);
  /// Pushes the deadline of a known session to now + timeout. Unknown ids are ignored.
  void touch(SessionId id, std::int64_t now_ms);
  /// touch() for a known session whose deadline has not passed and that is not closing; false
  /// (and no touch) otherwise: the session is expired or about to be.
  bool touch_if_alive(SessionId id, std::int64_t now_ms);
  void remove(SessionId id);
  /// Sessions whose deadline is <= now, oldest deadline first (ties by id). Each is returned
  /// once: it is marked closing until `remove` or `add`.
  std::vector<SessionId> take_expired(std::int64_t now_ms);
  bool contains(SessionId id) const { return sessions_.count(id) != 0; }
  std::size_t size() const { return sessions_.size(); }

 private:
  struct Entry {
    std::int32_t timeout_ms;
    std::int64_t deadline_ms;
    bool closing;
  };
  void set_deadline(SessionId id, Entry& e, std::int64_t deadline);
  std::unordered_map<SessionId, Entry> sessions_;
  std::set<std::pair<std::int64_t, SessionId>> by_deadline_;
};

}  // namespace quorumlab::node
