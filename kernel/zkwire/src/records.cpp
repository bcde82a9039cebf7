#include "quorumlab/zkwire/records.hpp"

#include <stdexcept>

namespace quorumlab::zkwire {

namespace {

// Smallest wire size of vector elements, for JuteReader::read_count.
constexpr std::size_t kStringMinBytes = 4;       // length
constexpr std::size_t kAclMinBytes = 4 + 4 + 4;  // perms, scheme length, id length
constexpr std::size_t kClientInfoMinBytes = 4 + 4;

// ------------------------------------------------------------------ shared pieces

void write_stat(JuteWriter& w, const sm::Stat& s) {
  w.write_long(s.czxid);
  w.write_long(s.mzxid);
  w.write_long(s.ctime);
  w.write_long(s.mtime);
  w.write_int(s.version);
  w.write_int(s.cversion);
  w.write_int(s.aversion);
  w.write_long(s.ephemeralOwner);
  w.write_int(s.dataLength);
  w.write_int(s.numChildren);
  w.write_long(s.pzxid);
}

sm::Stat read_stat(JuteReader& r) {
  sm::Stat s;
  s.czxid = r.read_long("stat.czxid");
  s.mzxid = r.read_long("stat.mzxid");
  s.ctime = r.read_long("stat.ctime");
  s.mtime = r.read_long("stat.mtime");
  s.version = r.read_int("stat.version");
  s.cversion = r.read_int("stat.cversion");
  s.aversion = r.read_int("stat.aversion");
  s.ephemeralOwner = r.read_long("stat.ephemeralOwner");
  s.dataLength = r.read_int("stat.dataLength");
  s.numChildren = r.read_int("stat.numChildren");
  s.pzxid = r.read_long("stat.pzxid");
  return s;
}

void write_acl(JuteWriter& w, const sm::AclList& acl) {
  w.write_int(static_cast<std::int32_t>(acl.size()));
  for (const auto& a : acl) {
    w.write_int(a.perms);
    w.write_string(a.id.scheme);
    w.write_string(a.id.id);
  }
}

sm::AclList read_acl(JuteReader& r) {
  const std::size_t n = r.read_count("acl", kAclMinBytes);
  sm::AclList acl;
  acl.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    sm::Acl a;
    a.perms = r.read_int("acl.perms");
    a.id.scheme = r.read_string("acl.id.scheme");
    a.id.id = r.read_string("acl.id.id");
    acl.push_back(std::move(a));
  }
  return acl;
}

void write_strings(JuteWriter& w, const std::vector<std::string>& v) {
  w.write_int(static_cast<std::int32_t>(v.size()));
  for (const auto& s : v)
    w.write_string(s);
}

std::vector<std::string> read_strings(JuteReader& r, const char* field) {
  const std::size_t n = r.read_count(field, kStringMinBytes);
  std::vector<std::string> v;
  v.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    v.push_back(r.read_string(field));
  return v;
}

void write_multi_header(JuteWriter& w, std::int32_t type, bool done, std::int32_t err) {
  w.write_int(type);
  w.write_bool(done);
  w.write_int(err);
}

bool is_multi_write_op(std::int32_t type) {
  switch (type) {
    case op::kCreate:
    case op::kCreate2:
    case op::kCreateContainer:
    case op::kCreateTtl:
    case op::kDelete:
    case op::kSetData:
    case op::kCheck:
      return true;
    default:
      return false;
  }
}

bool is_multi_read_op(std::int32_t type) {
  return type == op::kGetData || type == op::kGetChildren;
}

// ------------------------------------------------------------------ request bodies

void write_request_body(JuteWriter& w, const Request& r);

void read_multi_ops(JuteReader& in, Request* req) {
  // MultiOperationRecord: MultiHeader + op record, until a header with done = true. Every
  // header takes 9 bytes, so the loop is bounded by the frame size.
  while (true) {
    const std::int32_t type = in.read_int("multi.header.type");
    const bool done = in.read_bool("multi.header.done");
    in.read_int("multi.header.err");
    if (done) return;
    if (!is_multi_write_op(type) && !is_multi_read_op(type)) {
      throw JuteError("multi: op type " + std::to_string(type) + " cannot be inside a multi");
    }
    // ZooKeeper refuses a read inside a write multi while reading the record
    // (MultiOperationRecord: "Invalid type of op"), hence MARSHALLINGERROR.
    if (req->type == op::kMulti && !is_multi_write_op(type)) {
      throw JuteError("multi: read op " + std::to_string(type) + " inside a write multi");
    }
    Request sub;
    sub.type = type;
    decode_request_body(in, &sub);
    req->ops.push_back(std::move(sub));
  }
}

void write_request_body(JuteWriter& w, const Request& r) {
  switch (r.type) {
    case op::kCreate:
    case op::kCreate2:
    case op::kCreateContainer:
    case op::kCreateTtl:
      w.write_string(r.path);
      w.write_buffer(r.data, r.data_null);
      write_acl(w, r.acl);
      w.write_int(r.flags);
      if (r.type == op::kCreateTtl) w.write_long(r.ttl);
      return;
    case op::kDelete:
    case op::kCheck:
      w.write_string(r.path);
      w.write_int(r.version);
      return;
    case op::kExists:
    case op::kGetData:
    case op::kGetChildren:
    case op::kGetChildren2:
      w.write_string(r.path);
      w.write_bool(r.watch);
      return;
    case op::kSetData:
      w.write_string(r.path);
      w.write_buffer(r.data, r.data_null);
      w.write_int(r.version);
      return;
    case op::kSetAcl:
      w.write_string(r.path);
      write_acl(w, r.acl);
      w.write_int(r.version);
      return;
    case op::kGetAcl:
    case op::kSync:
    case op::kGetEphemerals:
    case op::kGetAllChildrenNumber:
      w.write_string(r.path);
      return;
    case op::kCheckWatches:
    case op::kRemoveWatches:
    case op::kAddWatch:
      w.write_string(r.path);
      w.write_int(r.mode);
      return;
    case op::kSetWatches:
    case op::kSetWatches2:
      w.write_long(r.set_watches.relative_zxid);
      write_strings(w, r.set_watches.data);
      write_strings(w, r.set_watches.exist);
      write_strings(w, r.set_watches.child);
      if (r.type == op::kSetWatches2) {
        write_strings(w, r.set_watches.persistent);
        write_strings(w, r.set_watches.persistent_recursive);
      }
      return;
    case op::kAuth:
      w.write_int(r.auth_type);
      w.write_string(r.scheme);
      w.write_buffer(r.data);
      return;
    case op::kSasl:
      w.write_buffer(r.data);
      return;
    case op::kReconfig:
      w.write_string(r.joining);
      w.write_string(r.leaving);
      w.write_string(r.new_members);
      w.write_long(r.ttl);
      return;
    case op::kMulti:
    case op::kMultiRead:
      for (const auto& sub : r.ops) {
        write_multi_header(w, sub.type, false, -1);
        write_request_body(w, sub);
      }
      write_multi_header(w, -1, true, -1);
      return;
    default:
      return;  // ping, closeSession, whoAmI and unknown types: header only
  }
}

// ------------------------------------------------------------------ reply bodies

void write_multi_results(JuteWriter& w, const std::vector<MultiResult>& results) {
  for (const auto& m : results) {
    write_multi_header(w, m.type, false, m.type == op::kError ? m.err : 0);
    switch (m.type) {
      case op::kCreate:
        w.write_string(m.path);
        break;
      case op::kCreate2:
        w.write_string(m.path);
        write_stat(w, m.stat);
        break;
      case op::kSetData:
        write_stat(w, m.stat);
        break;
      case op::kGetData:
        w.write_buffer(m.data, m.data_null);
        write_stat(w, m.stat);
        break;
      case op::kGetChildren:
        write_strings(w, m.children);
        break;
      case op::kError:
        w.write_int(m.err);
        break;
      default:
        break;  // delete, check: no body
    }
  }
  write_multi_header(w, -1, true, -1);
}

std::vector<MultiResult> read_multi_results(JuteReader& r) {
  std::vector<MultiResult> out;
  while (true) {
    MultiResult m;
    m.type = r.read_int("multi.header.type");
    const bool done = r.read_bool("multi.header.done");
    m.err = r.read_int("multi.header.err");
    if (done) return out;
    switch (m.type) {
      case op::kCreate:
        m.path = r.read_string("multi.create.path");
        break;
      case op::kCreate2:
        m.path = r.read_string("multi.create2.path");
        m.stat = read_stat(r);
        break;
      case op::kSetData:
        m.stat = read_stat(r);
        break;
      case op::kGetData:
        m.data = r.read_buffer("multi.getData.data", &m.data_null);
        m.stat = read_stat(r);
        break;
      case op::kGetChildren:
        m.children = read_strings(r, "multi.getChildren.children");
        break;
      case op::kError:
        m.err = r.read_int("multi.error.err");
        break;
      case op::kDelete:
      case op::kCheck:
        break;
      default:
        throw JuteError("multi result of unknown type " + std::to_string(m.type));
    }
    out.push_back(std::move(m));
  }
}

void write_reply_body(JuteWriter& w, const Reply& r) {
  switch (r.type) {
    case op::kCreate:
    case op::kSync:
      w.write_string(r.path);
      return;
    case op::kCreate2:
    case op::kCreateContainer:
    case op::kCreateTtl:
      w.write_string(r.path);
      write_stat(w, r.stat);
      return;
    case op::kExists:
    case op::kSetData:
    case op::kSetAcl:
    case op::kCheck:
      write_stat(w, r.stat);
      return;
    case op::kGetData:
    case op::kReconfig:
      w.write_buffer(r.data, r.data_null);
      write_stat(w, r.stat);
      return;
    case op::kGetAcl:
      write_acl(w, r.acl);
      write_stat(w, r.stat);
      return;
    case op::kGetChildren:
    case op::kGetEphemerals:
      write_strings(w, r.strings);
      return;
    case op::kGetChildren2:
      write_strings(w, r.strings);
      write_stat(w, r.stat);
      return;
    case op::kMulti:
    case op::kMultiRead:
      write_multi_results(w, r.results);
      return;
    case op::kGetAllChildrenNumber:
    case op::kAddWatch:
      w.write_int(r.number);
      return;
    case op::kWhoAmI:
      w.write_int(static_cast<std::int32_t>(r.client_info.size()));
      for (const auto& c : r.client_info) {
        w.write_string(c.auth_scheme);
        w.write_string(c.user);
      }
      return;
    case op::kSasl:
      w.write_buffer(r.data);
      return;
    default:
      return;  // delete, ping, auth, setWatches, check/removeWatches, closeSession
  }
}

void read_reply_body(JuteReader& in, Reply* r) {
  switch (r->type) {
    case op::kCreate:
    case op::kSync:
      r->path = in.read_string("path");
      return;
    case op::kCreate2:
    case op::kCreateContainer:
    case op::kCreateTtl:
      r->path = in.read_string("path");
      r->stat = read_stat(in);
      return;
    case op::kExists:
    case op::kSetData:
    case op::kSetAcl:
    case op::kCheck:
      r->stat = read_stat(in);
      return;
    case op::kGetData:
    case op::kReconfig:
      r->data = in.read_buffer("data", &r->data_null);
      r->stat = read_stat(in);
      return;
    case op::kGetAcl:
      r->acl = read_acl(in);
      r->stat = read_stat(in);
      return;
    case op::kGetChildren:
    case op::kGetEphemerals:
      r->strings = read_strings(in, "strings");
      return;
    case op::kGetChildren2:
      r->strings = read_strings(in, "children");
      r->stat = read_stat(in);
      return;
    case op::kMulti:
    case op::kMultiRead:
      r->results = read_multi_results(in);
      return;
    case op::kGetAllChildrenNumber:
    case op::kAddWatch:
      r->number = in.read_int("number");
      return;
    case op::kWhoAmI: {
      const std::size_t n = in.read_count("clientInfo", kClientInfoMinBytes);
      r->client_info.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        ClientInfo c;
        c.auth_scheme = in.read_string("clientInfo.authScheme");
        c.user = in.read_string("clientInfo.user");
        r->client_info.push_back(std::move(c));
      }
      return;
    }
    case op::kSasl:
      r->data = in.read_buffer("token");
      return;
    default:
      return;
  }
}

}  // namespace

const char* op_name(std::int32_t type) {
  switch (type) {
    case op::kNotification:
      return "notification";
    case op::kCreate:
      return "create";
    case op::kDelete:
      return "delete";
    case op::kExists:
      return "exists";
    case op::kGetData:
      return "getData";
    case op::kSetData:
      return "setData";
    case op::kGetAcl:
      return "getACL";
    case op::kSetAcl:
      return "setACL";
    case op::kGetChildren:
      return "getChildren";
    case op::kSync:
      return "sync";
    case op::kPing:
      return "ping";
    case op::kGetChildren2:
      return "getChildren2";
    case op::kCheck:
      return "check";
    case op::kMulti:
      return "multi";
    case op::kCreate2:
      return "create2";
    case op::kReconfig:
      return "reconfig";
    case op::kCheckWatches:
      return "checkWatches";
    case op::kRemoveWatches:
      return "removeWatches";
    case op::kCreateContainer:
      return "createContainer";
    case op::kDeleteContainer:
      return "deleteContainer";
    case op::kCreateTtl:
      return "createTTL";
    case op::kMultiRead:
      return "multiRead";
    case op::kAuth:
      return "auth";
    case op::kSetWatches:
      return "setWatches";
    case op::kSasl:
      return "sasl";
    case op::kGetEphemerals:
      return "getEphemerals";
    case op::kGetAllChildrenNumber:
      return "getAllChildrenNumber";
    case op::kSetWatches2:
      return "setWatches2";
    case op::kAddWatch:
      return "addWatch";
    case op::kWhoAmI:
      return "whoAmI";
    case op::kCreateSession:
      return "createSession";
    case op::kCloseSession:
      return "closeSession";
    case op::kError:
      return "error";
    default:
      return "unknown";
  }
}

ConnectRequest decode_connect_request(const std::uint8_t* data, std::size_t size,
                                      std::size_t max_length) {
  JuteReader in(data, size, max_length);
  ConnectRequest r;
  r.protocol_version = in.read_int("connect.protocolVersion");
  r.last_zxid_seen = in.read_long("connect.lastZxidSeen");
  r.timeout_ms = in.read_int("connect.timeOut");
  r.session_id = in.read_long("connect.sessionId");
  r.passwd = in.read_buffer("connect.passwd");
  // Clients of 3.3 and older stop here; newer ones add readOnly (ProtocolManager, §2.3).
  if (!in.at_end()) r.read_only = in.read_bool("connect.readOnly");
  return r;
}

void encode_connect_response(const ConnectResponse& r, Bytes* out) {
  JuteWriter w(out);
  const std::size_t frame = w.begin_frame();
  w.write_int(r.protocol_version);
  w.write_int(r.timeout_ms);
  w.write_long(r.session_id);
  w.write_buffer(r.passwd);
  if (r.read_only) w.write_bool(*r.read_only);
  w.end_frame(frame);
}

void decode_request_header(JuteReader& in, Request* req) {
  req->xid = in.read_int("header.xid");
  req->type = in.read_int("header.type");
}

bool known_request_type(std::int32_t type) {
  switch (type) {
    case op::kCreate:
    case op::kDelete:
    case op::kExists:
    case op::kGetData:
    case op::kSetData:
    case op::kGetAcl:
    case op::kSetAcl:
    case op::kGetChildren:
    case op::kSync:
    case op::kPing:
    case op::kGetChildren2:
    case op::kCheck:
    case op::kMulti:
    case op::kCreate2:
    case op::kReconfig:
    case op::kCheckWatches:
    case op::kRemoveWatches:
    case op::kCreateContainer:
    case op::kCreateTtl:
    case op::kMultiRead:
    case op::kAuth:
    case op::kSetWatches:
    case op::kSasl:
    case op::kGetEphemerals:
    case op::kGetAllChildrenNumber:
    case op::kSetWatches2:
    case op::kAddWatch:
    case op::kWhoAmI:
    case op::kCloseSession:
      return true;
    default:
      return false;
  }
}

void decode_request_body(JuteReader& in, Request* req) {
  Request& r = *req;
  switch (r.type) {
    case op::kCreate:
    case op::kCreate2:
    case op::kCreateContainer:
    case op::kCreateTtl:
      r.path = in.read_string("create.path", &r.path_null);
      r.data = in.read_buffer("create.data", &r.data_null);
      r.acl = read_acl(in);
      r.flags = in.read_int("create.flags");
      if (r.type == op::kCreateTtl) r.ttl = in.read_long("createTTL.ttl");
      return;
    case op::kDelete:
    case op::kCheck:
      r.path = in.read_string("path", &r.path_null);
      r.version = in.read_int("version");
      return;
    case op::kExists:
    case op::kGetData:
    case op::kGetChildren:
    case op::kGetChildren2:
      r.path = in.read_string("path", &r.path_null);
      r.watch = in.read_bool("watch");
      return;
    case op::kSetData:
      r.path = in.read_string("setData.path", &r.path_null);
      r.data = in.read_buffer("setData.data", &r.data_null);
      r.version = in.read_int("setData.version");
      return;
    case op::kSetAcl:
      r.path = in.read_string("setACL.path", &r.path_null);
      r.acl = read_acl(in);
      r.version = in.read_int("setACL.version");
      return;
    case op::kGetAcl:
    case op::kSync:
    case op::kGetEphemerals:
    case op::kGetAllChildrenNumber:
      r.path = in.read_string("path", &r.path_null);
      return;
    case op::kCheckWatches:
    case op::kRemoveWatches:
    case op::kAddWatch:
      r.path = in.read_string("path", &r.path_null);
      r.mode = in.read_int("type");
      return;
    case op::kSetWatches:
    case op::kSetWatches2:
      r.set_watches.relative_zxid = in.read_long("setWatches.relativeZxid");
      r.set_watches.data = read_strings(in, "setWatches.dataWatches");
      r.set_watches.exist = read_strings(in, "setWatches.existWatches");
      r.set_watches.child = read_strings(in, "setWatches.childWatches");
      if (r.type == op::kSetWatches2) {
        r.set_watches.persistent = read_strings(in, "setWatches2.persistentWatches");
        r.set_watches.persistent_recursive =
            read_strings(in, "setWatches2.persistentRecursiveWatches");
      }
      return;
    case op::kAuth:
      r.auth_type = in.read_int("auth.type");
      r.scheme = in.read_string("auth.scheme");
      r.data = in.read_buffer("auth.auth");
      return;
    case op::kSasl:
      r.data = in.read_buffer("sasl.token");
      return;
    case op::kReconfig:
      r.joining = in.read_string("reconfig.joiningServers");
      r.leaving = in.read_string("reconfig.leavingServers");
      r.new_members = in.read_string("reconfig.newMembers");
      r.ttl = in.read_long("reconfig.curConfigId");
      return;
    case op::kMulti:
    case op::kMultiRead:
      read_multi_ops(in, req);
      return;
    case op::kPing:
    case op::kWhoAmI:
    case op::kCloseSession:
      return;
    default:
      throw std::invalid_argument("no request record for op type " + std::to_string(r.type));
  }
}

void encode_reply(const Reply& r, Bytes* out) {
  JuteWriter w(out);
  const std::size_t frame = w.begin_frame();
  w.write_int(r.xid);
  w.write_long(r.zxid);
  w.write_int(r.err);
  if (r.xid == xid::kNotification) {
    w.write_int(r.event_type);
    w.write_int(r.event_state);
    w.write_string(r.path);
  } else if (r.err == 0) {
    write_reply_body(w, r);
  }
  w.end_frame(frame);
}

void encode_connect_request(const ConnectRequest& r, Bytes* out) {
  JuteWriter w(out);
  const std::size_t frame = w.begin_frame();
  w.write_int(r.protocol_version);
  w.write_long(r.last_zxid_seen);
  w.write_int(r.timeout_ms);
  w.write_long(r.session_id);
  w.write_buffer(r.passwd);
  if (r.read_only) w.write_bool(*r.read_only);
  w.end_frame(frame);
}

ConnectResponse decode_connect_response(const std::uint8_t* data, std::size_t size) {
  JuteReader in(data, size);
  ConnectResponse r;
  r.protocol_version = in.read_int("connect.protocolVersion");
  r.timeout_ms = in.read_int("connect.timeOut");
  r.session_id = in.read_long("connect.sessionId");
  r.passwd = in.read_buffer("connect.passwd");
  if (!in.at_end()) r.read_only = in.read_bool("connect.readOnly");
  return r;
}

void encode_request(const Request& r, Bytes* out) {
  JuteWriter w(out);
  const std::size_t frame = w.begin_frame();
  w.write_int(r.xid);
  w.write_int(r.type);
  write_request_body(w, r);
  w.end_frame(frame);
}

Reply decode_reply(const std::uint8_t* data, std::size_t size, std::int32_t type) {
  JuteReader in(data, size);
  Reply r;
  r.xid = in.read_int("reply.xid");
  r.zxid = in.read_long("reply.zxid");
  r.err = in.read_int("reply.err");
  if (r.xid == xid::kNotification) {
    r.type = op::kNotification;
    r.event_type = in.read_int("event.type");
    r.event_state = in.read_int("event.state");
    r.path = in.read_string("event.path");
    return r;
  }
  if (r.xid == xid::kPing || r.xid == xid::kAuth || r.xid == xid::kSetWatches) {
    r.type = r.xid == xid::kPing ? op::kPing : r.xid == xid::kAuth ? op::kAuth : op::kSetWatches;
    return r;
  }
  r.type = type;
  if (r.err == 0) read_reply_body(in, &r);
  return r;
}

}  // namespace quorumlab::zkwire
