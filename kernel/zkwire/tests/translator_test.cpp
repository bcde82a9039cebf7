// The translator between jute frames and the native protocol, without sockets or a node:
// every opcode in both directions (reference §1.1), the handshake (§2.3), special xids (§2.4),
// reply order (§2.5), multi (§2.7), the rules of §2.8, and malformed input.
#include <gtest/gtest.h>

#include <capnp/message.h>

#include <functional>
#include <memory>

#include "quorumlab/node/capnp_util.hpp"
#include "quorumlab/proto/client.capnp.h"
#include "quorumlab/zkwire/translator.hpp"

using namespace quorumlab;
using namespace quorumlab::zkwire;

namespace {

/// A decoded native message kept alive with its buffer.
struct Native {
  std::shared_ptr<CapnpReader> reader;
  proto::ClientMessage::Reader get() const { return reader->root<proto::ClientMessage>(); }
  proto::Request::Reader request() const { return get().getRequest(); }
};

Native decode_native(const Bytes& b) {
  return Native{std::make_shared<CapnpReader>(b.data(), b.size(), 1 << 26)};
}

Bytes payload(const Bytes& frame, std::size_t* offset) {
  const auto len = static_cast<std::size_t>(load_be32(frame.data() + *offset));
  Bytes p(frame.begin() + static_cast<std::ptrdiff_t>(*offset + 4),
          frame.begin() + static_cast<std::ptrdiff_t>(*offset + 4 + len));
  *offset += 4 + len;
  return p;
}

/// Splits the client-bound bytes into replies; `types` gives the opcode for each non-special
/// reply in order.
std::vector<Reply> replies_of(const Bytes& bytes, std::vector<std::int32_t> types) {
  std::vector<Reply> out;
  std::size_t off = 0;
  std::size_t next_type = 0;
  while (off < bytes.size()) {
    Bytes p = payload(bytes, &off);
    const std::int32_t xid = load_be32(p.data());
    std::int32_t type = 0;
    if (xid >= 0) type = next_type < types.size() ? types[next_type++] : 0;
    out.push_back(decode_reply(p.data(), p.size(), type));
  }
  return out;
}

Bytes response_msg(std::int32_t xid, std::int64_t zxid, std::int32_t err,
                   const std::function<void(proto::Response::Body::Builder)>& body = {}) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<proto::ServerMessage>().initResponse();
  r.setXid(xid);
  r.setZxid(zxid);
  r.setErr(err);
  if (body) body(r.getBody());
  return to_bytes(m);
}

void fill_stat(proto::Stat::Builder b, std::int64_t v) {
  b.setCzxid(v);
  b.setMzxid(v + 1);
  b.setVersion(static_cast<std::int32_t>(v % 100));
  b.setNumChildren(2);
  b.setPzxid(v + 2);
}

class TranslatorTest : public ::testing::Test {
 protected:
  Translator t{TranslatorLimits{1 << 20, 100}};
  std::int64_t now = 1000;

  Effects frame(const Bytes& framed) {
    Effects fx;
    std::size_t off = 0;
    Bytes p = payload(framed, &off);
    t.on_client_frame(p.data(), p.size(), now, &fx);
    return fx;
  }
  Effects server(const Bytes& native) {
    Effects fx;
    t.on_server_message(native.data(), native.size(), now, &fx);
    return fx;
  }

  /// Handshake: jute ConnectRequest in, native ConnectResponse OK back.
  Bytes connect(std::optional<bool> read_only = false, std::int64_t session = 0x1234) {
    ConnectRequest c;
    c.timeout_ms = 10000;
    c.read_only = read_only;
    Bytes f;
    encode_connect_request(c, &f);
    Effects fx = frame(f);
    EXPECT_EQ(fx.to_node.size(), 1u);
    EXPECT_EQ(t.stage(), Translator::Stage::kConnecting);
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<proto::ServerMessage>().initConnectResponse();
    r.setTimeoutMs(6000);
    r.setSessionId(session);
    Bytes pw(16, 0xab);
    r.setPasswd(kj::arrayPtr(pw.data(), pw.size()));
    Effects back = server(to_bytes(m));
    EXPECT_FALSE(back.close);
    EXPECT_EQ(t.stage(), Translator::Stage::kSession);
    return back.to_client;
  }

  /// Sends one jute request; returns the native request the node gets (exactly one).
  Native send(const Request& r) {
    Bytes f;
    encode_request(r, &f);
    Effects fx = frame(f);
    EXPECT_FALSE(fx.close) << fx.reason;
    EXPECT_TRUE(fx.to_client.empty());
    EXPECT_EQ(fx.to_node.size(), 1u);
    if (fx.to_node.empty()) return {};
    return decode_native(fx.to_node[0]);
  }

  /// The node answers `native` (with `body`); returns the one jute reply.
  Reply answer(const Native& native, std::int32_t jute_type, std::int32_t err,
               const std::function<void(proto::Response::Body::Builder)>& body = {}) {
    Effects fx = server(response_msg(native.request().getXid(), 0x500000007, err, body));
    EXPECT_FALSE(fx.close) << fx.reason;
    auto rs = replies_of(fx.to_client, {jute_type});
    EXPECT_EQ(rs.size(), 1u);
    return rs.empty() ? Reply{} : rs[0];
  }

  static Request req(std::int32_t xid, std::int32_t type, std::string path = "/a") {
    Request r;
    r.xid = xid;
    r.type = type;
    r.path = std::move(path);
    return r;
  }
};

// ---------------------------------------------------------------- §2.3 handshake

TEST_F(TranslatorTest, ConnectTranslatesEveryField) {
  ConnectRequest c;
  c.last_zxid_seen = 0x300000009;
  c.timeout_ms = 12345;
  c.session_id = 0x55;
  c.passwd = Bytes(16, 3);
  c.read_only = true;
  Bytes f;
  encode_connect_request(c, &f);
  Effects fx = frame(f);
  ASSERT_EQ(fx.to_node.size(), 1u);
  auto native = decode_native(fx.to_node[0]);  // owns the bytes `n` points into
  auto n = native.get();
  ASSERT_TRUE(n.isConnect());
  auto cr = n.getConnect();
  EXPECT_EQ(cr.getLastZxidSeen(), 0x300000009);
  EXPECT_EQ(cr.getTimeoutMs(), 12345);
  EXPECT_EQ(cr.getSessionId(), 0x55);
  EXPECT_EQ(Bytes(cr.getPasswd().begin(), cr.getPasswd().end()), Bytes(16, 3));
  EXPECT_TRUE(cr.getReadOnly());
  EXPECT_FALSE(t.accepts_frames());  // §2.3: no reading while the session is being created
}

TEST_F(TranslatorTest, ConnectResponseMirrorsTheReadOnlyByte) {
  for (std::optional<bool> ro : {std::optional<bool>(), std::optional<bool>(true)}) {
    Translator fresh;
    t = std::move(fresh);
    Bytes out = connect(ro);
    std::size_t off = 0;
    Bytes p = payload(out, &off);
    ConnectResponse r = decode_connect_response(p.data(), p.size());
    EXPECT_EQ(r.timeout_ms, 6000);
    EXPECT_EQ(r.session_id, 0x1234);
    EXPECT_EQ(r.passwd, Bytes(16, 0xab));
    EXPECT_EQ(r.read_only.has_value(), ro.has_value());
    if (ro) {
      EXPECT_FALSE(*r.read_only);  // this server is read-write
    }
    EXPECT_EQ(t.session_id(), 0x1234);
  }
}

TEST_F(TranslatorTest, ExpiredSessionGetsZerosThenClose) {
  ConnectRequest c;
  c.session_id = 77;
  c.read_only = false;
  Bytes f;
  encode_connect_request(c, &f);
  frame(f);
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<proto::ServerMessage>().initConnectResponse();
  r.setErr(-112);
  r.setMessage("session 0x4d is expired");
  Effects fx = server(to_bytes(m));
  EXPECT_TRUE(fx.close);
  std::size_t off = 0;
  Bytes p = payload(fx.to_client, &off);
  ConnectResponse cr = decode_connect_response(p.data(), p.size());
  EXPECT_EQ(cr.timeout_ms, 0);
  EXPECT_EQ(cr.session_id, 0);
  EXPECT_EQ(cr.passwd, Bytes(16, 0));
  EXPECT_TRUE(cr.read_only.has_value());
  EXPECT_EQ(off, fx.to_client.size());
}

TEST_F(TranslatorTest, RefusedConnectClosesWithoutAReply) {
  ConnectRequest c;
  c.last_zxid_seen = 1000;
  Bytes f;
  encode_connect_request(c, &f);
  frame(f);
  capnp::MallocMessageBuilder m;
  m.initRoot<proto::ServerMessage>().initConnectResponse().setErr(-4);
  Effects fx = server(to_bytes(m));
  EXPECT_TRUE(fx.close);
  EXPECT_TRUE(fx.to_client.empty());
  EXPECT_EQ(t.stage(), Translator::Stage::kClosed);
}

TEST_F(TranslatorTest, MalformedConnectCloses) {
  Bytes junk = {0, 0, 0, 3, 1, 2, 3};
  Effects fx = frame(junk);
  EXPECT_TRUE(fx.close);
  EXPECT_TRUE(fx.to_node.empty());
}

TEST_F(TranslatorTest, FrameWhileConnectingCloses) {
  ConnectRequest c;
  Bytes f;
  encode_connect_request(c, &f);
  frame(f);
  Bytes g;
  encode_request(req(1, op::kGetData), &g);
  Effects fx = frame(g);
  EXPECT_TRUE(fx.close);
}

// ---------------------------------------------------------------- §1.1 every opcode

TEST_F(TranslatorTest, CreateFamilyRepliesByOpcode) {
  connect();
  const std::vector<std::pair<std::int32_t, std::int32_t>> cases = {
      {op::kCreate, 3}, {op::kCreate2, 0}, {op::kCreateContainer, 4}, {op::kCreateTtl, 6}};
  for (auto [type, flags] : cases) {
    SCOPED_TRACE(op_name(type));
    Request r = req(10 + type, type, "/n");
    r.data = {1, 2};
    r.acl = {{31, {"world", "anyone"}}};
    r.flags = flags;
    r.ttl = 5000;
    Native n = send(r);
    auto q = n.request();
    ASSERT_TRUE(q.getOp().isCreate());
    auto c = q.getOp().getCreate();
    EXPECT_EQ(std::string(c.getPath().cStr()), "/n");
    EXPECT_EQ(c.getMode(), flags);
    EXPECT_EQ(c.getTtlMs(), type == op::kCreateTtl ? 5000 : -1);
    ASSERT_EQ(c.getAcl().size(), 1u);
    EXPECT_EQ(std::string(c.getAcl()[0].getId().getScheme().cStr()), "world");
    Bytes f;
    Reply rep = answer(n, type, 0, [](proto::Response::Body::Builder b) {
      auto cr = b.initCreated();
      cr.setPath("/n0000000001");
      fill_stat(cr.initStat(), 40);
    });
    EXPECT_EQ(rep.xid, 10 + type);
    EXPECT_EQ(rep.zxid, 0x500000007);
    EXPECT_EQ(rep.path, "/n0000000001");
    if (type != op::kCreate) {
      EXPECT_EQ(rep.stat.czxid, 40);
    }
  }
}

TEST_F(TranslatorTest, PlainCreateReplyHasNoStat) {
  connect();
  Native n = send(req(1, op::kCreate));
  Effects fx =
      server(response_msg(n.request().getXid(), 9, 0, [](proto::Response::Body::Builder b) {
        auto cr = b.initCreated();
        cr.setPath("/a");
        fill_stat(cr.initStat(), 1);
      }));
  EXPECT_EQ(fx.to_client.size(), 4u + 16 + 4 + 2);  // header + CreateResponse{path}
}

// ZooKeeper 3.8 outside a multi: createContainer makes a container whatever its flags (a
// sequential one for 2 and 3), create/create2 with the container flag a persistent node.
TEST_F(TranslatorTest, CreateContainerFlagsFollowZooKeeper) {
  connect();
  const std::vector<std::tuple<std::int32_t, std::int32_t, std::int32_t>> cases = {
      {op::kCreateContainer, 0, 4}, {op::kCreateContainer, 1, 4}, {op::kCreateContainer, 2, 7},
      {op::kCreateContainer, 3, 7}, {op::kCreateContainer, 4, 4}, {op::kCreateContainer, 5, 5},
      {op::kCreate, 4, 0},          {op::kCreate2, 4, 0},         {op::kCreate2, 2, 2}};
  std::int32_t xid = 1;
  for (auto [type, flags, mode] : cases) {
    SCOPED_TRACE(std::to_string(type) + " flags " + std::to_string(flags));
    Request r = req(xid++, type);
    r.flags = flags;
    Native n = send(r);
    EXPECT_EQ(n.request().getOp().getCreate().getMode(), mode);
    answer(n, type, -101);
  }
  for (std::int32_t bad : {7, -1}) {
    Request r = req(xid++, op::kCreateContainer);
    r.flags = bad;
    Bytes f;
    encode_request(r, &f);
    Effects fx = frame(f);
    EXPECT_TRUE(fx.to_node.empty());
    auto rs = replies_of(fx.to_client, {op::kCreateContainer});
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].err, -8);  // BADARGUMENTS
  }
}

TEST_F(TranslatorTest, CreateTtlNeedsATtlMode) {
  connect();
  Bytes f;
  Effects fx;
  std::vector<Reply> rs;
  Request ttl = req(2, op::kCreateTtl);
  ttl.flags = 1;
  f.clear();
  encode_request(ttl, &f);
  fx = frame(f);
  rs = replies_of(fx.to_client, {op::kCreateTtl});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].err, -8);
}

TEST_F(TranslatorTest, PathVersionOps) {
  connect();
  for (auto type : {op::kDelete, op::kCheck}) {
    SCOPED_TRACE(op_name(type));
    Request r = req(5, type, "/v");
    r.version = 7;
    Native n = send(r);
    auto o = n.request().getOp();
    auto pv = type == op::kDelete ? o.getDelete() : o.getCheck();
    EXPECT_EQ(type == op::kDelete, o.isDelete());
    EXPECT_EQ(std::string(pv.getPath().cStr()), "/v");
    EXPECT_EQ(pv.getVersion(), 7);
    Reply rep = answer(n, type, 0, [type](proto::Response::Body::Builder b) {
      if (type == op::kCheck) fill_stat(b.initStat(), 3);
    });
    if (type == op::kCheck) {
      EXPECT_EQ(rep.stat.czxid, 3);  // standalone check: SetDataResponse
    }
  }
  // Standalone check carries a Stat on the wire; delete none.
  Native n = send(req(6, op::kDelete));
  Effects fx = server(response_msg(n.request().getXid(), 1, 0));
  EXPECT_EQ(fx.to_client.size(), 20u);
}

TEST_F(TranslatorTest, PathWatchReads) {
  connect();
  for (auto type : {op::kExists, op::kGetData, op::kGetChildren, op::kGetChildren2}) {
    SCOPED_TRACE(op_name(type));
    Request r = req(8, type, "/w");
    r.watch = true;
    Native n = send(r);
    auto o = n.request().getOp();
    proto::PathWatch::Reader pw = type == op::kExists    ? o.getExists()
                                  : type == op::kGetData ? o.getGetData()
                                                         : o.getGetChildren();
    EXPECT_EQ(std::string(pw.getPath().cStr()), "/w");
    EXPECT_TRUE(pw.getWatch());
    Reply rep = answer(n, type, 0, [type](proto::Response::Body::Builder b) {
      if (type == op::kExists) fill_stat(b.initStat(), 11);
      if (type == op::kGetData) {
        auto d = b.initData();
        Bytes v = {4, 5, 6};
        d.setData(kj::arrayPtr(v.data(), v.size()));
        fill_stat(d.initStat(), 11);
      }
      if (type == op::kGetChildren || type == op::kGetChildren2) {
        auto c = b.initChildren();
        auto l = c.initChildren(2);
        l.set(0, "x");
        l.set(1, "y");
        fill_stat(c.initStat(), 11);
      }
    });
    if (type == op::kGetData) {
      EXPECT_EQ(rep.data, (Bytes{4, 5, 6}));
    }
    if (type == op::kGetChildren || type == op::kGetChildren2) {
      EXPECT_EQ(rep.strings, (std::vector<std::string>{"x", "y"}));
    }
    if (type != op::kGetChildren) {
      EXPECT_EQ(rep.stat.czxid, 11);
    }
  }
}

TEST_F(TranslatorTest, ExistsOnMissingNodeIsHeaderOnly) {
  connect();
  Native n = send(req(2, op::kExists));
  Effects fx = server(response_msg(n.request().getXid(), 4, -101));
  auto rs = replies_of(fx.to_client, {op::kExists});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].err, -101);
  EXPECT_EQ(fx.to_client.size(), 20u);
}

TEST_F(TranslatorTest, SetDataAndAcls) {
  connect();
  Request s = req(3, op::kSetData, "/s");
  s.data = Bytes(10, 1);
  s.version = 4;
  Native n = send(s);
  auto sd = n.request().getOp().getSetData();
  EXPECT_EQ(sd.getData().size(), 10u);
  EXPECT_EQ(sd.getVersion(), 4);
  EXPECT_EQ(answer(n, op::kSetData, 0, [](auto b) { fill_stat(b.initStat(), 21); }).stat.czxid, 21);

  Request sa = req(4, op::kSetAcl, "/s");
  sa.acl = {{1, {"digest", "u:h"}}, {16, {"ip", "10.0.0.0/8"}}};
  sa.version = 2;
  n = send(sa);
  auto a = n.request().getOp().getSetAcl();
  ASSERT_EQ(a.getAcl().size(), 2u);
  EXPECT_EQ(a.getAcl()[1].getPerms(), 16);
  EXPECT_EQ(a.getVersion(), 2);
  EXPECT_EQ(answer(n, op::kSetAcl, 0, [](auto b) { fill_stat(b.initStat(), 22); }).stat.czxid, 22);

  n = send(req(5, op::kGetAcl, "/s"));
  EXPECT_EQ(std::string(n.request().getOp().getGetAcl().cStr()), "/s");
  Reply rep = answer(n, op::kGetAcl, 0, [](proto::Response::Body::Builder b) {
    auto r = b.initAcl();
    auto l = r.initAcl(1);
    l[0].setPerms(31);
    l[0].initId().setScheme("world");
    l[0].getId().setId("anyone");
    fill_stat(r.initStat(), 23);
  });
  ASSERT_EQ(rep.acl.size(), 1u);
  EXPECT_EQ(rep.acl[0].id.id, "anyone");
  EXPECT_EQ(rep.stat.czxid, 23);
}

TEST_F(TranslatorTest, PathOnlyOps) {
  connect();
  Native n = send(req(1, op::kSync, "/y"));
  EXPECT_EQ(std::string(n.request().getOp().getSync().cStr()), "/y");
  EXPECT_EQ(answer(n, op::kSync, 0, [](auto b) { b.setPath("/y"); }).path, "/y");

  n = send(req(2, op::kGetEphemerals, "/e"));
  EXPECT_EQ(std::string(n.request().getOp().getGetEphemerals().cStr()), "/e");
  Reply rep = answer(n, op::kGetEphemerals, 0, [](proto::Response::Body::Builder b) {
    auto l = b.initEphemerals(1);
    l.set(0, "/e/1");
  });
  EXPECT_EQ(rep.strings, std::vector<std::string>{"/e/1"});

  n = send(req(3, op::kGetAllChildrenNumber, "/"));
  EXPECT_EQ(std::string(n.request().getOp().getGetAllChildrenNumber().cStr()), "/");
  EXPECT_EQ(answer(n, op::kGetAllChildrenNumber, 0, [](auto b) { b.setCount(17); }).number, 17);
}

TEST_F(TranslatorTest, WatchManagementOps) {
  connect();
  for (auto type : {op::kCheckWatches, op::kRemoveWatches}) {
    Request r = req(1, type, "/w");
    r.mode = 2;
    Native n = send(r);
    auto o = n.request().getOp();
    auto w = type == op::kCheckWatches ? o.getCheckWatches() : o.getRemoveWatches();
    EXPECT_EQ(w.getType(), 2);
    Effects fx = server(response_msg(n.request().getXid(), 1, -121));
    auto rs = replies_of(fx.to_client, {type});
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].err, -121);  // NOWATCHER
  }
  Request aw = req(2, op::kAddWatch, "/w");
  aw.mode = 1;
  Native n = send(aw);
  EXPECT_EQ(n.request().getOp().getAddWatch().getMode(), 1);
  Effects fx = server(response_msg(n.request().getXid(), 1, 0));
  EXPECT_EQ(fx.to_client.size(), 4u + 16 + 4);  // ErrorResponse{0} (§1.1)
  auto rs = replies_of(fx.to_client, {op::kAddWatch});
  EXPECT_EQ(rs[0].number, 0);
}

TEST_F(TranslatorTest, SetWatchesBothVersions) {
  connect();
  for (auto type : {op::kSetWatches, op::kSetWatches2}) {
    Request r = req(xid::kSetWatches, type, "");
    r.set_watches.relative_zxid = 0x100000003;
    r.set_watches.data = {"/d"};
    r.set_watches.exist = {"/e1", "/e2"};
    r.set_watches.child = {"/c"};
    if (type == op::kSetWatches2) {
      r.set_watches.persistent = {"/p"};
      r.set_watches.persistent_recursive = {"/r"};
    }
    Native n = send(r);
    auto s = n.request().getOp().getSetWatches();
    EXPECT_EQ(s.getRelativeZxid(), 0x100000003);
    EXPECT_EQ(s.getExist().size(), 2u);
    EXPECT_EQ(s.getPersistent().size(), type == op::kSetWatches2 ? 1u : 0u);
    EXPECT_EQ(s.getPersistentRecursive().size(), type == op::kSetWatches2 ? 1u : 0u);
    Reply rep = answer(n, type, 0);
    EXPECT_EQ(rep.xid, xid::kSetWatches);  // in the FIFO, answered with -8 (§2.5)
  }
}

TEST_F(TranslatorTest, AuthSuccessAndFailure) {
  connect();
  Request a = req(xid::kAuth, op::kAuth, "");
  a.scheme = "digest";
  a.data = {'u', ':', 'p'};
  Native n = send(a);
  auto au = n.request().getOp().getAddAuth();
  EXPECT_EQ(std::string(au.getScheme().cStr()), "digest");
  EXPECT_EQ(au.getAuth().size(), 3u);
  EXPECT_EQ(answer(n, op::kAuth, 0).xid, xid::kAuth);

  n = send(a);
  Effects fx = server(response_msg(n.request().getXid(), 0, -115));
  auto rs = replies_of(fx.to_client, {});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].xid, xid::kAuth);
  EXPECT_EQ(rs[0].err, -115);
  // The node then closes the connection (§2.8); the translator turns that into a close.
  capnp::MallocMessageBuilder m;
  m.initRoot<proto::ServerMessage>().setClosing("auth failed");
  EXPECT_TRUE(server(to_bytes(m)).close);
}

TEST_F(TranslatorTest, WhoAmIAndCloseSession) {
  connect();
  Native n = send(req(1, op::kWhoAmI, ""));
  EXPECT_TRUE(n.request().getOp().isWhoAmI());
  Reply rep = answer(n, op::kWhoAmI, 0, [](proto::Response::Body::Builder b) {
    auto l = b.initWhoAmI(1);
    l[0].setScheme("ip");
    l[0].setId("127.0.0.1");
  });
  ASSERT_EQ(rep.client_info.size(), 1u);
  EXPECT_EQ(rep.client_info[0].auth_scheme, "ip");
  EXPECT_EQ(rep.client_info[0].user, "127.0.0.1");

  n = send(req(2, op::kCloseSession, ""));
  EXPECT_TRUE(n.request().getOp().isCloseSession());
  Effects fx = server(response_msg(n.request().getXid(), 8, 0));
  EXPECT_EQ(fx.to_client.size(), 20u);
  EXPECT_EQ(load_be32(fx.to_client.data() + 4), 2);
  capnp::MallocMessageBuilder m;
  m.initRoot<proto::ServerMessage>().setClosing("session closed");
  EXPECT_TRUE(server(to_bytes(m)).close);
}

// ---------------------------------------------------------------- §2.7 multi

TEST_F(TranslatorTest, MultiSuccessUsesTheSubOpResultTypes) {
  connect();
  Request m = req(30, op::kMulti, "");
  auto sub = [](std::int32_t type, std::string path, std::int32_t flags = 0) {
    Request s;
    s.type = type;
    s.path = std::move(path);
    s.flags = flags;
    s.ttl = 100;
    return s;
  };
  m.ops = {sub(op::kCreate, "/a"),       sub(op::kCreate2, "/b"),
           sub(op::kCreateTtl, "/t", 5), sub(op::kCreateContainer, "/c", 4),
           sub(op::kDelete, "/d"),       sub(op::kSetData, "/s"),
           sub(op::kCheck, "/k")};
  Native n = send(m);
  auto ops = n.request().getOp().getMulti();
  ASSERT_EQ(ops.size(), 7u);
  EXPECT_TRUE(ops[0].isCreate());
  EXPECT_EQ(ops[2].getCreate().getTtlMs(), 100);
  EXPECT_EQ(ops[0].getCreate().getTtlMs(), -1);
  EXPECT_TRUE(ops[4].isDelete());
  EXPECT_TRUE(ops[5].isSetData());
  EXPECT_TRUE(ops[6].isCheck());
  Reply rep = answer(n, op::kMulti, 0, [](proto::Response::Body::Builder b) {
    auto l = b.initMulti(7);
    for (unsigned i = 0; i < 4; ++i) {
      auto c = l[i].getBody().initCreated();
      c.setPath("/x" + std::to_string(i));
      fill_stat(c.initStat(), i);
    }
    l[4].getBody().setNone();
    fill_stat(l[5].getBody().initStat(), 50);
    l[6].getBody().setNone();
  });
  ASSERT_EQ(rep.results.size(), 7u);
  EXPECT_EQ(rep.results[0].type, op::kCreate);  // plain create: path only
  EXPECT_EQ(rep.results[0].path, "/x0");
  // ZooKeeper 3.8 rebuilds each create with Op.create(flags): create2 without the container
  // flag comes back as a plain create; createTTL and a container as create2.
  EXPECT_EQ(rep.results[1].type, op::kCreate);
  EXPECT_EQ(rep.results[2].type, op::kCreate2);
  EXPECT_EQ(rep.results[3].type, op::kCreate2);
  EXPECT_EQ(rep.results[3].stat.czxid, 3);
  EXPECT_EQ(rep.results[4].type, op::kDelete);
  EXPECT_EQ(rep.results[5].type, op::kSetData);
  EXPECT_EQ(rep.results[5].stat.czxid, 50);
  EXPECT_EQ(rep.results[6].type, op::kCheck);
}

TEST_F(TranslatorTest, FailedMultiReportsErrorResultsForEveryOp) {
  connect();
  Request m = req(31, op::kMulti, "");
  Request c;
  c.type = op::kCreate;
  c.path = "/a";
  Request d;
  d.type = op::kDelete;
  d.path = "/missing";
  Request s;
  s.type = op::kSetData;
  s.path = "/a";
  m.ops = {c, d, s};
  Native n = send(m);
  Reply rep = answer(n, op::kMulti, 0, [](proto::Response::Body::Builder b) {
    auto l = b.initMulti(3);
    l[0].setErr(0);
    l[1].setErr(-101);
    l[2].setErr(-2);
  });
  EXPECT_EQ(rep.err, 0);  // header OK, per-op codes (§1.13)
  ASSERT_EQ(rep.results.size(), 3u);
  for (const auto& r : rep.results)
    EXPECT_EQ(r.type, op::kError);
  EXPECT_EQ(rep.results[0].err, 0);
  EXPECT_EQ(rep.results[1].err, -101);
  EXPECT_EQ(rep.results[2].err, -2);
}

TEST_F(TranslatorTest, MultiReadResultsAreIndependent) {
  connect();
  Request m = req(32, op::kMultiRead, "");
  Request g;
  g.type = op::kGetData;
  g.path = "/g";
  Request c;
  c.type = op::kGetChildren;
  c.path = "/c";
  m.ops = {g, c, g};
  Native n = send(m);
  auto ops = n.request().getOp().getMultiRead();
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(std::string(ops[0].getGetData().cStr()), "/g");
  EXPECT_EQ(std::string(ops[1].getGetChildren().cStr()), "/c");
  Reply rep = answer(n, op::kMultiRead, 0, [](proto::Response::Body::Builder b) {
    auto l = b.initMulti(3);
    Bytes v = {7};
    l[0].getBody().initData().setData(kj::arrayPtr(v.data(), v.size()));
    l[1].getBody().initChildren().initChildren(1).set(0, "k");
    l[2].setErr(-101);
  });
  ASSERT_EQ(rep.results.size(), 3u);
  EXPECT_EQ(rep.results[0].type, op::kGetData);
  EXPECT_EQ(rep.results[0].data, Bytes{7});
  EXPECT_EQ(rep.results[1].type, op::kGetChildren);
  EXPECT_EQ(rep.results[1].children, std::vector<std::string>{"k"});
  EXPECT_EQ(rep.results[2].type, op::kError);
  EXPECT_EQ(rep.results[2].err, -101);
}

// ZooKeeper fails to read a write multi holding a read: MARSHALLINGERROR, header only.
TEST_F(TranslatorTest, ReadInsideAWriteMultiIsAMarshallingError) {
  connect();
  Request m = req(33, op::kMulti, "");
  Request g;
  g.type = op::kGetData;
  g.path = "/g";
  Request c;
  c.type = op::kCreate;
  c.path = "/c";
  m.ops = {c, g};
  Bytes f;
  encode_request(m, &f);
  Effects fx = frame(f);
  EXPECT_TRUE(fx.to_node.empty());
  EXPECT_FALSE(fx.close);
  EXPECT_EQ(fx.to_client.size(), 20u);
  auto rs = replies_of(fx.to_client, {op::kMulti});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].err, -5);
}

TEST_F(TranslatorTest, NullDataBothWays) {
  connect();
  Request c = req(1, op::kCreate);
  c.data_null = true;
  Native n = send(c);
  EXPECT_TRUE(n.request().getOp().getCreate().getDataNull());
  answer(n, op::kCreate, -110);
  Request e = req(2, op::kSetData);
  n = send(e);
  EXPECT_FALSE(n.request().getOp().getSetData().getDataNull());
  answer(n, op::kSetData, -101);
  n = send(req(3, op::kGetData));
  Effects fx =
      server(response_msg(n.request().getXid(), 9, 0, [](proto::Response::Body::Builder b) {
        auto d = b.initData();
        d.setDataNull(true);
        fill_stat(d.initStat(), 1);
      }));
  // header, buffer length -1, Stat
  ASSERT_EQ(fx.to_client.size(), 4u + 16 + 4 + 68);
  EXPECT_EQ(load_be32(fx.to_client.data() + 20), -1);
  auto rs = replies_of(fx.to_client, {op::kGetData});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_TRUE(rs[0].data_null);
}

TEST_F(TranslatorTest, NullPathIsAnsweredAsZooKeeperDoes) {
  connect();
  const std::vector<std::pair<std::int32_t, std::int32_t>> cases = {
      {op::kCreate, -5},       {op::kExists, -5},  {op::kGetData, -5}, {op::kDelete, -5},
      {op::kGetChildren2, -5}, {op::kSetData, -8}, {op::kSetAcl, -8}};
  std::int32_t xid = 1;
  for (auto [type, err] : cases) {
    SCOPED_TRACE(op_name(type));
    Request r = req(xid++, type);
    r.path_null = true;
    Bytes f;
    encode_request(r, &f);
    // encode_request writes the path as a string: patch its length to -1.
    const std::size_t at = 4 + 8;
    Bytes g(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(at));
    for (int i = 0; i < 4; ++i)
      g.push_back(0xff);
    g.insert(g.end(), f.begin() + static_cast<std::ptrdiff_t>(at + 4 + 2), f.end());
    const auto len = static_cast<std::uint32_t>(g.size() - 4);
    g[0] = static_cast<std::uint8_t>(len >> 24);
    g[1] = static_cast<std::uint8_t>(len >> 16);
    g[2] = static_cast<std::uint8_t>(len >> 8);
    g[3] = static_cast<std::uint8_t>(len);
    Effects fx = frame(g);
    EXPECT_TRUE(fx.to_node.empty());
    EXPECT_FALSE(fx.close);
    auto rs = replies_of(fx.to_client, {type});
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].err, err);
  }
}

TEST_F(TranslatorTest, NulInsideAPathReachesTheNode) {
  connect();
  Native n = send(req(1, op::kCreate, std::string("/b\0c", 4)));
  auto p = n.request().getOp().getCreate().getPath();
  EXPECT_EQ(std::string(p.begin(), p.size()), std::string("/b\0c", 4));
}

TEST_F(TranslatorTest, AddWatchWithAnUnknownModeIsAMarshallingError) {
  connect();
  Request r = req(1, op::kAddWatch);
  r.mode = 2;
  Bytes f;
  encode_request(r, &f);
  Effects fx = frame(f);
  EXPECT_TRUE(fx.to_node.empty());
  EXPECT_FALSE(fx.close);
  auto rs = replies_of(fx.to_client, {op::kAddWatch});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].err, -5);
}

// ---------------------------------------------------------------- §2.4, §2.5 xids and order

TEST_F(TranslatorTest, NativeXidsAreOwnAndRepliesKeepJuteXids) {
  connect();
  std::vector<Native> sent;
  for (std::int32_t x : {5, 5, 100, 3})
    sent.push_back(send(req(x, op::kGetData)));
  EXPECT_EQ(sent[0].request().getXid(), 1);
  EXPECT_EQ(sent[1].request().getXid(), 2);
  EXPECT_EQ(sent[3].request().getXid(), 4);
  EXPECT_EQ(t.pending(), 4u);
  std::vector<std::int32_t> got;
  for (auto& n : sent)
    got.push_back(answer(n, op::kGetData, -101).xid);
  EXPECT_EQ(got, (std::vector<std::int32_t>{5, 5, 100, 3}));
  EXPECT_EQ(t.pending(), 0u);
}

TEST_F(TranslatorTest, PingIsOutsideTheFifo) {
  connect();
  Native g = send(req(1, op::kGetData));
  Native p = send(req(xid::kPing, op::kPing, ""));
  EXPECT_TRUE(p.request().getOp().isPing());
  EXPECT_EQ(p.request().getXid(), xid::kPing);
  EXPECT_EQ(t.pending(), 1u);
  Effects fx = server(response_msg(xid::kPing, 0x99, 0));
  auto rs = replies_of(fx.to_client, {});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].xid, xid::kPing);
  EXPECT_EQ(rs[0].zxid, 0x99);
  EXPECT_EQ(t.pending(), 1u);
  EXPECT_EQ(answer(g, op::kGetData, -101).xid, 1);
}

TEST_F(TranslatorTest, OutOfOrderNodeReplyCloses) {
  connect();
  send(req(1, op::kGetData));
  Native second = send(req(2, op::kGetData));
  Effects fx = server(response_msg(second.request().getXid(), 1, 0));
  EXPECT_TRUE(fx.close);
}

TEST_F(TranslatorTest, LocalAnswersWaitForEarlierReplies) {
  connect();
  Native first = send(req(1, op::kGetData));
  // reconfig, sasl and an unknown opcode are answered here, but after request 1 (§2.5).
  Request reconfig = req(2, op::kReconfig, "");
  Request sasl = req(3, op::kSasl, "");
  Request unknown = req(4, 77, "");
  for (const Request& r : {reconfig, sasl, unknown}) {
    Bytes f;
    encode_request(r, &f);
    Effects fx = frame(f);
    EXPECT_TRUE(fx.to_node.empty());
    EXPECT_TRUE(fx.to_client.empty());
    EXPECT_FALSE(fx.close);
  }
  // After an unknown opcode no further frame is read (ZooKeeper closes the connection).
  EXPECT_FALSE(t.accepts_frames());
  Effects fx = server(response_msg(first.request().getXid(), 6, -101));
  auto rs = replies_of(fx.to_client, {op::kGetData, op::kReconfig, op::kSasl, 77});
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_EQ(rs[0].xid, 1);
  EXPECT_EQ(rs[1].xid, 2);
  EXPECT_EQ(rs[1].err, -123);  // RECONFIGDISABLED
  EXPECT_EQ(rs[2].err, -6);    // UNIMPLEMENTED
  EXPECT_EQ(rs[3].xid, 4);
  EXPECT_EQ(rs[3].err, -6);
  EXPECT_EQ(rs[3].zxid, -1);  // as ZooKeeper's
  EXPECT_TRUE(fx.close);      // then the connection is closed
}

TEST_F(TranslatorTest, MalformedBodyGetsMarshallingError) {
  connect();
  // getData with a path length beyond the frame.
  Bytes f = {0, 0, 0, 13, 0, 0, 0, 9, 0, 0, 0, 4, 0x7f, 0xff, 0xff, 0xff, '/'};
  Effects fx = frame(f);
  EXPECT_FALSE(fx.close);
  EXPECT_TRUE(fx.to_node.empty());
  auto rs = replies_of(fx.to_client, {op::kGetData});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].xid, 9);
  EXPECT_EQ(rs[0].err, -5);
  // A negative string length other than -1.
  Bytes g = {0, 0, 0, 13, 0, 0, 0, 10, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xf0, 0};
  fx = frame(g);
  rs = replies_of(fx.to_client, {op::kGetData});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].err, -5);
}

TEST_F(TranslatorTest, FrameShorterThanAHeaderCloses) {
  connect();
  Bytes f = {0, 0, 0, 3, 0, 0, 1};
  EXPECT_TRUE(frame(f).close);
  // And input after a close is ignored.
  Bytes g;
  encode_request(req(1, op::kGetData), &g);
  Effects fx = frame(g);
  EXPECT_TRUE(fx.to_node.empty());
}

TEST_F(TranslatorTest, TooManyPendingCloses) {
  connect();
  for (int i = 0; i < 100; ++i)
    send(req(i + 1, op::kGetData));
  Bytes f;
  encode_request(req(101, op::kGetData), &f);
  Effects fx = frame(f);
  EXPECT_TRUE(fx.close);
  EXPECT_TRUE(fx.to_node.empty());
}

TEST_F(TranslatorTest, NotificationBecomesWatcherEvent) {
  connect();
  capnp::MallocMessageBuilder m;
  auto n = m.initRoot<proto::ServerMessage>().initNotification();
  n.setType(4);
  n.setState(3);
  n.setPath("/parent");
  n.setZxid(0x200000004);
  Effects fx = server(to_bytes(m));
  auto rs = replies_of(fx.to_client, {});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].xid, -1);
  EXPECT_EQ(rs[0].zxid, -1);  // ZooKeeper's notifications carry zxid -1
  EXPECT_EQ(rs[0].event_type, 4);
  EXPECT_EQ(rs[0].event_state, 3);
  EXPECT_EQ(rs[0].path, "/parent");
}

TEST_F(TranslatorTest, GarbageFromTheNodeCloses) {
  connect();
  Bytes junk = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_TRUE(server(junk).close);
}

TEST_F(TranslatorTest, LatencyAndCounters) {
  connect();
  Native n = send(req(1, op::kGetData));
  now += 250;
  answer(n, op::kGetData, -101);
  EXPECT_EQ(t.stats().last_latency_us, 250);
  EXPECT_EQ(t.stats().min_latency_us, 250);
  EXPECT_EQ(t.stats().packets_received, 2u);  // connect + getData
  EXPECT_EQ(t.stats().packets_sent, 2u);
  EXPECT_STREQ(t.stats().last_op, "getData");
}

}  // namespace
