// §1.7 ACLs: SHA-1/base64 digest ids, addauth, fixupACL, checkACL, ip matching, masking.
#include <gtest/gtest.h>

#include "quorumlab/sm/acl.hpp"
#include "quorumlab/sm/crypto.hpp"

namespace quorumlab::sm {

namespace {

std::string hex(const Sha1Digest& d) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : d) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string b64(std::string_view s) {
  return base64_encode(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

}  // namespace

TEST(CryptoTest, Sha1KnownVectors) {
  EXPECT_EQ(hex(sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex(sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  // Padding boundaries: 55, 56 and 64 bytes; and a multi-block input.
  EXPECT_EQ(hex(sha1(std::string(55, 'a'))), "c1c8bbdc22796e28c0e15163d20899b65621d65a");
  EXPECT_EQ(hex(sha1(std::string(56, 'a'))), "c2db330f6083854c99d4b5bfb6e8f29f201be699");
  EXPECT_EQ(hex(sha1(std::string(64, 'a'))), "0098ba824b5c16427bd7a1122a5a442a25ec644d");
  EXPECT_EQ(hex(sha1(std::string(1000, 'a'))), "291e9a6c66994949b57ba5e650361e98fc36b1ba");
}

TEST(CryptoTest, Base64Rfc4648Vectors) {
  EXPECT_EQ(b64(""), "");
  EXPECT_EQ(b64("f"), "Zg==");
  EXPECT_EQ(b64("fo"), "Zm8=");
  EXPECT_EQ(b64("foo"), "Zm9v");
  EXPECT_EQ(b64("foob"), "Zm9vYg==");
  EXPECT_EQ(b64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(b64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(b64("\xFB\xFF"), "+/8=");
}

TEST(AclTest, Ref1_7_DigestIdIsUserColonBase64Sha1) {
  // The superDigest example of ZooKeeper's admin guide.
  EXPECT_EQ(digest_id("super", "test"), "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
  EXPECT_EQ(digest_id("bob", "secret"), "bob:fyVmFCwVbTJYrznoSu1koqYEYF0=");
  EXPECT_EQ(generate_digest("bob:secret"), digest_id("bob", "secret"));
  EXPECT_EQ(generate_digest("nocolon"), "nocolon:Ra+cHr2ZoHvBjtNArFGNGlVie4g=");
}

TEST(AclTest, Ref1_7_AddAuthDigestAndSuper) {
  AuthInfo a;
  EXPECT_EQ(add_auth(&a, "digest", "bob:secret", "super:D/InIHSb7yEEbrWz8b9l71RjZJU="), Err::OK);
  EXPECT_FALSE(a.super);
  ASSERT_EQ(a.ids.size(), 1u);
  EXPECT_EQ(a.ids[0], (Id{"digest", "bob:fyVmFCwVbTJYrznoSu1koqYEYF0="}));
  EXPECT_EQ(add_auth(&a, "digest", "bob:secret", ""), Err::OK);
  EXPECT_EQ(a.ids.size(), 1u);  // no duplicates
  EXPECT_EQ(add_auth(&a, "digest", "super:test", "super:D/InIHSb7yEEbrWz8b9l71RjZJU="), Err::OK);
  EXPECT_TRUE(a.super);
  EXPECT_EQ(a.ids.size(), 2u);
  EXPECT_EQ(add_auth(&a, "sasl", "x", ""), Err::AUTHFAILED);
  EXPECT_EQ(add_auth(&a, "ip", "1.2.3.4", ""), Err::AUTHFAILED);
}

TEST(AclTest, Ref1_7_IpAclValidity) {
  for (const char* ok :
       {"10.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "255.255.255.255/32", "::1", "fe80::1/64",
        "2001:db8::/32", "::", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8/128"}) {
    EXPECT_TRUE(is_valid_ip_acl(ok)) << ok;
  }
  for (const char* bad :
       {"", "10.0.0", "10.0.0.256", "10.0.0.1/33", "10.0.0.1/", "10.0.0.1/x", "a.b.c.d",
        "1:2:3:4:5:6:7:8:9", "1::2::3", ":1", "1:2:3:4:5:6:7", "::1/129", "12345::", "10..0.1"}) {
    EXPECT_FALSE(is_valid_ip_acl(bad)) << bad;
  }
}

TEST(AclTest, Ref1_7_IpPrefixMatch) {
  EXPECT_TRUE(ip_matches("10.1.2.3", "10.0.0.0/8"));
  EXPECT_FALSE(ip_matches("11.1.2.3", "10.0.0.0/8"));
  EXPECT_TRUE(ip_matches("10.1.2.3", "10.1.2.3"));
  EXPECT_FALSE(ip_matches("10.1.2.4", "10.1.2.3"));
  EXPECT_TRUE(ip_matches("192.168.1.77", "192.168.1.64/26"));
  EXPECT_FALSE(ip_matches("192.168.1.128", "192.168.1.64/26"));
  EXPECT_TRUE(ip_matches("1.2.3.4", "0.0.0.0/0"));
  EXPECT_TRUE(ip_matches("2001:db8::5", "2001:db8::/32"));
  EXPECT_FALSE(ip_matches("2001:db9::5", "2001:db8::/32"));
  EXPECT_TRUE(ip_matches("::1", "::1"));
  EXPECT_TRUE(ip_matches("fe80::1%eth0", "fe80::/10"));
  EXPECT_FALSE(ip_matches("10.0.0.1", "::/0"));  // families never match
  EXPECT_FALSE(ip_matches("garbage", "10.0.0.0/8"));
}

TEST(AclTest, Ref1_7_DigestAclValidity) {
  EXPECT_TRUE(is_valid_digest_acl("user:hash"));
  EXPECT_TRUE(is_valid_digest_acl(":hash"));
  EXPECT_FALSE(is_valid_digest_acl("user"));
  EXPECT_FALSE(is_valid_digest_acl("user:"));
  EXPECT_FALSE(is_valid_digest_acl("a:b:c"));
  EXPECT_FALSE(is_valid_digest_acl(""));
  EXPECT_FALSE(is_valid_digest_acl(":"));
}

TEST(AclTest, Ref1_7_FixupRejectsEmptyAndUnknown) {
  AclList out;
  const AuthInfo none;
  EXPECT_EQ(fixup_acl({}, none, &out), Err::INVALIDACL);
  EXPECT_EQ(fixup_acl({{perms::kAll, {"world", "someone"}}}, none, &out), Err::INVALIDACL);
  EXPECT_EQ(fixup_acl({{perms::kAll, {"sasl", "x"}}}, none, &out), Err::INVALIDACL);
  EXPECT_EQ(fixup_acl({{perms::kAll, {"ip", "300.0.0.1"}}}, none, &out), Err::INVALIDACL);
  EXPECT_EQ(fixup_acl({{perms::kAll, {"digest", "nohash"}}}, none, &out), Err::INVALIDACL);
  EXPECT_EQ(fixup_acl({{perms::kAll, {"super", ""}}}, none, &out), Err::INVALIDACL);
}

TEST(AclTest, Ref1_7_FixupDedupesAndKeepsOrder) {
  AclList out;
  const AclList in = {{perms::kRead, {"ip", "10.0.0.0/8"}},
                      {perms::kAll, {"world", "anyone"}},
                      {perms::kRead, {"ip", "10.0.0.0/8"}}};
  ASSERT_EQ(fixup_acl(in, AuthInfo{}, &out), Err::OK);
  EXPECT_EQ(out, (AclList{in[0], in[1]}));
}

TEST(AclTest, Ref1_7_FixupAuthExpandsToDigestIds) {
  AclList out;
  EXPECT_EQ(fixup_acl(creator_all_acl(), AuthInfo{{{"ip", "127.0.0.1"}}, false}, &out),
            Err::INVALIDACL);  // ip ids are not authenticated
  AuthInfo a{{{"ip", "127.0.0.1"}, {"digest", "u1:h1"}, {"digest", "u2:h2"}}, false};
  ASSERT_EQ(fixup_acl({{perms::kRead | perms::kWrite, {"auth", "ignored"}}}, a, &out), Err::OK);
  EXPECT_EQ(out, (AclList{{3, {"digest", "u1:h1"}}, {3, {"digest", "u2:h2"}}}));
}

TEST(AclTest, Ref1_7_CheckAcl) {
  const AuthInfo anon{{{"ip", "10.1.1.1"}}, false};
  const AuthInfo bob{{{"ip", "192.168.0.1"}, {"digest", digest_id("bob", "pw")}}, false};
  const AclList bob_all = {{perms::kAll, {"digest", digest_id("bob", "pw")}}};
  EXPECT_TRUE(check_acl({}, perms::kAdmin, anon));  // empty list: everything allowed
  EXPECT_TRUE(check_acl(open_acl_unsafe(), perms::kDelete, anon));
  EXPECT_TRUE(check_acl(read_acl_unsafe(), perms::kRead, anon));
  EXPECT_FALSE(check_acl(read_acl_unsafe(), perms::kWrite, anon));
  EXPECT_FALSE(check_acl(bob_all, perms::kRead, anon));
  EXPECT_TRUE(check_acl(bob_all, perms::kRead, bob));
  EXPECT_TRUE(check_acl(bob_all, perms::kRead, AuthInfo{{}, true}));  // super
  const AclList net = {{perms::kRead, {"ip", "10.0.0.0/8"}}};
  EXPECT_TRUE(check_acl(net, perms::kRead, anon));
  EXPECT_FALSE(check_acl(net, perms::kWrite, anon));
  EXPECT_FALSE(check_acl(net, perms::kRead, bob));
  // READ|ADMIN (getACL) passes with either bit.
  EXPECT_TRUE(
      check_acl({{perms::kAdmin, {"ip", "10.0.0.0/8"}}}, perms::kRead | perms::kAdmin, anon));
}

TEST(AclTest, Ref1_1_GetAclMasksDigestIds) {
  const AclList in = {{perms::kAll, {"digest", "bob:fyVmFCwVbTJYrznoSu1koqYEYF0="}},
                      {perms::kRead, {"ip", "10.0.0.0/8"}}};
  const AclList masked = mask_digest_ids(in);
  EXPECT_EQ(masked[0].id.id, "bob:x");
  EXPECT_EQ(masked[1], in[1]);
}

}  // namespace quorumlab::sm
