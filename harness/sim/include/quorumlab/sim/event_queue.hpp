// The simulator's event queue: events ordered by (time, sequence number). The sequence number
// is assigned at push, so two events at the same simulated time run in the order they were
// scheduled: a deterministic tie-break that does not depend on the heap's internals.
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

#include "quorumlab/types.hpp"

namespace quorumlab::sim {

enum class EventKind : std::uint8_t {
  tick,            ///< node: one broadcast tick (node, incarnation)
  peer_deliver,    ///< a peer message arrives at `node` (from = aux)
  client_to_node,  ///< a client message arrives at its connection's node (id = conn)
  node_to_client,  ///< a server message arrives at its connection's client (id = conn)
  conn_closed,     ///< the client learns that its connection closed (id = conn)
  fsync_done,      ///< node's disk finished an fsync (node, incarnation)
  client_timer,    ///< a client's timer (aux = client index, id = timer generation)
  nemesis,         ///< the nemesis picks the next fault
  fault_end,       ///< a fault ends (id = fault id)
  restart,         ///< a crashed node starts again (node)
  resume,          ///< a paused node continues (node)
  phase_liveness,  ///< the safety phase ends: heal everything, check progress
  deadline,        ///< the liveness phase ran out of time
  peer_down,       ///< `node` sees its connection to peer `aux` drop (id = node incarnation)
  client_hangup,   ///< `node` sees client connection `id` close (aux = node incarnation)
  scenario,        ///< a scripted scenario step (aux = step kind, id = generation)
  cpu_ready,       ///< performance model: a core of CPU pool `aux` is free
};

const char* to_string(EventKind k);

struct Event {
  std::int64_t at_us = 0;
  std::uint64_t seq = 0;
  EventKind kind = EventKind::tick;
  NodeId node = 0;
  std::uint32_t aux = 0;
  std::uint64_t id = 0;
  Bytes payload;
};

class EventQueue {
 public:
  /// Adds `e` with the next sequence number; returns that number.
  std::uint64_t push(Event e) {
    e.seq = next_seq_++;
    heap_.push(std::move(e));
    return next_seq_ - 1;
  }
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  const Event& top() const { return heap_.top(); }
  /// Removes and returns the earliest event (lowest time, then lowest sequence number).
  Event pop() {
    // priority_queue::top is const; moving out of it before pop is safe for our element type.
    Event e = std::move(const_cast<Event&>(heap_.top()));
    heap_.pop();
    return e;
  }

 private:
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.at_us != b.at_us ? a.at_us > b.at_us : a.seq > b.seq;
    }
  };
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  std::uint64_t next_seq_ = 1;
};

}  // namespace quorumlab::sim
