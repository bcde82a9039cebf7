// Result codes of the znode tree: ZooKeeper's KeeperException.Code, value for value
// (reference/zookeeper.md §1.10), so the kernel can put them on the wire unchanged. The codes
// and their names live in quorumlab/zk_error.hpp, shared with the clients.
#pragma once

#include <cstdint>
#include <optional>

#include "quorumlab/zk_error.hpp"

namespace quorumlab::sm {

/// ZooKeeper's error codes. OK is 0; every error is negative. Some codes are markers
/// (SYSTEMERROR, APIERROR) or client-side only (CONNECTIONLOSS, OPERATIONTIMEOUT); they exist so
/// every code can be named and carried.
using Err = ZkError;

inline const char* err_name(Err err) {
  return zk_error_name(zk_error_code(err));
}

inline std::optional<Err> err_from_code(std::int32_t code) {
  return zk_error_from_code(code);
}

constexpr std::int32_t err_code(Err err) {
  return zk_error_code(err);
}

}  // namespace quorumlab::sm
