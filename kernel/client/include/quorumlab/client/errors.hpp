// ZooKeeper's error codes (KeeperException.Code, reference §1.10), as the native protocol and
// the client library report them. Calls never throw for these: they come back in Result::err.
// The codes, names and wordings are quorumlab/zk_error.hpp's, shared with the server side.
#pragma once

#include <cstdint>

#include "quorumlab/zk_error.hpp"

namespace quorumlab::client {

/// An error code as ZooKeeper numbers and names it. Codes the server sends that are not listed
/// are carried through unchanged (the enum's underlying type is the wire value).
using Error = ZkError;

inline const char* error_name(std::int32_t code) {
  return zk_error_name(code);
}
inline const char* error_name(Error e) {
  return zk_error_name(zk_error_code(e));
}

/// zkCli's wording of the error ("Node does not exist").
inline const char* error_message(std::int32_t code) {
  return zk_error_message(code);
}
inline const char* error_message(Error e) {
  return zk_error_message(zk_error_code(e));
}

}  // namespace quorumlab::client
