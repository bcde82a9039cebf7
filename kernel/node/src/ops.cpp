#include "ops.hpp"

namespace quorumlab::node {

namespace {

using Op = proto::Request::Op;

std::string text(capnp::Text::Reader t) {
  return std::string(t.cStr(), t.size());
}
Bytes data_of(capnp::Data::Reader d) {
  return Bytes(d.begin(), d.end());
}

sm::AclList acl_of(capnp::List<proto::Acl>::Reader list) {
  sm::AclList out;
  out.reserve(list.size());
  for (auto a : list)
    out.push_back({a.getPerms(), {text(a.getId().getScheme()), text(a.getId().getId())}});
  return out;
}

void fill_acl(capnp::List<proto::Acl>::Builder b, const sm::AclList& acl) {
  for (unsigned i = 0; i < acl.size(); ++i) {
    b[i].setPerms(acl[i].perms);
    b[i].initId().setScheme(acl[i].id.scheme);
    b[i].getId().setId(acl[i].id.id);
  }
}

sm::CreateOp create_of(proto::CreateOp::Reader c) {
  const bool null = c.getDataNull();
  return sm::CreateOp{text(c.getPath()),
                      null ? Bytes() : data_of(c.getData()),
                      acl_of(c.getAcl()),
                      c.getMode(),
                      sm::is_ttl(static_cast<sm::CreateMode>(c.getMode())) ? c.getTtlMs() : -1,
                      null};
}

/// Replies are small (a stat, or data of at most max_data_bytes): a 2 KiB first segment holds
/// most of them, where capnp's default would zero 8 KiB for every reply.
constexpr unsigned kResponseFirstSegmentWords = 256;

struct ResponseBuilder {
  capnp::MallocMessageBuilder msg{kResponseFirstSegmentWords};
  proto::Response::Builder r;
  ResponseBuilder(std::int32_t xid, Zxid zxid, sm::Err err)
      : r(msg.initRoot<proto::ServerMessage>().initResponse()) {
    r.setXid(xid);
    r.setZxid(static_cast<std::int64_t>(zxid));
    r.setErr(sm::err_code(err));
  }
  Bytes bytes() { return to_bytes(msg); }
};

void fill_children(proto::ChildrenResult::Builder b, const std::vector<std::string>& children,
                   const sm::Stat& stat) {
  auto list = b.initChildren(static_cast<unsigned>(children.size()));
  for (unsigned i = 0; i < children.size(); ++i)
    list.set(i, children[i]);
  fill_stat(b.initStat(), stat);
}

Bytes multi_read(const sm::DataTree& tree, const sm::AuthInfo& auth, std::int32_t xid, Zxid zxid,
                 capnp::List<proto::MultiOp>::Reader ops) {
  std::vector<sm::ReadOp> reads;
  for (auto op : ops) {
    if (op.which() == proto::MultiOp::GET_DATA) {
      reads.push_back({sm::ReadOp::Kind::kGetData, text(op.getGetData())});
    } else if (op.which() == proto::MultiOp::GET_CHILDREN) {
      reads.push_back({sm::ReadOp::Kind::kGetChildren, text(op.getGetChildren())});
    } else {
      return ResponseBuilder(xid, zxid, sm::Err::BADARGUMENTS).bytes();  // mixed kinds
    }
  }
  auto results = tree.multi_read(reads, auth);
  ResponseBuilder b(xid, zxid, sm::Err::OK);
  auto list = b.r.getBody().initMulti(static_cast<unsigned>(results.size()));
  for (unsigned i = 0; i < results.size(); ++i) {
    list[i].setErr(sm::err_code(results[i].err));
    if (results[i].err != sm::Err::OK) continue;
    if (reads[i].kind == sm::ReadOp::Kind::kGetData) {
      auto d = list[i].getBody().initData();
      d.setData(kj::arrayPtr(results[i].data.data(), results[i].data.size()));
      d.setDataNull(results[i].data_null);
      fill_stat(d.initStat(), results[i].stat);
    } else {
      fill_children(list[i].getBody().initChildren(), results[i].children, results[i].stat);
    }
  }
  return b.bytes();
}

}  // namespace

void fill_stat(proto::Stat::Builder b, const sm::Stat& s) {
  b.setCzxid(s.czxid);
  b.setMzxid(s.mzxid);
  b.setCtime(s.ctime);
  b.setMtime(s.mtime);
  b.setVersion(s.version);
  b.setCversion(s.cversion);
  b.setAversion(s.aversion);
  b.setEphemeralOwner(s.ephemeralOwner);
  b.setDataLength(s.dataLength);
  b.setNumChildren(s.numChildren);
  b.setPzxid(s.pzxid);
}

Bytes error_response(std::int32_t xid, Zxid zxid, sm::Err err) {
  return ResponseBuilder(xid, zxid, err).bytes();
}

bool write_op_from_request(proto::Request::Reader req, sm::TxnOp* op, sm::Err* err) {
  auto o = req.getOp();
  switch (o.which()) {
    case Op::CREATE:
      *op = create_of(o.getCreate());
      return true;
    case Op::DELETE:
      *op = sm::DeleteOp{text(o.getDelete().getPath()), o.getDelete().getVersion()};
      return true;
    case Op::SET_DATA: {
      auto s = o.getSetData();
      *op = sm::SetDataOp{text(s.getPath()), s.getDataNull() ? Bytes() : data_of(s.getData()),
                          s.getVersion(), s.getDataNull()};
      return true;
    }
    case Op::SET_ACL: {
      auto s = o.getSetAcl();
      *op = sm::SetAclOp{text(s.getPath()), acl_of(s.getAcl()), s.getVersion()};
      return true;
    }
    case Op::CHECK:
      *op = sm::CheckOp{text(o.getCheck().getPath()), o.getCheck().getVersion()};
      return true;
    case Op::MULTI: {
      sm::MultiOp multi;
      for (auto sub : o.getMulti()) {
        switch (sub.which()) {
          case proto::MultiOp::CREATE:
            multi.ops.emplace_back(create_of(sub.getCreate()));
            break;
          case proto::MultiOp::DELETE:
            multi.ops.emplace_back(
                sm::DeleteOp{text(sub.getDelete().getPath()), sub.getDelete().getVersion()});
            break;
          case proto::MultiOp::SET_DATA:
            multi.ops.emplace_back(sm::SetDataOp{
                text(sub.getSetData().getPath()),
                sub.getSetData().getDataNull() ? Bytes() : data_of(sub.getSetData().getData()),
                sub.getSetData().getVersion(), sub.getSetData().getDataNull()});
            break;
          case proto::MultiOp::CHECK:
            multi.ops.emplace_back(
                sm::CheckOp{text(sub.getCheck().getPath()), sub.getCheck().getVersion()});
            break;
          default:  // a read inside a write multi: ZooKeeper refuses mixing kinds
            *err = sm::Err::BADARGUMENTS;
            return false;
        }
      }
      *op = std::move(multi);
      return true;
    }
    default:
      return false;
  }
}

Bytes write_response(std::int32_t xid, Zxid zxid, const sm::TxnResult& result) {
  if (result.type == sm::OpType::kMulti) {
    ResponseBuilder b(xid, zxid, sm::Err::OK);  // per-op errors, header OK (§1.13)
    auto list = b.r.getBody().initMulti(static_cast<unsigned>(result.multi.size()));
    const bool failed = result.err != sm::Err::OK;
    for (unsigned i = 0; i < result.multi.size(); ++i) {
      const auto& op = result.multi[i];
      list[i].setErr(sm::err_code(op.err));
      if (failed || op.err != sm::Err::OK) continue;
      if (op.type == sm::OpType::kCreate) {
        auto c = list[i].getBody().initCreated();
        c.setPath(op.path);
        fill_stat(c.initStat(), op.stat);
      } else if (op.type == sm::OpType::kSetData) {
        fill_stat(list[i].getBody().initStat(), op.stat);
      }
    }
    return b.bytes();
  }
  ResponseBuilder b(xid, zxid, result.err);
  if (result.err != sm::Err::OK) return b.bytes();
  switch (result.type) {
    case sm::OpType::kCreate: {
      auto c = b.r.getBody().initCreated();
      c.setPath(result.path);
      fill_stat(c.initStat(), result.stat);
      break;
    }
    case sm::OpType::kSetData:
    case sm::OpType::kSetAcl:
    case sm::OpType::kCheck:
      fill_stat(b.r.getBody().initStat(), result.stat);
      break;
    default:
      break;
  }
  return b.bytes();
}

bool is_read_op(proto::Request::Reader req) {
  switch (req.getOp().which()) {
    case Op::EXISTS:
    case Op::GET_DATA:
    case Op::GET_ACL:
    case Op::GET_CHILDREN:
    case Op::GET_EPHEMERALS:
    case Op::GET_ALL_CHILDREN_NUMBER:
    case Op::MULTI_READ:
      return true;
    default:
      return false;
  }
}

Bytes execute_read(const sm::DataTree& tree, sm::WatchRegistry& watches, ConnId conn,
                   SessionId session, const sm::AuthInfo& auth, proto::Request::Reader req,
                   Zxid zxid) {
  const std::int32_t xid = req.getXid();
  auto o = req.getOp();
  switch (o.which()) {
    case Op::EXISTS: {
      std::string path = text(o.getExists().getPath());
      sm::Stat stat;
      // ZooKeeper checks no permission on exists: a node the caller may not READ still
      // answers its Stat (FinalRequestProcessor), so the lookup runs with super's rights.
      static const sm::AuthInfo kNoAclCheck = [] {
        sm::AuthInfo a;
        a.super = true;
        return a;
      }();
      sm::Err err = tree.exists(path, kNoAclCheck, &stat);
      // exists arms a data watch also when the node is missing (§1.11).
      if (o.getExists().getWatch() && (err == sm::Err::OK || err == sm::Err::NONODE)) {
        watches.add_data_watch(conn, path);
      }
      ResponseBuilder b(xid, zxid, err);
      if (err == sm::Err::OK) fill_stat(b.r.getBody().initStat(), stat);
      return b.bytes();
    }
    case Op::GET_DATA: {
      std::string path = text(o.getGetData().getPath());
      const Bytes* data = nullptr;
      sm::Stat stat;
      bool null = false;
      sm::Err err = tree.get_data_view(path, auth, &data, &stat, &null);
      if (o.getGetData().getWatch() && err == sm::Err::OK) watches.add_data_watch(conn, path);
      ResponseBuilder b(xid, zxid, err);
      if (err == sm::Err::OK) {
        auto d = b.r.getBody().initData();
        d.setData(kj::arrayPtr(data->data(), data->size()));
        d.setDataNull(null);
        fill_stat(d.initStat(), stat);
      }
      return b.bytes();
    }
    case Op::GET_ACL: {
      sm::AclList acl;
      sm::Stat stat;
      sm::Err err = tree.get_acl(text(o.getGetAcl()), auth, &acl, &stat);
      ResponseBuilder b(xid, zxid, err);
      if (err == sm::Err::OK) {
        auto a = b.r.getBody().initAcl();
        fill_acl(a.initAcl(static_cast<unsigned>(acl.size())), acl);
        fill_stat(a.initStat(), stat);
      }
      return b.bytes();
    }
    case Op::GET_CHILDREN: {
      std::string path = text(o.getGetChildren().getPath());
      std::vector<std::string> children;
      sm::Stat stat;
      sm::Err err = tree.get_children(path, auth, &children, &stat);
      if (o.getGetChildren().getWatch() && err == sm::Err::OK) watches.add_child_watch(conn, path);
      ResponseBuilder b(xid, zxid, err);
      if (err == sm::Err::OK) fill_children(b.r.getBody().initChildren(), children, stat);
      return b.bytes();
    }
    case Op::GET_EPHEMERALS: {
      auto paths = tree.get_ephemerals(session, text(o.getGetEphemerals()));
      ResponseBuilder b(xid, zxid, sm::Err::OK);
      auto list = b.r.getBody().initEphemerals(static_cast<unsigned>(paths.size()));
      for (unsigned i = 0; i < paths.size(); ++i)
        list.set(i, paths[i]);
      return b.bytes();
    }
    case Op::GET_ALL_CHILDREN_NUMBER: {
      std::int32_t n = 0;
      sm::Err err = tree.get_all_children_number(text(o.getGetAllChildrenNumber()), auth, &n);
      ResponseBuilder b(xid, zxid, err);
      if (err == sm::Err::OK) b.r.getBody().setCount(n);
      return b.bytes();
    }
    case Op::MULTI_READ:
      return multi_read(tree, auth, xid, zxid, o.getMultiRead());
    default:
      return error_response(xid, zxid, sm::Err::UNIMPLEMENTED);
  }
}

LocalOpResult execute_local_op(const sm::DataTree& tree, sm::WatchRegistry& watches, ConnId conn,
                               sm::AuthInfo& auth, proto::Request::Reader req, Zxid zxid) {
  const std::int32_t xid = req.getXid();
  auto o = req.getOp();
  LocalOpResult out;
  switch (o.which()) {
    case Op::ADD_AUTH: {
      auto a = o.getAddAuth();
      auto cred = a.getAuth();
      sm::Err err =
          tree.add_auth(&auth, text(a.getScheme()),
                        std::string_view(reinterpret_cast<const char*>(cred.begin()), cred.size()));
      out.response = error_response(xid, zxid, err);
      out.close_connection = err != sm::Err::OK;
      if (err == sm::Err::OK) watches.set_auth(conn, auth);
      return out;
    }
    case Op::WHO_AM_I: {
      ResponseBuilder b(xid, zxid, sm::Err::OK);
      auto list = b.r.getBody().initWhoAmI(static_cast<unsigned>(auth.ids.size()));
      for (unsigned i = 0; i < auth.ids.size(); ++i) {
        // AuthUtil.getClientInfos: the provider's getUserName, which for digest is the part of
        // "user:base64(sha1)" before the colon and for other schemes the id itself.
        const auto& id = auth.ids[i];
        list[i].setScheme(id.scheme);
        list[i].setId(id.scheme == "digest" ? id.id.substr(0, id.id.find(':')) : id.id);
      }
      out.response = b.bytes();
      return out;
    }
    case Op::CHECK_WATCHES:
    case Op::REMOVE_WATCHES: {
      bool remove = o.which() == Op::REMOVE_WATCHES;
      auto w = remove ? o.getRemoveWatches() : o.getCheckWatches();
      auto type = static_cast<sm::WatcherType>(w.getType());
      sm::Err err = remove ? watches.remove_watches(conn, text(w.getPath()), type)
                           : watches.check_watches(conn, text(w.getPath()), type);
      out.response = error_response(xid, zxid, err);
      return out;
    }
    case Op::ADD_WATCH: {
      auto w = o.getAddWatch();
      std::string path = text(w.getPath());
      sm::Err err = sm::Err::OK;
      if (w.getMode() != 0 && w.getMode() != 1) {
        err = sm::Err::BADARGUMENTS;
      } else if (tree.exists(path, auth, nullptr) == sm::Err::NOAUTH) {
        err = sm::Err::NOAUTH;  // READ is checked when the node exists (3.9.2+)
      } else {
        watches.add_watch(conn, path, static_cast<sm::AddWatchMode>(w.getMode()));
      }
      out.response = error_response(xid, zxid, err);
      return out;
    }
    case Op::SET_WATCHES: {
      auto s = o.getSetWatches();
      auto list = [](capnp::List<capnp::Text>::Reader l) {
        std::vector<std::string> v;
        for (auto t : l)
          v.push_back(text(t));
        return v;
      };
      std::vector<sm::Notification> fired;
      watches.set_watches(conn, static_cast<Zxid>(s.getRelativeZxid()), list(s.getData()),
                          list(s.getExist()), list(s.getChild()), list(s.getPersistent()),
                          list(s.getPersistentRecursive()), tree, &fired);
      for (const auto& n : fired) {
        capnp::MallocMessageBuilder msg;
        auto w = msg.initRoot<proto::ServerMessage>().initNotification();
        w.setType(static_cast<std::int32_t>(n.type));
        w.setState(3);
        w.setPath(n.path);
        w.setZxid(-1);
        out.notifications.push_back(to_bytes(msg));
      }
      out.response = error_response(xid, zxid, sm::Err::OK);
      return out;
    }
    default:
      out.response = error_response(xid, zxid, sm::Err::UNIMPLEMENTED);
      return out;
  }
}

}  // namespace quorumlab::node
