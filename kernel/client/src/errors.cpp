// Names and wordings of ZooKeeper's error codes (KeeperException.Code, zkCli's messages).
#include "quorumlab/client/errors.hpp"

namespace quorumlab::client {

namespace {

struct ErrorText {
  std::int32_t code;
  const char* name;
  const char* message;  // zkCli's phrase where it has one, else KeeperException's code message
};

constexpr ErrorText kErrors[] = {
    {0, "OK", "ok"},
    {-1, "SYSTEMERROR", "SystemError"},
    {-2, "RUNTIMEINCONSISTENCY", "RuntimeInconsistency"},
    {-3, "DATAINCONSISTENCY", "DataInconsistency"},
    {-4, "CONNECTIONLOSS", "ConnectionLoss"},
    {-5, "MARSHALLINGERROR", "MarshallingError"},
    {-6, "UNIMPLEMENTED", "Unimplemented"},
    {-7, "OPERATIONTIMEOUT", "OperationTimeout"},
    {-8, "BADARGUMENTS", "Argument is not valid"},
    {-12, "UNKNOWNSESSION", "Unknown session"},
    {-13, "NEWCONFIGNOQUORUM", "NewConfigNoQuorum"},
    {-14, "RECONFIGINPROGRESS", "ReconfigInProgress"},
    {-100, "APIERROR", "APIError"},
    {-101, "NONODE", "Node does not exist"},
    {-102, "NOAUTH", "Insufficient permission"},
    {-103, "BADVERSION", "version No is not valid"},
    {-108, "NOCHILDRENFOREPHEMERALS", "Ephemerals cannot have children"},
    {-110, "NODEEXISTS", "Node already exists"},
    {-111, "NOTEMPTY", "Node not empty"},
    {-112, "SESSIONEXPIRED", "Session expired"},
    {-113, "INVALIDCALLBACK", "Invalid callback"},
    {-114, "INVALIDACL", "Acl is not valid"},
    {-115, "AUTHFAILED", "AuthFailed"},
    {-118, "SESSIONMOVED", "Session moved"},
    {-119, "NOTREADONLY", "Not a read-only call"},
    {-120, "EPHEMERALONLOCALSESSION", "Ephemeral node on local session"},
    {-121, "NOWATCHER", "No such watcher"},
    {-122, "REQUESTTIMEOUT", "Request timeout"},
    {-123, "RECONFIGDISABLED", "Reconfig is disabled"},
    {-124, "SESSIONCLOSEDREQUIRESASLAUTH", "Session closed because client failed to authenticate"},
    {-125, "QUOTAEXCEEDED", "Quota has exceeded"},
    {-127, "THROTTLEDOP", "Op throttled due to high load"},
};

const ErrorText* find(std::int32_t code) {
  for (const auto& e : kErrors) {
    if (e.code == code) return &e;
  }
  return nullptr;
}

}  // namespace

const char* error_name(std::int32_t code) {
  const auto* e = find(code);
  return e ? e->name : "UNKNOWN";
}

const char* error_message(std::int32_t code) {
  const auto* e = find(code);
  return e ? e->message : "Unknown error";
}

}  // namespace quorumlab::client
