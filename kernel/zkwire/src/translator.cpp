#include "quorumlab/zkwire/translator.hpp"

#include <capnp/message.h>
#include <kj/exception.h>

#include <limits>
#include <stdexcept>

#include "quorumlab/node/capnp_util.hpp"
#include "quorumlab/proto/client.capnp.h"
#include "quorumlab/sm/err.hpp"
#include "quorumlab/zk_types.hpp"

namespace quorumlab::zkwire {

namespace {

using sm::Err;
using sm::err_code;

/// Traversal limit for the node's messages: generous, they come from our own node.
constexpr std::uint64_t kServerTraversalWords = 64 * 1024 * 1024;
/// CreateMode values with a meaning for createContainer / createTTL (§1.2).
constexpr std::int32_t kModeContainer = 4;
constexpr std::int32_t kModeTtl = 5;
constexpr std::int32_t kModeTtlSequential = 6;

kj::ArrayPtr<const kj::byte> bytes_of(const Bytes& b) {
  return kj::arrayPtr(b.data(), b.size());
}
std::string text(capnp::Text::Reader t) {
  return std::string(t.cStr(), t.size());
}
/// A path or name as capnp Text with its full length: a NUL inside stays (std::string's
/// implicit conversion would cut the text at the first NUL).
capnp::Text::Reader text_of(const std::string& s) {
  return capnp::Text::Reader(s.data(), s.size());
}

void fill_acl(capnp::List<proto::Acl>::Builder b, const sm::AclList& acl) {
  for (unsigned i = 0; i < acl.size(); ++i) {
    b[i].setPerms(acl[i].perms);
    auto id = b[i].initId();
    id.setScheme(acl[i].id.scheme);
    id.setId(acl[i].id.id);
  }
}

void fill_create(proto::CreateOp::Builder c, const Request& r, std::int32_t mode) {
  c.setPath(text_of(r.path));
  c.setData(bytes_of(r.data));
  c.setDataNull(r.data_null);
  fill_acl(c.initAcl(static_cast<unsigned>(r.acl.size())), r.acl);
  c.setMode(mode);
  c.setTtlMs(r.type == op::kCreateTtl ? r.ttl : -1);
}

void fill_strings(capnp::List<capnp::Text>::Builder b, const std::vector<std::string>& v) {
  for (unsigned i = 0; i < v.size(); ++i)
    b.set(i, text_of(v[i]));
}

/// The CreateMode the tree gets for a create, or the error ZooKeeper 3.8 answers at once:
/// - createTTL needs a TTL mode (BADARGUMENTS otherwise; PrepRequestProcessor).
/// - Outside a multi the opcode decides. createContainer makes a container whatever its flags
///   (CreateContainerTxn): flags 0, 1 and 4 a container, 2 and 3 a sequential one, invalid
///   flags BADARGUMENTS, and the TTL flags reach the tree, which refuses them (ttl -1).
///   create and create2 with the container flag make a plain persistent node (CreateTxn).
/// - Inside a multi the flags decide: ZooKeeper rebuilds every create with Op.create(flags),
///   so flag 4 is a container whatever the opcode, and createContainer with other flags an
///   ordinary create with those flags.
Err create_mode(const Request& r, bool in_multi, std::int32_t* mode) {
  const bool ttl = r.flags == kModeTtl || r.flags == kModeTtlSequential;
  *mode = r.flags;
  if (r.type == op::kCreateTtl) return ttl ? Err::OK : Err::BADARGUMENTS;
  if (in_multi) return Err::OK;
  if (r.type == op::kCreateContainer) {
    if (!is_valid_create_mode(r.flags)) return Err::BADARGUMENTS;
    if (ttl) return Err::OK;
    *mode = is_sequential(static_cast<CreateMode>(r.flags))
                ? static_cast<std::int32_t>(CreateMode::kContainerSequential)
                : kModeContainer;
    return Err::OK;
  }
  if (r.flags == kModeContainer) *mode = static_cast<std::int32_t>(CreateMode::kPersistent);
  return Err::OK;
}

/// The result type of a successful create inside a multi: ZooKeeper's Op.create(flags) makes
/// a createContainer op for the container flag (a create2-shaped result: path and Stat) and a
/// create op otherwise (path only), whatever opcode the client sent; createTTL stays createTTL
/// (create2-shaped).
std::int32_t multi_create_result_type(const Request& sub) {
  if (sub.type == op::kCreateTtl || sub.flags == kModeContainer) return op::kCreate2;
  return op::kCreate;
}

/// Fills one sub-op of a multi or multiRead; false (and `*err`) for a create whose opcode and
/// mode disagree.
bool fill_multi_op(proto::MultiOp::Builder b, const Request& sub, Err* err) {
  switch (sub.type) {
    case op::kCreate:
    case op::kCreate2:
    case op::kCreateContainer:
    case op::kCreateTtl: {
      std::int32_t mode = 0;
      if ((*err = create_mode(sub, true, &mode)) != Err::OK) return false;
      fill_create(b.initCreate(), sub, mode);
      return true;
    }
    case op::kDelete: {
      auto d = b.initDelete();
      d.setPath(text_of(sub.path));
      d.setVersion(sub.version);
      return true;
    }
    case op::kCheck: {
      auto c = b.initCheck();
      c.setPath(text_of(sub.path));
      c.setVersion(sub.version);
      return true;
    }
    case op::kSetData: {
      auto s = b.initSetData();
      s.setPath(text_of(sub.path));
      s.setData(bytes_of(sub.data));
      s.setDataNull(sub.data_null);
      s.setVersion(sub.version);
      return true;
    }
    case op::kGetData:
      b.setGetData(text_of(sub.path));
      return true;
    case op::kGetChildren:
      b.setGetChildren(text_of(sub.path));
      return true;
    default:
      *err = Err::BADARGUMENTS;
      return false;  // decode_request_body admits no others
  }
}

/// ZooKeeper's answer to a request whose path is a null string (length -1), for the requests
/// that look a path up; OK for the others (sync, addWatch, getEphemerals, ...: passed on).
/// The server fails on the null while reading or checking the request: MARSHALLINGERROR,
/// except for setData and setACL, whose path check answers BADARGUMENTS.
Err null_path_error(const Request& r) {
  if (!r.path_null) return Err::OK;
  switch (r.type) {
    case op::kSetData:
    case op::kSetAcl:
      return Err::BADARGUMENTS;
    case op::kCreate:
    case op::kCreate2:
    case op::kCreateContainer:
    case op::kCreateTtl:
    case op::kDelete:
    case op::kExists:
    case op::kGetData:
    case op::kGetChildren:
    case op::kGetChildren2:
    case op::kGetAcl:
    case op::kGetAllChildrenNumber:
    case op::kCheckWatches:
    case op::kRemoveWatches:
      return Err::MARSHALLINGERROR;
    default:
      return Err::OK;
  }
}

/// Builds the native request for `r` into `q`. Returns OK, or the error to answer locally.
Err fill_native_request(proto::Request::Builder q, const Request& r) {
  if (Err e = null_path_error(r); e != Err::OK) return e;
  auto o = q.initOp();
  switch (r.type) {
    case op::kCreate:
    case op::kCreate2:
    case op::kCreateContainer:
    case op::kCreateTtl: {
      std::int32_t mode = 0;
      Err e = create_mode(r, false, &mode);
      if (e != Err::OK) return e;
      fill_create(o.initCreate(), r, mode);
      return Err::OK;
    }
    case op::kDelete: {
      auto d = o.initDelete();
      d.setPath(text_of(r.path));
      d.setVersion(r.version);
      return Err::OK;
    }
    case op::kCheck: {
      auto c = o.initCheck();
      c.setPath(text_of(r.path));
      c.setVersion(r.version);
      return Err::OK;
    }
    case op::kExists:
    case op::kGetData:
    case op::kGetChildren:
    case op::kGetChildren2: {
      auto w = r.type == op::kExists    ? o.initExists()
               : r.type == op::kGetData ? o.initGetData()
                                        : o.initGetChildren();
      w.setPath(text_of(r.path));
      w.setWatch(r.watch);
      return Err::OK;
    }
    case op::kSetData: {
      auto s = o.initSetData();
      s.setPath(text_of(r.path));
      s.setData(bytes_of(r.data));
      s.setDataNull(r.data_null);
      s.setVersion(r.version);
      return Err::OK;
    }
    case op::kGetAcl:
      o.setGetAcl(text_of(r.path));
      return Err::OK;
    case op::kSetAcl: {
      auto s = o.initSetAcl();
      s.setPath(text_of(r.path));
      fill_acl(s.initAcl(static_cast<unsigned>(r.acl.size())), r.acl);
      s.setVersion(r.version);
      return Err::OK;
    }
    case op::kSync:
      o.setSync(text_of(r.path));
      return Err::OK;
    case op::kMulti:
    case op::kMultiRead: {
      auto list = r.type == op::kMulti ? o.initMulti(static_cast<unsigned>(r.ops.size()))
                                       : o.initMultiRead(static_cast<unsigned>(r.ops.size()));
      for (unsigned i = 0; i < r.ops.size(); ++i) {
        Err e = Err::OK;
        if (!fill_multi_op(list[i], r.ops[i], &e)) return e;
      }
      return Err::OK;
    }
    case op::kCheckWatches:
    case op::kRemoveWatches: {
      auto w = r.type == op::kCheckWatches ? o.initCheckWatches() : o.initRemoveWatches();
      w.setPath(text_of(r.path));
      w.setType(r.mode);
      return Err::OK;
    }
    case op::kAddWatch: {
      // AddWatchMode.fromZooKeeperMode throws for an unknown mode: MARSHALLINGERROR.
      if (r.mode != 0 && r.mode != 1) return Err::MARSHALLINGERROR;
      auto w = o.initAddWatch();
      w.setPath(text_of(r.path));
      w.setMode(r.mode);
      return Err::OK;
    }
    case op::kSetWatches:
    case op::kSetWatches2: {
      const auto& s = r.set_watches;
      auto w = o.initSetWatches();
      w.setRelativeZxid(s.relative_zxid);
      fill_strings(w.initData(static_cast<unsigned>(s.data.size())), s.data);
      fill_strings(w.initExist(static_cast<unsigned>(s.exist.size())), s.exist);
      fill_strings(w.initChild(static_cast<unsigned>(s.child.size())), s.child);
      fill_strings(w.initPersistent(static_cast<unsigned>(s.persistent.size())), s.persistent);
      fill_strings(w.initPersistentRecursive(static_cast<unsigned>(s.persistent_recursive.size())),
                   s.persistent_recursive);
      return Err::OK;
    }
    case op::kGetEphemerals:
      o.setGetEphemerals(text_of(r.path));
      return Err::OK;
    case op::kGetAllChildrenNumber:
      o.setGetAllChildrenNumber(text_of(r.path));
      return Err::OK;
    case op::kAuth: {
      auto a = o.initAddAuth();
      a.setScheme(r.scheme);
      a.setAuth(bytes_of(r.data));
      return Err::OK;
    }
    case op::kWhoAmI:
      o.setWhoAmI();
      return Err::OK;
    case op::kCloseSession:
      o.setCloseSession();
      return Err::OK;
    case op::kReconfig:
      return Err::RECONFIGDISABLED;  // reconfigEnabled=false (§1.16)
    default:
      return Err::UNIMPLEMENTED;  // sasl, deleteContainer, ...
  }
}

sm::Stat stat_of(proto::Stat::Reader s) {
  sm::Stat out;
  out.czxid = s.getCzxid();
  out.mzxid = s.getMzxid();
  out.ctime = s.getCtime();
  out.mtime = s.getMtime();
  out.version = s.getVersion();
  out.cversion = s.getCversion();
  out.aversion = s.getAversion();
  out.ephemeralOwner = s.getEphemeralOwner();
  out.dataLength = s.getDataLength();
  out.numChildren = s.getNumChildren();
  out.pzxid = s.getPzxid();
  return out;
}

std::vector<std::string> strings_of(capnp::List<capnp::Text>::Reader l) {
  std::vector<std::string> v;
  v.reserve(l.size());
  for (auto t : l)
    v.push_back(text(t));
  return v;
}

Bytes data_of(capnp::Data::Reader d) {
  return Bytes(d.begin(), d.end());
}

std::vector<MultiResult> multi_results(capnp::List<proto::OpResult>::Reader list,
                                       const std::vector<std::int32_t>& sub_types, bool read) {
  std::vector<MultiResult> out;
  out.reserve(list.size());
  bool failed = false;  // a failed write multi reports every op as an ErrorResult (§1.13)
  if (!read) {
    for (auto r : list)
      failed = failed || r.getErr() != 0;
  }
  for (unsigned i = 0; i < list.size(); ++i) {
    auto r = list[i];
    MultiResult m;
    const std::int32_t req_type = i < sub_types.size() ? sub_types[i] : op::kError;
    if (failed || r.getErr() != 0 || req_type == op::kError) {
      m.type = op::kError;
      m.err = r.getErr();
      out.push_back(std::move(m));
      continue;
    }
    m.type = req_type;
    auto body = r.getBody();
    switch (body.which()) {
      case proto::OpResult::Body::CREATED:
        m.path = text(body.getCreated().getPath());
        m.stat = stat_of(body.getCreated().getStat());
        break;
      case proto::OpResult::Body::STAT:
        m.stat = stat_of(body.getStat());
        break;
      case proto::OpResult::Body::DATA:
        m.data = data_of(body.getData().getData());
        m.data_null = body.getData().getDataNull();
        m.stat = stat_of(body.getData().getStat());
        break;
      case proto::OpResult::Body::CHILDREN:
        m.children = strings_of(body.getChildren().getChildren());
        break;
      default:
        break;
    }
    out.push_back(std::move(m));
  }
  return out;
}

/// Fills the body of `reply` (type set) from a native Response.
void fill_reply_body(Reply* reply, proto::Response::Reader r,
                     const std::vector<std::int32_t>& sub_types) {
  auto body = r.getBody();
  switch (reply->type) {
    case op::kCreate:
    case op::kCreate2:
    case op::kCreateContainer:
    case op::kCreateTtl:
      if (body.isCreated()) {
        reply->path = text(body.getCreated().getPath());
        reply->stat = stat_of(body.getCreated().getStat());
      }
      return;
    case op::kExists:
    case op::kSetData:
    case op::kSetAcl:
    case op::kCheck:
      if (body.isStat()) reply->stat = stat_of(body.getStat());
      return;
    case op::kGetData:
      if (body.isData()) {
        reply->data = data_of(body.getData().getData());
        reply->data_null = body.getData().getDataNull();
        reply->stat = stat_of(body.getData().getStat());
      }
      return;
    case op::kGetAcl:
      if (body.isAcl()) {
        for (auto a : body.getAcl().getAcl()) {
          reply->acl.push_back(
              {a.getPerms(), {text(a.getId().getScheme()), text(a.getId().getId())}});
        }
        reply->stat = stat_of(body.getAcl().getStat());
      }
      return;
    case op::kGetChildren:
    case op::kGetChildren2:
      if (body.isChildren()) {
        reply->strings = strings_of(body.getChildren().getChildren());
        reply->stat = stat_of(body.getChildren().getStat());
      }
      return;
    case op::kSync:
      if (body.isPath()) reply->path = text(body.getPath());
      return;
    case op::kMulti:
    case op::kMultiRead:
      if (body.isMulti()) {
        reply->results = multi_results(body.getMulti(), sub_types, reply->type == op::kMultiRead);
      }
      return;
    case op::kGetEphemerals:
      if (body.isEphemerals()) reply->strings = strings_of(body.getEphemerals());
      return;
    case op::kGetAllChildrenNumber:
      if (body.isCount()) {
        const std::int64_t n = body.getCount();
        reply->number = n > std::numeric_limits<std::int32_t>::max()
                            ? std::numeric_limits<std::int32_t>::max()
                            : static_cast<std::int32_t>(n);
      }
      return;
    case op::kAddWatch:
      reply->number = 0;
      return;  // ErrorResponse{0} (§1.1)
    case op::kWhoAmI:
      if (body.isWhoAmI()) {
        for (auto id : body.getWhoAmI()) {
          reply->client_info.push_back({text(id.getScheme()), text(id.getId())});
        }
      }
      return;
    default:
      return;
  }
}

}  // namespace

void Translator::close(Effects* out, std::string reason) {
  stage_ = Stage::kClosed;
  out->close = true;
  if (out->reason.empty()) out->reason = std::move(reason);
}

std::int32_t Translator::next_native_xid() {
  native_xid_ = native_xid_ == std::numeric_limits<std::int32_t>::max() ? 1 : native_xid_ + 1;
  return native_xid_;
}

void Translator::on_client_frame(const std::uint8_t* data, std::size_t size, std::int64_t now_us,
                                 Effects* out) {
  switch (stage_) {
    case Stage::kAwaitConnect:
      return handle_connect(data, size, out);
    case Stage::kSession:
      return handle_request(data, size, now_us, out);
    case Stage::kConnecting:
      return close(out, "a request frame arrived before the session was established");
    case Stage::kClosed:
      return;
  }
}

void Translator::handle_connect(const std::uint8_t* data, std::size_t size, Effects* out) {
  ConnectRequest c;
  try {
    c = decode_connect_request(data, size, limits_.max_frame_bytes);
  } catch (const JuteError& e) {
    return close(out, std::string("malformed ConnectRequest: ") + e.what());
  }
  ++stats_.packets_received;
  client_sent_read_only_ = c.read_only.has_value();
  capnp::MallocMessageBuilder msg;
  auto n = msg.initRoot<proto::ClientMessage>().initConnect();
  n.setProtocolVersion(1);
  n.setLastZxidSeen(c.last_zxid_seen);
  n.setTimeoutMs(c.timeout_ms);
  n.setSessionId(c.session_id);
  n.setPasswd(bytes_of(c.passwd));
  n.setReadOnly(c.read_only.value_or(false));
  out->to_node.push_back(to_bytes(msg));
  stage_ = Stage::kConnecting;
}

void Translator::handle_request(const std::uint8_t* data, std::size_t size, std::int64_t now_us,
                                Effects* out) {
  JuteReader in(data, size, limits_.max_frame_bytes);
  Request req;
  try {
    decode_request_header(in, &req);
  } catch (const JuteError& e) {
    return close(out, std::string("frame shorter than a RequestHeader: ") + e.what());
  }
  ++stats_.packets_received;
  stats_.last_op = op_name(req.type);
  if (req.type == op::kPing) {  // answered by the node at once, outside the FIFO (§2.4)
    capnp::MallocMessageBuilder msg;
    auto q = msg.initRoot<proto::ClientMessage>().initRequest();
    q.setXid(xid::kPing);
    q.initOp().setPing();
    out->to_node.push_back(to_bytes(msg));
    return;
  }
  if (fifo_.size() >= limits_.max_pending) {
    return close(out, "more than " + std::to_string(limits_.max_pending) + " requests in flight");
  }
  stats_.last_cxid = req.xid;
  if (req.type == op::kDeleteContainer) {  // a known opcode ZooKeeper keeps to itself
    return answer_locally(req, err_code(Err::UNIMPLEMENTED), now_us, out);
  }
  if (!known_request_type(req.type)) {
    // ZooKeeper: UNIMPLEMENTED with header zxid -1, then the connection is closed.
    draining_ = true;
    return answer_locally(req, err_code(Err::UNIMPLEMENTED), now_us, out, -1, true);
  }
  try {
    decode_request_body(in, &req);
  } catch (const JuteError&) {
    // ZooKeeper answers a request it cannot parse with MARSHALLINGERROR (§1.10).
    return answer_locally(req, err_code(Err::MARSHALLINGERROR), now_us, out);
  }
  // The native request is about as large as the jute one: one right-sized segment instead of
  // capnp's zeroed 8 KiB default.
  capnp::MallocMessageBuilder msg(static_cast<unsigned>(size / sizeof(capnp::word) + 64));
  auto q = msg.initRoot<proto::ClientMessage>().initRequest();
  const Err local = fill_native_request(q, req);
  if (local != Err::OK) return answer_locally(req, err_code(local), now_us, out);
  Pending p;
  p.jute_xid = req.xid;
  p.native_xid = next_native_xid();
  p.type = req.type;
  p.start_us = now_us;
  for (const auto& sub : req.ops) {
    const bool create = sub.type == op::kCreate || sub.type == op::kCreate2 ||
                        sub.type == op::kCreateContainer || sub.type == op::kCreateTtl;
    p.sub_types.push_back(create ? multi_create_result_type(sub) : sub.type);
  }
  q.setXid(p.native_xid);
  fifo_.push_back(std::move(p));
  out->to_node.push_back(to_bytes(msg));
}

void Translator::answer_locally(const Request& req, std::int32_t err, std::int64_t now_us,
                                Effects* out, std::int64_t zxid, bool close_after) {
  Pending p;
  p.jute_xid = req.xid;
  p.type = req.type;
  p.local_err = err;
  p.local_zxid = zxid;
  p.close_after = close_after;
  p.start_us = now_us;
  fifo_.push_back(std::move(p));
  flush_local(now_us, out);
}

void Translator::flush_local(std::int64_t now_us, Effects* out) {
  while (!fifo_.empty() && fifo_.front().native_xid == 0) {
    const Pending& p = fifo_.front();
    Reply r;
    r.xid = p.jute_xid;
    r.zxid = p.local_zxid != 0 ? p.local_zxid : stats_.last_zxid;
    r.err = p.local_err;
    r.type = p.type;
    emit(r, out);
    finish(p, stats_.last_zxid, now_us);
    const bool close_after = p.close_after;
    fifo_.pop_front();
    if (close_after) {
      fifo_.clear();
      return close(out, "unknown opcode " + std::to_string(r.type));
    }
  }
}

void Translator::emit(const Reply& reply, Effects* out) {
  encode_reply(reply, &out->to_client);
  ++stats_.packets_sent;
}

void Translator::finish(const Pending& p, std::int64_t zxid, std::int64_t now_us) {
  const std::int64_t lat = now_us - p.start_us;
  stats_.last_latency_us = lat;
  if (stats_.min_latency_us < 0 || lat < stats_.min_latency_us) stats_.min_latency_us = lat;
  if (lat > stats_.max_latency_us) stats_.max_latency_us = lat;
  stats_.sum_latency_us += lat;
  ++stats_.replies;
  if (zxid > 0) stats_.last_zxid = zxid;
}

void Translator::on_server_message(const std::uint8_t* data, std::size_t size, std::int64_t now_us,
                                   Effects* out) {
  if (stage_ == Stage::kClosed) return;
  try {
    CapnpView reader(data, size, kServerTraversalWords);
    auto msg = reader.root<proto::ServerMessage>();
    switch (msg.which()) {
      case proto::ServerMessage::CONNECT_RESPONSE: {
        if (stage_ != Stage::kConnecting) return close(out, "unexpected ConnectResponse");
        auto c = msg.getConnectResponse();
        ConnectResponse r;
        if (client_sent_read_only_) r.read_only = c.getReadOnly();  // a read-only session
        if (c.getErr() == err_code(Err::OK)) {
          r.timeout_ms = c.getTimeoutMs();
          r.session_id = c.getSessionId();
          r.passwd = data_of(c.getPasswd());
          session_id_ = r.session_id;
          timeout_ms_ = r.timeout_ms;
          if (c.getLastZxid() > 0) stats_.last_zxid = c.getLastZxid();
          encode_connect_response(r, &out->to_client);
          ++stats_.packets_sent;
          stage_ = Stage::kSession;
          return;
        }
        if (c.getErr() == err_code(Err::SESSIONEXPIRED)) {
          // §2.3: timeOut 0, sessionId 0, 16 zero bytes; the client reports Expired.
          encode_connect_response(r, &out->to_client);
          ++stats_.packets_sent;
          return close(out, "session expired: " + text(c.getMessage()));
        }
        // Refused (the client has seen a newer zxid, ...): close without a reply (§2.3).
        return close(out, "connection refused: " + text(c.getMessage()));
      }
      case proto::ServerMessage::RESPONSE: {
        auto r = msg.getResponse();
        if (r.getXid() == xid::kPing) {
          Reply ping;
          ping.xid = xid::kPing;
          ping.zxid = r.getZxid();
          ping.type = op::kPing;
          emit(ping, out);
          return;
        }
        if (fifo_.empty() || fifo_.front().native_xid != r.getXid()) {
          return close(
              out, "the node answered xid " + std::to_string(r.getXid()) + " out of request order");
        }
        const Pending p = std::move(fifo_.front());
        fifo_.pop_front();
        Reply reply;
        reply.xid = p.jute_xid;
        reply.zxid = r.getZxid();
        reply.err = r.getErr();
        reply.type = p.type;
        if (reply.err == 0) fill_reply_body(&reply, r, p.sub_types);
        emit(reply, out);
        finish(p, reply.zxid, now_us);
        flush_local(now_us, out);
        return;
      }
      case proto::ServerMessage::NOTIFICATION: {
        auto n = msg.getNotification();
        Reply event;
        event.xid = xid::kNotification;
        event.zxid = -1;  // ZooKeeper's WatcherEvent replies carry zxid -1 in the header
        event.type = op::kNotification;
        event.event_type = n.getType();
        event.event_state = n.getState();
        event.path = text(n.getPath());
        emit(event, out);
        return;
      }
      case proto::ServerMessage::CLOSING:
        return close(out, "closed by the node: " + text(msg.getClosing()));
      default:
        return;  // status: not for ZooKeeper clients
    }
  } catch (const kj::Exception& e) {
    close(out, std::string("malformed message from the node: ") + e.getDescription().cStr());
  }
}

}  // namespace quorumlab::zkwire
