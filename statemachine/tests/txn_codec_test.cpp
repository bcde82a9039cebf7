// Txn codec: round trips of every op kind and fuzz-style robustness (random bytes, every
// truncation, bit flips): decode must fail cleanly, never crash or over-allocate.
#include <gtest/gtest.h>

#include "quorumlab/rng.hpp"
#include "quorumlab/sm/txn.hpp"
#include "test_util.hpp"

namespace quorumlab::sm {

using testing::bytes;

namespace {

// A small deterministic generator (SplitMix64), independent of other modules.
struct Gen {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  std::string text() {
    std::string out(below(12), 'x');
    for (char& c : out)
      c = static_cast<char>(below(256));
    return out;
  }
  std::int32_t i32() { return static_cast<std::int32_t>(next()); }
  std::int64_t i64() { return below(3) == 0 ? -1 : static_cast<std::int64_t>(next()); }
  AclList acl() {
    AclList a(below(3));
    for (Acl& e : a)
      e = Acl{i32(), Id{text(), text()}};
    return a;
  }
  // One in four creates and setDatas carries null data (tags 10 and 11).
  CreateOp create() {
    const bool null = below(4) == 0;
    return CreateOp{text(), null ? Bytes() : bytes(text()), acl(), i32(), i64(), null};
  }
  SetDataOp set_data() {
    const bool null = below(4) == 0;
    return SetDataOp{text(), null ? Bytes() : bytes(text()), i32(), null};
  }
  MultiSubOp sub_op() {
    switch (below(4)) {
      case 0:
        return create();
      case 1:
        return DeleteOp{text(), i32()};
      case 2:
        return set_data();
      default:
        return CheckOp{text(), i32()};
    }
  }
  TxnOp op() {
    switch (below(10)) {
      case 0:
        return NoOp{};
      case 1:
        return create();
      case 2:
        return DeleteOp{text(), i32()};
      case 3:
        return set_data();
      case 4:
        return SetAclOp{text(), acl(), i32()};
      case 5:
        return CheckOp{text(), i32()};
      case 6: {
        MultiOp m;
        for (std::uint64_t i = below(5); i > 0; --i)
          m.ops.push_back(sub_op());
        return m;
      }
      case 7:
        return CreateSessionOp{i64(), i32()};
      case 8:
        return CloseSessionOp{i64()};
      default:
        return DeleteExpiredOp{text()};
    }
  }
  Txn txn() {
    Txn t;
    t.header.session_id = i64();
    t.header.cxid = i32();
    t.header.time_ms = i64();
    for (std::uint64_t i = below(3); i > 0; --i)
      t.header.auth.ids.push_back(Id{text(), text()});
    t.header.auth.super = below(2) == 1;
    t.op = op();
    return t;
  }
};

}  // namespace

TEST(TxnCodecTest, RoundTripsEveryOpKind) {
  Gen g{42};
  int kinds_seen[10] = {};
  for (int i = 0; i < 2000; ++i) {
    const Txn t = g.txn();
    kinds_seen[t.op.index()]++;
    const Bytes b = encode(t);
    std::string error;
    auto back = decode(b, &error);
    ASSERT_TRUE(back.has_value()) << "iteration " << i << ": " << error;
    EXPECT_TRUE(*back == t) << "iteration " << i;
    EXPECT_EQ(encode(*back), b);
  }
  for (int k : kinds_seen)
    EXPECT_GT(k, 0);
}

TEST(TxnCodecTest, NullDataHasItsOwnTagsAndDiffersFromEmpty) {
  const Txn empty{TxnHeader{}, CreateOp{"/a", {}, {}, 0, -1, false}};
  const Txn null{TxnHeader{}, CreateOp{"/a", {}, {}, 0, -1, true}};
  EXPECT_NE(encode(empty), encode(null));
  auto back = decode(encode(null), nullptr);
  ASSERT_TRUE(back);
  EXPECT_TRUE(std::get<CreateOp>(back->op).data_null);
  EXPECT_FALSE(std::get<CreateOp>(decode(encode(empty), nullptr)->op).data_null);
  const Txn set_null{TxnHeader{}, MultiOp{{SetDataOp{"/a", {}, 3, true}}}};
  back = decode(encode(set_null), nullptr);
  ASSERT_TRUE(back);
  EXPECT_TRUE(*back == set_null);
  EXPECT_FALSE(*back == (Txn{TxnHeader{}, MultiOp{{SetDataOp{"/a", {}, 3, false}}}}));
}

TEST(TxnCodecTest, ExtremeValuesRoundTrip) {
  Txn t;
  t.header = TxnHeader{INT64_MIN, INT32_MIN, INT64_MAX, AuthInfo{{}, true}};
  t.op = CreateOp{"/x", Bytes(100000, 0xAB), {{INT32_MAX, {"", ""}}}, INT32_MIN, INT64_MIN};
  auto back = decode(encode(t), nullptr);
  ASSERT_TRUE(back);
  EXPECT_TRUE(*back == t);
}

TEST(TxnCodecTest, EveryTruncationFails) {
  Gen g{7};
  for (int i = 0; i < 200; ++i) {
    const Bytes b = encode(g.txn());
    for (std::size_t len = 0; len < b.size(); ++len) {
      std::string error;
      EXPECT_FALSE(decode(b.data(), len, &error).has_value()) << "len " << len;
      EXPECT_FALSE(error.empty());
    }
  }
}

TEST(TxnCodecTest, TrailingBytesAndUnknownTagsFail) {
  Bytes b = encode(Txn{TxnHeader{}, NoOp{}});
  b.push_back(0);
  EXPECT_FALSE(decode(b, nullptr));
  Bytes bad_format = encode(Txn{TxnHeader{}, NoOp{}});
  bad_format[0] = 2;
  EXPECT_FALSE(decode(bad_format, nullptr));
  Bytes bad_tag = encode(Txn{TxnHeader{}, NoOp{}});
  bad_tag.back() = 99;
  EXPECT_FALSE(decode(bad_tag, nullptr));
  // A multi may not nest a multi or carry setACL.
  Bytes nested = encode(Txn{TxnHeader{}, MultiOp{{CheckOp{"/a", 1}}}});
  ASSERT_TRUE(decode(nested, nullptr));
  const std::size_t check_tag_at = nested.size() - 5;  // tag, len, '/', 'a', version
  ASSERT_EQ(nested[check_tag_at], 5);
  nested[check_tag_at] = 6;  // multi
  EXPECT_FALSE(decode(nested, nullptr));
  nested[check_tag_at] = 4;  // setACL
  EXPECT_FALSE(decode(nested, nullptr));
}

TEST(TxnCodecTest, HugeLengthsAreRejectedWithoutAllocating) {
  // Header claiming 2^62 auth ids, then nothing.
  Bytes b = {1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x3F};
  EXPECT_FALSE(decode(b, nullptr));
  // A create whose path length is 2^40.
  Bytes c = {1, 0, 0, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20};
  EXPECT_FALSE(decode(c, nullptr));
  // An overlong varint (11 bytes).
  Bytes d = {1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
  EXPECT_FALSE(decode(d, nullptr));
  // An int32 field holding a 64-bit value.
  Bytes e = {1, 0, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0, 0, 0, 0};
  EXPECT_FALSE(decode(e, nullptr));
}

TEST(TxnCodecTest, RandomGarbageNeverCrashes) {
  Gen g{99};
  int accepted = 0;
  for (int i = 0; i < 100000; ++i) {
    Bytes b(g.below(64));
    for (auto& x : b)
      x = static_cast<std::uint8_t>(g.next());
    if (!b.empty() && g.below(2)) b[0] = 1;  // get past the format byte half the time
    auto t = decode(b, nullptr);
    if (t) {
      ++accepted;
      EXPECT_EQ(encode(*t), b);  // anything accepted is canonical
    }
  }
  RecordProperty("accepted", accepted);
}

TEST(TxnCodecTest, BitFlipsOfValidTxnsNeverCrash) {
  Gen g{1234};
  for (int i = 0; i < 500; ++i) {
    const Bytes b = encode(g.txn());
    for (int flip = 0; flip < 40; ++flip) {
      Bytes m = b;
      m[g.below(m.size())] ^= static_cast<std::uint8_t>(1u << g.below(8));
      auto t = decode(m, nullptr);
      if (t) {
        EXPECT_EQ(encode(*t), m);
      }
    }
  }
}

TEST(TxnCodecTest, OpTypes) {
  EXPECT_EQ(op_type(TxnOp{MultiOp{}}), OpType::kMulti);
  EXPECT_EQ(op_type(TxnOp{CloseSessionOp{}}), OpType::kCloseSession);
  EXPECT_EQ(op_type(MultiSubOp{CheckOp{}}), OpType::kCheck);
  EXPECT_EQ(static_cast<int>(OpType::kCreateSession), -10);
}

}  // namespace quorumlab::sm
