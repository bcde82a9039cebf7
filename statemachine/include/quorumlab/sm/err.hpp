// Result codes of the znode tree: ZooKeeper's KeeperException.Code, value for value
// (reference/zookeeper.md §1.10), so the kernel can put them on the wire unchanged.
#pragma once

#include <cstdint>
#include <optional>

namespace quorumlab::sm {

/// ZooKeeper's error codes with ZooKeeper's names and int32 values. OK is 0; every error is
/// negative. Some codes are markers (SYSTEMERROR, APIERROR) or client-side only
/// (CONNECTIONLOSS, OPERATIONTIMEOUT); they exist so every code can be named and carried.
enum class Err : std::int32_t {
  OK = 0,
  SYSTEMERROR = -1,
  RUNTIMEINCONSISTENCY = -2,
  DATAINCONSISTENCY = -3,
  CONNECTIONLOSS = -4,
  MARSHALLINGERROR = -5,
  UNIMPLEMENTED = -6,
  OPERATIONTIMEOUT = -7,
  BADARGUMENTS = -8,
  UNKNOWNSESSION = -12,
  NEWCONFIGNOQUORUM = -13,
  RECONFIGINPROGRESS = -14,
  APIERROR = -100,
  NONODE = -101,
  NOAUTH = -102,
  BADVERSION = -103,
  NOCHILDRENFOREPHEMERALS = -108,
  NODEEXISTS = -110,
  NOTEMPTY = -111,
  SESSIONEXPIRED = -112,
  INVALIDCALLBACK = -113,
  INVALIDACL = -114,
  AUTHFAILED = -115,
  SESSIONMOVED = -118,
  NOTREADONLY = -119,
  EPHEMERALONLOCALSESSION = -120,
  NOWATCHER = -121,
  REQUESTTIMEOUT = -122,
  RECONFIGDISABLED = -123,
  SESSIONCLOSEDREQUIRESASLAUTH = -124,
  QUOTAEXCEEDED = -125,
  THROTTLEDOP = -127,
};

/// ZooKeeper's name of the code ("OK", "NONODE", ...). Never null; an int32 that is not a
/// known code (only reachable by casting) gives "UNKNOWN".
const char* err_name(Err err);

/// The code for a wire value, or nullopt if `code` is not one of ZooKeeper's codes.
std::optional<Err> err_from_code(std::int32_t code);

/// The wire value of a code.
constexpr std::int32_t err_code(Err err) {
  return static_cast<std::int32_t>(err);
}

}  // namespace quorumlab::sm
