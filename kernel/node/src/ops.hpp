// Mapping between the native protocol and the znode tree: reads, local ops, responses.
#pragma once

#include "internal.hpp"

namespace quorumlab::node {

/// True for ops served from local state (exists, getData, getAcl, getChildren,
/// getEphemerals, getAllChildrenNumber, multiRead).
bool is_read_op(proto::Request::Reader req);

/// Executes a read against the tree, arming watches for `conn`, and builds the Response.
Bytes execute_read(const sm::DataTree& tree, sm::WatchRegistry& watches, ConnId conn,
                   SessionId session, const sm::AuthInfo& auth, proto::Request::Reader req,
                   Zxid zxid);

struct LocalOpResult {
  Bytes response;
  std::vector<Bytes> notifications;  ///< to send before the response (setWatches)
  bool close_connection = false;     ///< failed auth: ZooKeeper closes the connection
};

/// addAuth, setWatches, whoAmI, checkWatches, removeWatches, addWatch.
LocalOpResult execute_local_op(const sm::DataTree& tree, sm::WatchRegistry& watches, ConnId conn,
                               sm::AuthInfo& auth, proto::Request::Reader req, Zxid zxid);

}  // namespace quorumlab::node
