#include <algorithm>

#include "quorumlab/plugin/descriptor.hpp"

namespace quorumlab {

bool Membership::is_voter(NodeId id) const {
  return std::binary_search(voters.begin(), voters.end(), id);
}
bool Membership::is_observer(NodeId id) const {
  return std::binary_search(observers.begin(), observers.end(), id);
}

std::vector<NodeId> Membership::peers_of(NodeId self) const {
  std::vector<NodeId> out;
  for (const auto* group : {&voters, &observers}) {
    for (NodeId id : *group) {
      if (id != self) out.push_back(id);
    }
  }
  return out;
}

const char* to_string(Role r) {
  switch (r) {
    case Role::looking:
      return "looking";
    case Role::follower:
      return "follower";
    case Role::leader:
      return "leader";
    case Role::learner:
      return "learner";
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

const char* to_string(BarrierKind k) {
  switch (k) {
    case BarrierKind::sync_op:
      return "sync_op";
    case BarrierKind::read_index:
      return "read_index";
    case BarrierKind::leader_commit:
      return "leader_commit";
    case BarrierKind::lease:
      return "lease";
  }
  return "?";
}

const char* to_string(BarrierFailure f) {
  switch (f) {
    case BarrierFailure::none:
      return "none";
    case BarrierFailure::not_leader:
      return "not leader";
    case BarrierFailure::no_leader:
      return "no leader";
    case BarrierFailure::lease_expired:
      return "lease expired";
    case BarrierFailure::unsupported:
      return "unsupported";
  }
  return "?";
}

const char* to_string(TransferStatus s) {
  switch (s) {
    case TransferStatus::started:
      return "started";
    case TransferStatus::unsupported:
      return "unsupported";
    case TransferStatus::not_leader:
      return "not leader";
    case TransferStatus::not_voter:
      return "not a voter";
    case TransferStatus::already_leader:
      return "already leader";
  }
  return "?";
}

const char* to_string(ReadGuarantee g) {
  switch (g) {
    case ReadGuarantee::none:
      return "none";
    case ReadGuarantee::ordered_sequential:
      return "ordered-sequential";
    case ReadGuarantee::linearizable:
      return "linearizable";
    case ReadGuarantee::linearizable_if_clocks_bounded:
      return "linearizable-if-clocks-bounded";
    case ReadGuarantee::bounded_staleness:
      return "bounded-staleness";
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
