#include <algorithm>

#include "quorumlab/plugin/descriptor.hpp"

namespace quorumlab {

bool Membership::is_voter(NodeId id) const {
  return std::binary_search(voters.begin(), voters.end(), id);
}
bool Membership::is_observer(NodeId id) const {
  return std::binary_search(observers.begin(), observers.end(), id);
}

const char* to_string(Role r) {
  switch (r) {
    case Role::looking:
      return "looking";
    case Role::follower:
      return "follower";
    case Role::leader:
      return "leader";
    case Role::observer:
      return "observer";
    case Role::candidate:
      return "candidate";
  }
  return "?";
}

const char* to_string(ReadMechanism m) {
  switch (m) {
    case ReadMechanism::local:
      return "local";
    case ReadMechanism::sync_barrier:
      return "sync_barrier";
    case ReadMechanism::leader:
      return "leader";
    case ReadMechanism::read_index:
      return "read_index";
    case ReadMechanism::lease:
      return "lease";
  }
  return "?";
}

const char* to_string(PluginKind k) {
  switch (k) {
    case PluginKind::broadcast:
      return "broadcast";
    case PluginKind::storage:
      return "storage";
    case PluginKind::read_policy:
      return "read_policy";
  }
  return "?";
}

}  // namespace quorumlab
