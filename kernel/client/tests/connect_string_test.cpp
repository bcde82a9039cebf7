// Connection strings, path rules and the chroot mapping (reference §1.6, §1.14).
#include <gtest/gtest.h>

#include "quorumlab/client/client.hpp"
#include "quorumlab/client/connect_string.hpp"

namespace quorumlab::client {
namespace {

TEST(ConnectString, ParsesHostsAndChroot) {
  auto cs = ConnectString::parse("127.0.0.1:2181,zk2:2182/app/a");
  ASSERT_TRUE(cs);
  ASSERT_EQ(cs->hosts.size(), 2u);
  EXPECT_EQ(cs->hosts[0].host, "127.0.0.1");
  EXPECT_EQ(cs->hosts[0].port, 2181);
  EXPECT_EQ(cs->hosts[1].endpoint(), "tcp://zk2:2182");
  EXPECT_EQ(cs->chroot, "/app/a");
}

TEST(ConnectString, RootChrootMeansNone) {
  auto cs = ConnectString::parse("h:1/");
  ASSERT_TRUE(cs);
  EXPECT_EQ(cs->chroot, "");
}

TEST(ConnectString, Ipv6InBrackets) {
  auto cs = ConnectString::parse("[::1]:2181");
  ASSERT_TRUE(cs);
  EXPECT_EQ(cs->hosts[0].host, "::1");
  EXPECT_EQ(cs->hosts[0].endpoint(), "tcp://[::1]:2181");
  EXPECT_EQ(cs->hosts[0].to_string(), "[::1]:2181");
}

TEST(ConnectString, RejectsMalformed) {
  for (const char* bad :
       {"", "/app", "h", "h:", ":1", "h:0", "h:65536", "h:x", "h:1,", ",h:1", "h:1,,g:2",
        "h:1/app/", "h:1/a//b", "h:1/a/./b", "::1:2181", "[::1]", "[::1:2181", "h:1 "}) {
    std::string error;
    EXPECT_FALSE(ConnectString::parse(bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(ConnectString, ClientRejectsMalformedConnectString) {
  Options o;
  o.connect = "localhost";
  EXPECT_THROW(Client c(o), std::invalid_argument);
}

TEST(ConnectString, ChrootMapsBothWays) {
  auto cs = *ConnectString::parse("h:1/app");
  EXPECT_EQ(cs.to_server("/"), "/app");
  EXPECT_EQ(cs.to_server("/a/b"), "/app/a/b");
  EXPECT_EQ(cs.to_client("/app"), "/");
  EXPECT_EQ(cs.to_client("/app/a/b"), "/a/b");
  EXPECT_EQ(cs.to_client("/apple"), "/apple");  // outside: unchanged
  EXPECT_TRUE(cs.contains("/app/x"));
  EXPECT_FALSE(cs.contains("/apple/x"));
  auto none = *ConnectString::parse("h:1");
  EXPECT_EQ(none.to_server("/a"), "/a");
  EXPECT_EQ(none.to_client("/a"), "/a");
}

TEST(PathRules, AsZooKeeper) {
  EXPECT_EQ(validate_path("/"), "");
  EXPECT_EQ(validate_path("/a/b.c/..d"), "");
  for (const char* bad : {"", "a", "/a/", "/a//b", "/a/./b", "/a/../b", "/.", "/a/..", "/a\x01"}) {
    EXPECT_NE(validate_path(bad), "") << bad;
  }
  EXPECT_NE(validate_path(std::string("/a\0b", 4)), "");
  EXPECT_EQ(validate_path("/queue/", true), "");  // the server appends the sequence number
}

}  // namespace
}  // namespace quorumlab::client
