#include "quorumlab/trace.hpp"

namespace quorumlab {

const char* to_string(TraceKind k) {
  switch (k) {
    case TraceKind::became_leader:
      return "became_leader";
    case TraceKind::became_follower:
      return "became_follower";
    case TraceKind::became_candidate:
      return "became_candidate";
    case TraceKind::became_observer:
      return "became_observer";
    case TraceKind::election_started:
      return "election_started";
    case TraceKind::vote_sent:
      return "vote_sent";
    case TraceKind::proposal:
      return "proposal";
    case TraceKind::ack:
      return "ack";
    case TraceKind::commit:
      return "commit";
    case TraceKind::apply:
      return "apply";
    case TraceKind::persisted:
      return "persisted";
    case TraceKind::read_served:
      return "read_served";
    case TraceKind::barrier:
      return "barrier";
    case TraceKind::sync_phase:
      return "sync_phase";
    case TraceKind::message_sent:
      return "message_sent";
    case TraceKind::message_received:
      return "message_received";
    case TraceKind::custom:
      return "custom";
  }
  return "?";
}

}  // namespace quorumlab
