#include "quorumlab/sm/znode.hpp"

namespace quorumlab::sm {

const char* event_type_name(EventType type) {
  switch (type) {
    case EventType::kNone:
      return "None";
    case EventType::kNodeCreated:
      return "NodeCreated";
    case EventType::kNodeDeleted:
      return "NodeDeleted";
    case EventType::kNodeDataChanged:
      return "NodeDataChanged";
    case EventType::kNodeChildrenChanged:
      return "NodeChildrenChanged";
    case EventType::kDataWatchRemoved:
      return "DataWatchRemoved";
    case EventType::kChildWatchRemoved:
      return "ChildWatchRemoved";
    case EventType::kPersistentWatchRemoved:
      return "PersistentWatchRemoved";
  }
  return "Unknown";
}

}  // namespace quorumlab::sm
