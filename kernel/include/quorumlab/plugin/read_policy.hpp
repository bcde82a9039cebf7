// Read-policy plugins: the server a client is connected to decides how to serve each read.
// The kernel implements the mechanisms; a policy only chooses among them.
#pragma once

#include <cstdint>

#include <boost/config.hpp>

#include "quorumlab/plugin/broadcast.hpp"

namespace quorumlab {

enum class ReadMechanism : std::uint8_t {
  local,         ///< serve once the session's last seen zxid is applied (ZooKeeper's default)
  sync_barrier,  ///< a sync_op barrier through the leader, then a local read
  leader,        ///< forward the read to the leader, which serves it from its state
  read_index,    ///< read-index barrier (quorum-confirmed leadership), then a local read
  lease,         ///< the leader serves locally while its lease holds; others forward
};
const char* to_string(ReadMechanism m);

/// What the policy may look at when choosing.
struct ReadInfo {
  BroadcastStatus status;  ///< this replica's broadcast status
  Zxid session_last_zxid = 0;
  Zxid applied_zxid = 0;
};

class BOOST_SYMBOL_VISIBLE ReadPolicy {
 public:
  virtual ~ReadPolicy() = default;
  /// Chooses the mechanism for one read. Must be cheap: it runs on every read.
  virtual ReadMechanism choose(const ReadInfo& info) = 0;
};

}  // namespace quorumlab
