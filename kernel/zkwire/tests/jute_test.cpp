// The jute encoding and framing (reference/zookeeper.md §2.1, §2.2) and the record codec of
// every opcode (§1.1, §2.3, §2.6, §2.7), both directions; malformed input fails cleanly.
#include <gtest/gtest.h>

#include "quorumlab/zkwire/jute.hpp"
#include "quorumlab/zkwire/records.hpp"

using namespace quorumlab;
using namespace quorumlab::zkwire;

namespace {

Bytes hexbytes(std::initializer_list<int> v) {
  Bytes b;
  for (int x : v)
    b.push_back(static_cast<std::uint8_t>(x));
  return b;
}

sm::Stat sample_stat(std::int64_t base) {
  sm::Stat s;
  s.czxid = base + 1;
  s.mzxid = base + 2;
  s.ctime = 1700000000000 + base;
  s.mtime = 1700000000001 + base;
  s.version = 3;
  s.cversion = -4;
  s.aversion = 5;
  s.ephemeralOwner = 0x0102030405060708;
  s.dataLength = 9;
  s.numChildren = 10;
  s.pzxid = base + 11;
  return s;
}

/// Strips the 4-byte length of one frame and checks it matches.
Bytes payload_of(const Bytes& frame) {
  EXPECT_GE(frame.size(), 4u);
  EXPECT_EQ(static_cast<std::size_t>(load_be32(frame.data())), frame.size() - 4);
  return Bytes(frame.begin() + 4, frame.end());
}

Request decode_request(const Bytes& frame) {
  Bytes p = payload_of(frame);
  JuteReader in(p.data(), p.size(), 1 << 20);
  Request r;
  decode_request_header(in, &r);
  decode_request_body(in, &r);
  EXPECT_TRUE(in.at_end()) << op_name(r.type);
  return r;
}

Request round_trip(const Request& r) {
  Bytes frame;
  encode_request(r, &frame);
  return decode_request(frame);
}

Reply reply_round_trip(const Reply& r) {
  Bytes frame;
  encode_reply(r, &frame);
  Bytes p = payload_of(frame);
  return decode_reply(p.data(), p.size(), r.type);
}

}  // namespace

// ---------------------------------------------------------------- §2.1 primitives

TEST(Jute, PrimitivesAreBigEndian) {
  Bytes out;
  JuteWriter w(&out);
  w.write_int(0x01020304);
  w.write_long(-2);
  w.write_bool(true);
  w.write_string("ab");
  w.write_null();
  EXPECT_EQ(out, hexbytes({1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
                           1, 0, 0, 0, 2,    'a',  'b',  0xff, 0xff, 0xff, 0xff}));
  JuteReader r(out.data(), out.size());
  EXPECT_EQ(r.read_int("i"), 0x01020304);
  EXPECT_EQ(r.read_long("l"), -2);
  EXPECT_TRUE(r.read_bool("b"));
  EXPECT_EQ(r.read_string("s"), "ab");
  bool was_null = false;
  EXPECT_EQ(r.read_buffer("n", &was_null), Bytes());
  EXPECT_TRUE(was_null);
  EXPECT_TRUE(r.at_end());
}

TEST(Jute, AnyNonZeroByteIsTrue) {
  Bytes b = {7};
  JuteReader r(b.data(), b.size());
  EXPECT_TRUE(r.read_bool("b"));
}

TEST(Jute, TruncatedValuesThrow) {
  Bytes b = {0, 0, 1};
  EXPECT_THROW(JuteReader(b.data(), b.size()).read_int("i"), JuteError);
  EXPECT_THROW(JuteReader(b.data(), b.size()).read_long("l"), JuteError);
  Bytes empty;
  EXPECT_THROW(JuteReader(empty.data(), 0).read_bool("b"), JuteError);
}

TEST(Jute, StringLengthsAreChecked) {
  // Negative other than -1.
  Bytes neg = hexbytes({0xff, 0xff, 0xff, 0xfe});
  EXPECT_THROW(JuteReader(neg.data(), neg.size()).read_string("s"), JuteError);
  // Longer than the bytes left: no allocation of the claimed size.
  Bytes huge = hexbytes({0x7f, 0xff, 0xff, 0xff, 'x'});
  EXPECT_THROW(JuteReader(huge.data(), huge.size()).read_string("s"), JuteError);
  EXPECT_THROW(JuteReader(huge.data(), huge.size()).read_buffer("b"), JuteError);
  // Within the record but above the configured limit (jute.maxbuffer).
  Bytes five = hexbytes({0, 0, 0, 5, 'a', 'b', 'c', 'd', 'e'});
  EXPECT_THROW(JuteReader(five.data(), five.size(), 4).read_string("s"), JuteError);
  EXPECT_EQ(JuteReader(five.data(), five.size(), 5).read_string("s"), "abcde");
}

TEST(Jute, VectorCountsCannotExceedTheRecord) {
  // 1,000,000 strings claimed in an 8-byte record.
  Bytes b = hexbytes({0, 0x0f, 0x42, 0x40, 0, 0, 0, 0});
  EXPECT_THROW(JuteReader(b.data(), b.size()).read_count("v", 4), JuteError);
  Bytes neg = hexbytes({0x80, 0, 0, 0});
  EXPECT_THROW(JuteReader(neg.data(), neg.size()).read_count("v", 4), JuteError);
  Bytes null_vec = hexbytes({0xff, 0xff, 0xff, 0xff});
  EXPECT_EQ(JuteReader(null_vec.data(), null_vec.size()).read_count("v", 4), 0u);
}

// ---------------------------------------------------------------- §2.2 framing

TEST(Framing, SplitsFramesAcrossArbitraryChunks) {
  Bytes stream;
  JuteWriter w(&stream);
  for (int i = 0; i < 3; ++i) {
    auto f = w.begin_frame();
    for (int j = 0; j <= i; ++j)
      w.write_int(i);
    w.end_frame(f);
  }
  FrameBuffer fb(1024);
  std::vector<std::size_t> sizes;
  for (std::uint8_t byte : stream) {
    fb.append(&byte, 1);
    const std::uint8_t* p = nullptr;
    std::size_t n = 0;
    while (fb.next(&p, &n) == FrameBuffer::Status::kFrame)
      sizes.push_back(n);
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{4, 8, 12}));
  EXPECT_EQ(fb.buffered(), 0u);
}

TEST(Framing, NegativeAndOversizeLengthsAreRejected) {
  for (auto bytes :
       {hexbytes({0xff, 0xff, 0xff, 0xff}), hexbytes({0x80, 0, 0, 0}), hexbytes({0, 0, 4, 1})}) {
    FrameBuffer fb(1024);
    fb.append(bytes.data(), bytes.size());
    const std::uint8_t* p = nullptr;
    std::size_t n = 0;
    std::int64_t bad = 0;
    EXPECT_EQ(fb.next(&p, &n, &bad), FrameBuffer::Status::kBadLength);
    EXPECT_EQ(bad, load_be32(bytes.data()));
  }
  // Exactly the limit is fine (ZooKeeper rejects len > jute.maxbuffer only).
  FrameBuffer fb(4);
  Bytes ok = hexbytes({0, 0, 0, 4, 1, 2, 3, 4});
  fb.append(ok.data(), ok.size());
  const std::uint8_t* p = nullptr;
  std::size_t n = 0;
  EXPECT_EQ(fb.next(&p, &n), FrameBuffer::Status::kFrame);
  EXPECT_EQ(n, 4u);
}

TEST(Framing, ZeroLengthFrameIsAFrame) {
  FrameBuffer fb(16);
  Bytes z = hexbytes({0, 0, 0, 0});
  fb.append(z.data(), z.size());
  const std::uint8_t* p = nullptr;
  std::size_t n = 7;
  EXPECT_EQ(fb.next(&p, &n), FrameBuffer::Status::kFrame);
  EXPECT_EQ(n, 0u);
}

// ---------------------------------------------------------------- §2.3 handshake records

TEST(Connect, RequestWithAndWithoutReadOnlyByte) {
  ConnectRequest c;
  c.last_zxid_seen = 0x100000005;
  c.timeout_ms = 30000;
  c.session_id = 0x7700000000000001;
  c.passwd = Bytes(16, 9);
  Bytes frame;
  encode_connect_request(c, &frame);
  EXPECT_EQ(frame.size(), 4u + 4 + 8 + 4 + 8 + 4 + 16);  // the 3.3 layout, 44-byte payload
  Bytes p = payload_of(frame);
  ConnectRequest d = decode_connect_request(p.data(), p.size(), 1 << 20);
  EXPECT_EQ(d.last_zxid_seen, c.last_zxid_seen);
  EXPECT_EQ(d.timeout_ms, 30000);
  EXPECT_EQ(d.session_id, c.session_id);
  EXPECT_EQ(d.passwd, c.passwd);
  EXPECT_FALSE(d.read_only.has_value());

  c.read_only = true;
  frame.clear();
  encode_connect_request(c, &frame);
  p = payload_of(frame);
  d = decode_connect_request(p.data(), p.size(), 1 << 20);
  ASSERT_TRUE(d.read_only.has_value());
  EXPECT_TRUE(*d.read_only);
}

TEST(Connect, TruncatedRequestThrows) {
  ConnectRequest c;
  Bytes frame;
  encode_connect_request(c, &frame);
  Bytes p = payload_of(frame);
  for (std::size_t cut = 0; cut < p.size(); ++cut) {
    EXPECT_THROW(decode_connect_request(p.data(), cut, 1 << 20), JuteError) << cut;
  }
}

TEST(Connect, ResponseMirrorsReadOnlyPresence) {
  ConnectResponse r;
  r.timeout_ms = 4000;
  r.session_id = 42;
  Bytes frame;
  encode_connect_response(r, &frame);
  EXPECT_EQ(frame.size(), 4u + 4 + 4 + 8 + 4 + 16);
  r.read_only = false;
  Bytes frame2;
  encode_connect_response(r, &frame2);
  EXPECT_EQ(frame2.size(), frame.size() + 1);
  Bytes p = payload_of(frame2);
  ConnectResponse d = decode_connect_response(p.data(), p.size());
  EXPECT_EQ(d.timeout_ms, 4000);
  EXPECT_EQ(d.session_id, 42);
  ASSERT_TRUE(d.read_only.has_value());
  EXPECT_FALSE(*d.read_only);
}

// ---------------------------------------------------------------- §1.1 requests, every opcode

TEST(Requests, ExactBytesOfGetData) {
  Request r;
  r.xid = 7;
  r.type = op::kGetData;
  r.path = "/a";
  r.watch = true;
  Bytes frame;
  encode_request(r, &frame);
  EXPECT_EQ(frame, hexbytes({0, 0, 0, 15, 0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0, 2, '/', 'a', 1}));
}

TEST(Requests, EveryOpcodeRoundTrips) {
  sm::AclList acl = {{31, {"world", "anyone"}}, {1, {"digest", "u:hash"}}};
  std::vector<Request> all;
  auto add = [&all](std::int32_t type) -> Request& {
    all.emplace_back();
    all.back().xid = static_cast<std::int32_t>(all.size());
    all.back().type = type;
    all.back().path = "/p" + std::to_string(type);
    return all.back();
  };
  for (auto t : {op::kCreate, op::kCreate2, op::kCreateContainer, op::kCreateTtl}) {
    Request& r = add(t);
    r.data = {1, 2, 3};
    r.acl = acl;
    r.flags = t == op::kCreateTtl ? 5 : 3;
    r.ttl = t == op::kCreateTtl ? 12345 : 0;
  }
  add(op::kDelete).version = 4;
  add(op::kCheck).version = -1;
  for (auto t : {op::kExists, op::kGetData, op::kGetChildren, op::kGetChildren2})
    add(t).watch = true;
  {
    Request& r = add(op::kSetData);
    r.data = Bytes(100, 7);
    r.version = 2;
  }
  {
    Request& r = add(op::kSetAcl);
    r.acl = acl;
    r.version = 1;
  }
  for (auto t : {op::kGetAcl, op::kSync, op::kGetEphemerals, op::kGetAllChildrenNumber})
    add(t);
  add(op::kCheckWatches).mode = 1;
  add(op::kRemoveWatches).mode = 3;
  add(op::kAddWatch).mode = 1;
  for (auto t : {op::kSetWatches, op::kSetWatches2}) {
    Request& r = add(t);
    r.path.clear();
    r.set_watches.relative_zxid = 99;
    r.set_watches.data = {"/d1", "/d2"};
    r.set_watches.exist = {"/e"};
    r.set_watches.child = {};
    if (t == op::kSetWatches2) {
      r.set_watches.persistent = {"/p"};
      r.set_watches.persistent_recursive = {"/r", "/s"};
    }
  }
  {
    Request& r = add(op::kAuth);
    r.path.clear();
    r.scheme = "digest";
    r.data = {'u', ':', 'p'};
  }
  {
    Request& r = add(op::kSasl);
    r.path.clear();
    r.data = {0, 1};
  }
  {
    Request& r = add(op::kReconfig);
    r.path.clear();
    r.joining = "server.4=h:1:2;3";
    r.leaving = "2";
    r.new_members = "";
    r.ttl = -1;
  }
  for (auto t : {op::kPing, op::kWhoAmI, op::kCloseSession})
    add(t).path.clear();
  {
    Request& m = add(op::kMulti);
    m.path.clear();
    Request c;
    c.type = op::kCreate;
    c.path = "/m/c";
    c.acl = acl;
    Request d;
    d.type = op::kDelete;
    d.path = "/m/d";
    d.version = 3;
    Request s;
    s.type = op::kSetData;
    s.path = "/m/s";
    s.data = {5};
    Request k;
    k.type = op::kCheck;
    k.path = "/m/k";
    k.version = 8;
    Request t;
    t.type = op::kCreateTtl;
    t.path = "/m/t";
    t.flags = 5;
    t.ttl = 1000;
    m.ops = {c, d, s, k, t};
  }
  {
    Request& m = add(op::kMultiRead);
    m.path.clear();
    Request g;
    g.type = op::kGetData;
    g.path = "/g";
    Request c;
    c.type = op::kGetChildren;
    c.path = "/c";
    m.ops = {g, c};
  }
  for (const Request& r : all) {
    SCOPED_TRACE(op_name(r.type));
    Request d = round_trip(r);
    EXPECT_EQ(d.xid, r.xid);
    EXPECT_EQ(d.type, r.type);
    EXPECT_EQ(d.path, r.path);
    EXPECT_EQ(d.data, r.data);
    EXPECT_EQ(d.acl, r.acl);
    EXPECT_EQ(d.flags, r.flags);
    EXPECT_EQ(d.ttl, r.ttl);
    EXPECT_EQ(d.watch, r.watch);
    EXPECT_EQ(d.mode, r.mode);
    EXPECT_EQ(d.scheme, r.scheme);
    EXPECT_EQ(d.joining, r.joining);
    EXPECT_EQ(d.leaving, r.leaving);
    EXPECT_EQ(d.set_watches.relative_zxid, r.set_watches.relative_zxid);
    EXPECT_EQ(d.set_watches.data, r.set_watches.data);
    EXPECT_EQ(d.set_watches.exist, r.set_watches.exist);
    EXPECT_EQ(d.set_watches.persistent, r.set_watches.persistent);
    EXPECT_EQ(d.set_watches.persistent_recursive, r.set_watches.persistent_recursive);
    if (r.type != op::kCreate && r.type != op::kCreate2 && r.type != op::kCreateContainer &&
        r.type != op::kCreateTtl) {
      EXPECT_EQ(d.version, r.version);
    }
    ASSERT_EQ(d.ops.size(), r.ops.size());
    for (std::size_t i = 0; i < r.ops.size(); ++i) {
      EXPECT_EQ(d.ops[i].type, r.ops[i].type);
      EXPECT_EQ(d.ops[i].path, r.ops[i].path);
      EXPECT_EQ(d.ops[i].version, r.ops[i].version);
      EXPECT_EQ(d.ops[i].ttl, r.ops[i].ttl);
    }
  }
}

TEST(Requests, MultiHeaderLayout) {
  // §2.7: MultiHeader{type, done, err} per op, then {-1, true, -1}.
  Request m;
  m.xid = 1;
  m.type = op::kMulti;
  Request d;
  d.type = op::kDelete;
  d.path = "/x";
  d.version = -1;
  m.ops = {d};
  Bytes frame;
  encode_request(m, &frame);
  EXPECT_EQ(payload_of(frame),
            hexbytes({0,    0,    0,    1,    0,   0,    0,    14,          // header
                      0,    0,    0,    2,    0,   0xff, 0xff, 0xff, 0xff,  // MultiHeader delete
                      0,    0,    0,    2,    '/', 'x',  0xff, 0xff, 0xff, 0xff,  // DeleteRequest
                      0xff, 0xff, 0xff, 0xff, 1,   0xff, 0xff, 0xff, 0xff}));
}

TEST(Requests, MalformedBodiesThrowJuteError) {
  Request r;
  r.xid = 1;
  r.type = op::kCreate;
  r.path = "/a";
  r.acl = {{31, {"world", "anyone"}}};
  Bytes frame;
  encode_request(r, &frame);
  Bytes p = payload_of(frame);
  for (std::size_t cut = 8; cut < p.size(); ++cut) {
    JuteReader in(p.data(), cut);
    Request d;
    decode_request_header(in, &d);
    EXPECT_THROW(decode_request_body(in, &d), JuteError) << cut;
  }
}

TEST(Requests, MultiWithANestedMultiOrUnknownOpIsRejected) {
  for (std::int32_t bad : {op::kMulti, op::kPing, 999, op::kSetWatches}) {
    Bytes body;
    JuteWriter w(&body);
    w.write_int(1);
    w.write_int(op::kMulti);
    w.write_int(bad);
    w.write_bool(false);
    w.write_int(-1);
    w.write_int(-1);
    w.write_bool(true);
    w.write_int(-1);
    JuteReader in(body.data(), body.size());
    Request d;
    decode_request_header(in, &d);
    EXPECT_THROW(decode_request_body(in, &d), JuteError) << bad;
  }
}

TEST(Requests, UnterminatedMultiThrows) {
  Bytes body;
  JuteWriter w(&body);
  w.write_int(1);
  w.write_int(op::kMulti);
  JuteReader in(body.data(), body.size());
  Request d;
  decode_request_header(in, &d);
  EXPECT_THROW(decode_request_body(in, &d), JuteError);
}

TEST(Requests, UnknownOpcodeHasNoBody) {
  EXPECT_FALSE(known_request_type(10));
  EXPECT_FALSE(known_request_type(op::kDeleteContainer));
  EXPECT_FALSE(known_request_type(12345));
  Bytes none;
  JuteReader in(none.data(), 0);
  Request d;
  d.type = 12345;
  EXPECT_THROW(decode_request_body(in, &d), std::invalid_argument);
}

// ---------------------------------------------------------------- §1.1 replies, every opcode

TEST(Replies, HeaderOnlyOnError) {
  Reply r;
  r.xid = 5;
  r.zxid = 0x200000001;
  r.err = -101;
  r.type = op::kGetData;
  r.data = {1, 2, 3};
  Bytes frame;
  encode_reply(r, &frame);
  EXPECT_EQ(frame.size(), 4u + 16);
}

TEST(Replies, EveryOpcodeRoundTrips) {
  const sm::Stat st = sample_stat(100);
  auto check = [&](Reply r, auto&& verify) {
    SCOPED_TRACE(op_name(r.type));
    r.xid = 3;
    r.zxid = 77;
    Reply d = reply_round_trip(r);
    EXPECT_EQ(d.xid, 3);
    EXPECT_EQ(d.zxid, 77);
    EXPECT_EQ(d.err, 0);
    verify(d);
  };
  for (auto t : {op::kCreate, op::kSync}) {
    Reply r;
    r.type = t;
    r.path = "/x0000000001";
    check(r, [](const Reply& d) { EXPECT_EQ(d.path, "/x0000000001"); });
  }
  for (auto t : {op::kCreate2, op::kCreateContainer, op::kCreateTtl}) {
    Reply r;
    r.type = t;
    r.path = "/c";
    r.stat = st;
    check(r, [&](const Reply& d) {
      EXPECT_EQ(d.path, "/c");
      EXPECT_EQ(d.stat, st);
    });
  }
  for (auto t : {op::kExists, op::kSetData, op::kSetAcl, op::kCheck}) {
    Reply r;
    r.type = t;
    r.stat = st;
    check(r, [&](const Reply& d) { EXPECT_EQ(d.stat, st); });
  }
  {
    Reply r;
    r.type = op::kGetData;
    r.data = {9, 8};
    r.stat = st;
    check(r, [&](const Reply& d) {
      EXPECT_EQ(d.data, (Bytes{9, 8}));
      EXPECT_EQ(d.stat, st);
    });
  }
  {
    Reply r;
    r.type = op::kGetAcl;
    r.acl = {{1, {"ip", "127.0.0.1"}}};
    r.stat = st;
    check(r, [&](const Reply& d) {
      EXPECT_EQ(d.acl, r.acl);
      EXPECT_EQ(d.stat, st);
    });
  }
  for (auto t : {op::kGetChildren, op::kGetEphemerals, op::kGetChildren2}) {
    Reply r;
    r.type = t;
    r.strings = {"a", "b", ""};
    r.stat = st;
    check(r, [&](const Reply& d) {
      EXPECT_EQ(d.strings, r.strings);
      if (t == op::kGetChildren2) {
        EXPECT_EQ(d.stat, st);
      }
    });
  }
  {
    Reply r;
    r.type = op::kGetChildren;
    r.strings = {"a"};
    Bytes frame;
    encode_reply(r, &frame);
    EXPECT_EQ(frame.size(), 4u + 16 + 4 + 4 + 1);  // no Stat in GetChildrenResponse
  }
  for (auto t : {op::kGetAllChildrenNumber, op::kAddWatch}) {
    Reply r;
    r.type = t;
    r.number = t == op::kAddWatch ? 0 : 12;
    check(r, [&](const Reply& d) { EXPECT_EQ(d.number, r.number); });
    Bytes frame;
    encode_reply(r, &frame);
    EXPECT_EQ(frame.size(), 4u + 16 + 4);  // one int after the header
  }
  {
    Reply r;
    r.type = op::kWhoAmI;
    r.client_info = {{"ip", "127.0.0.1"}, {"digest", "u"}};
    check(r, [](const Reply& d) {
      ASSERT_EQ(d.client_info.size(), 2u);
      EXPECT_EQ(d.client_info[1].auth_scheme, "digest");
      EXPECT_EQ(d.client_info[1].user, "u");
    });
  }
  for (auto t : {op::kDelete, op::kCheckWatches, op::kRemoveWatches, op::kCloseSession}) {
    Reply r;
    r.type = t;
    Bytes frame;
    encode_reply(r, &frame);
    EXPECT_EQ(frame.size(), 4u + 16) << op_name(t);
  }
}

TEST(Replies, MultiResultsPerSection2_7) {
  const sm::Stat st = sample_stat(7);
  Reply r;
  r.xid = 9;
  r.type = op::kMulti;
  MultiResult c;
  c.type = op::kCreate;
  c.path = "/a";
  MultiResult c2;
  c2.type = op::kCreate2;
  c2.path = "/b";
  c2.stat = st;
  MultiResult d;
  d.type = op::kDelete;
  MultiResult s;
  s.type = op::kSetData;
  s.stat = st;
  MultiResult k;
  k.type = op::kCheck;
  MultiResult e;
  e.type = op::kError;
  e.err = -101;
  r.results = {c, c2, d, s, k, e};
  Reply out = reply_round_trip(r);
  ASSERT_EQ(out.results.size(), 6u);
  EXPECT_EQ(out.results[0].path, "/a");
  EXPECT_EQ(out.results[1].stat, st);
  EXPECT_EQ(out.results[2].type, op::kDelete);
  EXPECT_EQ(out.results[3].stat, st);
  EXPECT_EQ(out.results[4].type, op::kCheck);
  EXPECT_EQ(out.results[5].type, op::kError);
  EXPECT_EQ(out.results[5].err, -101);

  // The error entry: MultiHeader{-1, false, err} then ErrorResponse{err}; the end marker.
  Reply only_error;
  only_error.type = op::kMulti;
  only_error.results = {e};
  Bytes frame;
  encode_reply(only_error, &frame);
  Bytes p = payload_of(frame);
  EXPECT_EQ(Bytes(p.begin() + 16, p.end()),
            hexbytes({0xff, 0xff, 0xff, 0xff, 0,    0xff, 0xff, 0xff, 0x9b, 0xff, 0xff,
                      0xff, 0x9b, 0xff, 0xff, 0xff, 0xff, 1,    0xff, 0xff, 0xff, 0xff}));
}

TEST(Replies, MultiReadResults) {
  Reply r;
  r.type = op::kMultiRead;
  MultiResult g;
  g.type = op::kGetData;
  g.data = {1};
  g.stat = sample_stat(1);
  MultiResult c;
  c.type = op::kGetChildren;
  c.children = {"x", "y"};
  MultiResult e;
  e.type = op::kError;
  e.err = -102;
  r.results = {g, c, e};
  Reply out = reply_round_trip(r);
  ASSERT_EQ(out.results.size(), 3u);
  EXPECT_EQ(out.results[0].data, Bytes{1});
  EXPECT_EQ(out.results[1].children, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(out.results[2].err, -102);
}

TEST(Replies, NotificationIsAWatcherEvent) {
  Reply n;
  n.xid = xid::kNotification;
  n.zxid = -1;
  n.type = op::kNotification;
  n.event_type = 3;
  n.event_state = 3;
  n.path = "/w";
  Bytes frame;
  encode_reply(n, &frame);
  EXPECT_EQ(payload_of(frame),
            hexbytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                      0xff, 0xff, 0,    0,    0,    0,    0,    0,    0,    3,
                      0,    0,    0,    3,    0,    0,    0,    2,    '/',  'w'}));
  Bytes p = payload_of(frame);
  Reply d = decode_reply(p.data(), p.size(), op::kGetData);
  EXPECT_EQ(d.type, op::kNotification);
  EXPECT_EQ(d.event_type, 3);
  EXPECT_EQ(d.path, "/w");
}

TEST(Replies, TruncatedBodiesThrow) {
  Reply r;
  r.xid = 1;
  r.type = op::kGetData;
  r.data = {1, 2, 3};
  Bytes frame;
  encode_reply(r, &frame);
  Bytes p = payload_of(frame);
  for (std::size_t cut = 0; cut < p.size(); ++cut) {
    EXPECT_THROW(decode_reply(p.data(), cut, op::kGetData), JuteError) << cut;
  }
}
