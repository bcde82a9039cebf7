// ZooKeeper's error codes (KeeperException.Code) with their names and zkCli's wordings: the one
// vocabulary the znode tree (sm::Err), the node, the clients (client::Error) and the ZooKeeper
// front-end share. Header-only so the state machine needs no library for it.
#pragma once

#include <cstdint>
#include <optional>

namespace quorumlab {

enum class ZkError : std::int32_t {
  OK = 0,
  SYSTEMERROR = -1,
  RUNTIMEINCONSISTENCY = -2,
  DATAINCONSISTENCY = -3,
  CONNECTIONLOSS = -4,  ///< client side: the connection broke before the reply arrived
  MARSHALLINGERROR = -5,
  UNIMPLEMENTED = -6,
  OPERATIONTIMEOUT = -7,  ///< client side
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

namespace detail {

struct ZkErrorText {
  ZkError err;
  const char* name;     ///< the Code's name
  const char* message;  ///< zkCli's phrase where it has one, else KeeperException's message
};

inline constexpr ZkErrorText kZkErrors[] = {
    {ZkError::OK, "OK", "ok"},
    {ZkError::SYSTEMERROR, "SYSTEMERROR", "SystemError"},
    {ZkError::RUNTIMEINCONSISTENCY, "RUNTIMEINCONSISTENCY", "RuntimeInconsistency"},
    {ZkError::DATAINCONSISTENCY, "DATAINCONSISTENCY", "DataInconsistency"},
    {ZkError::CONNECTIONLOSS, "CONNECTIONLOSS", "ConnectionLoss"},
    {ZkError::MARSHALLINGERROR, "MARSHALLINGERROR", "MarshallingError"},
    {ZkError::UNIMPLEMENTED, "UNIMPLEMENTED", "Unimplemented"},
    {ZkError::OPERATIONTIMEOUT, "OPERATIONTIMEOUT", "OperationTimeout"},
    {ZkError::BADARGUMENTS, "BADARGUMENTS", "Argument is not valid"},
    {ZkError::UNKNOWNSESSION, "UNKNOWNSESSION", "Unknown session"},
    {ZkError::NEWCONFIGNOQUORUM, "NEWCONFIGNOQUORUM", "NewConfigNoQuorum"},
    {ZkError::RECONFIGINPROGRESS, "RECONFIGINPROGRESS", "ReconfigInProgress"},
    {ZkError::APIERROR, "APIERROR", "APIError"},
    {ZkError::NONODE, "NONODE", "Node does not exist"},
    {ZkError::NOAUTH, "NOAUTH", "Insufficient permission"},
    {ZkError::BADVERSION, "BADVERSION", "version No is not valid"},
    {ZkError::NOCHILDRENFOREPHEMERALS, "NOCHILDRENFOREPHEMERALS",
     "Ephemerals cannot have children"},
    {ZkError::NODEEXISTS, "NODEEXISTS", "Node already exists"},
    {ZkError::NOTEMPTY, "NOTEMPTY", "Node not empty"},
    {ZkError::SESSIONEXPIRED, "SESSIONEXPIRED", "Session expired"},
    {ZkError::INVALIDCALLBACK, "INVALIDCALLBACK", "Invalid callback"},
    {ZkError::INVALIDACL, "INVALIDACL", "Acl is not valid"},
    {ZkError::AUTHFAILED, "AUTHFAILED", "AuthFailed"},
    {ZkError::SESSIONMOVED, "SESSIONMOVED", "Session moved"},
    {ZkError::NOTREADONLY, "NOTREADONLY", "Not a read-only call"},
    {ZkError::EPHEMERALONLOCALSESSION, "EPHEMERALONLOCALSESSION",
     "Ephemeral node on local session"},
    {ZkError::NOWATCHER, "NOWATCHER", "No such watcher"},
    {ZkError::REQUESTTIMEOUT, "REQUESTTIMEOUT", "Request timeout"},
    {ZkError::RECONFIGDISABLED, "RECONFIGDISABLED", "Reconfig is disabled"},
    {ZkError::SESSIONCLOSEDREQUIRESASLAUTH, "SESSIONCLOSEDREQUIRESASLAUTH",
     "Session closed because client failed to authenticate"},
    {ZkError::QUOTAEXCEEDED, "QUOTAEXCEEDED", "Quota has exceeded"},
    {ZkError::THROTTLEDOP, "THROTTLEDOP", "Op throttled due to high load"},
};

inline const ZkErrorText* find_zk_error(std::int32_t code) {
  for (const auto& e : kZkErrors) {
    if (static_cast<std::int32_t>(e.err) == code) return &e;
  }
  return nullptr;
}

}  // namespace detail

constexpr std::int32_t zk_error_code(ZkError err) {
  return static_cast<std::int32_t>(err);
}

/// The Code's name ("NONODE"), or "UNKNOWN" for a code ZooKeeper does not define.
inline const char* zk_error_name(std::int32_t code) {
  const auto* e = detail::find_zk_error(code);
  return e ? e->name : "UNKNOWN";
}

/// zkCli's wording ("Node does not exist"), or "Unknown error".
inline const char* zk_error_message(std::int32_t code) {
  const auto* e = detail::find_zk_error(code);
  return e ? e->message : "Unknown error";
}

/// The code as an enumerator, or nullopt for a code ZooKeeper does not define.
inline std::optional<ZkError> zk_error_from_code(std::int32_t code) {
  const auto* e = detail::find_zk_error(code);
  return e ? std::optional<ZkError>(e->err) : std::nullopt;
}

}  // namespace quorumlab
