#include "quorumlab/sm/err.hpp"

namespace quorumlab::sm {

namespace {

struct ErrEntry {
  Err err;
  const char* name;
};

constexpr ErrEntry kErrTable[] = {
    {Err::OK, "OK"},
    {Err::SYSTEMERROR, "SYSTEMERROR"},
    {Err::RUNTIMEINCONSISTENCY, "RUNTIMEINCONSISTENCY"},
    {Err::DATAINCONSISTENCY, "DATAINCONSISTENCY"},
    {Err::CONNECTIONLOSS, "CONNECTIONLOSS"},
    {Err::MARSHALLINGERROR, "MARSHALLINGERROR"},
    {Err::UNIMPLEMENTED, "UNIMPLEMENTED"},
    {Err::OPERATIONTIMEOUT, "OPERATIONTIMEOUT"},
    {Err::BADARGUMENTS, "BADARGUMENTS"},
    {Err::UNKNOWNSESSION, "UNKNOWNSESSION"},
    {Err::NEWCONFIGNOQUORUM, "NEWCONFIGNOQUORUM"},
    {Err::RECONFIGINPROGRESS, "RECONFIGINPROGRESS"},
    {Err::APIERROR, "APIERROR"},
    {Err::NONODE, "NONODE"},
    {Err::NOAUTH, "NOAUTH"},
    {Err::BADVERSION, "BADVERSION"},
    {Err::NOCHILDRENFOREPHEMERALS, "NOCHILDRENFOREPHEMERALS"},
    {Err::NODEEXISTS, "NODEEXISTS"},
    {Err::NOTEMPTY, "NOTEMPTY"},
    {Err::SESSIONEXPIRED, "SESSIONEXPIRED"},
    {Err::INVALIDCALLBACK, "INVALIDCALLBACK"},
    {Err::INVALIDACL, "INVALIDACL"},
    {Err::AUTHFAILED, "AUTHFAILED"},
    {Err::SESSIONMOVED, "SESSIONMOVED"},
    {Err::NOTREADONLY, "NOTREADONLY"},
    {Err::EPHEMERALONLOCALSESSION, "EPHEMERALONLOCALSESSION"},
    {Err::NOWATCHER, "NOWATCHER"},
    {Err::REQUESTTIMEOUT, "REQUESTTIMEOUT"},
    {Err::RECONFIGDISABLED, "RECONFIGDISABLED"},
    {Err::SESSIONCLOSEDREQUIRESASLAUTH, "SESSIONCLOSEDREQUIRESASLAUTH"},
    {Err::QUOTAEXCEEDED, "QUOTAEXCEEDED"},
    {Err::THROTTLEDOP, "THROTTLEDOP"},
};

}  // namespace

const char* err_name(Err err) {
  for (const ErrEntry& e : kErrTable) {
    if (e.err == err) return e.name;
  }
  return "UNKNOWN";
}

std::optional<Err> err_from_code(std::int32_t code) {
  for (const ErrEntry& e : kErrTable) {
    if (err_code(e.err) == code) return e.err;
  }
  return std::nullopt;
}

}  // namespace quorumlab::sm
