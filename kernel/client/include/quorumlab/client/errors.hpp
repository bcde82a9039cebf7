// ZooKeeper's error codes (KeeperException.Code, reference §1.10), as the native protocol and
// the client library report them. Calls never throw for these: they come back in Result::err.
#pragma once

#include <cstdint>

namespace quorumlab::client {

/// An error code as ZooKeeper numbers and names it. Codes the server sends that are not listed
/// here are carried through unchanged (the enum's underlying type is the wire value).
enum class Error : std::int32_t {
  OK = 0,
  SYSTEMERROR = -1,
  RUNTIMEINCONSISTENCY = -2,
  DATAINCONSISTENCY = -3,
  CONNECTIONLOSS = -4,  // client side: the connection broke before the reply arrived
  MARSHALLINGERROR = -5,
  UNIMPLEMENTED = -6,
  OPERATIONTIMEOUT = -7,  // client side
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

/// ZooKeeper's upper-case name of a code ("NONODE"); "UNKNOWN" for a code not in the table.
const char* error_name(std::int32_t code);
inline const char* error_name(Error e) {
  return error_name(static_cast<std::int32_t>(e));
}

/// zkCli's human wording of a code ("Node does not exist"); the name again when it has none.
const char* error_message(std::int32_t code);
inline const char* error_message(Error e) {
  return error_message(static_cast<std::int32_t>(e));
}

}  // namespace quorumlab::client
