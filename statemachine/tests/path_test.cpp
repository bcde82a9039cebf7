// §1.6 path validation (PathUtils.validatePath).
#include <gtest/gtest.h>

#include "quorumlab/sm/path.hpp"

namespace quorumlab::sm {

TEST(PathTest, Ref1_6_ValidPaths) {
  for (const char* p : {"/", "/a", "/a/b", "/zookeeper", "/a.b", "/...", "/a/..b", "/.a",
                        "/with space", "/\xC3\xA9t\xC3\xA9", "/\xE4\xB8\xAD", "/a-0000000001"}) {
    EXPECT_TRUE(is_valid_path(p)) << p;
    EXPECT_EQ(validate_path(p), Err::OK) << p;
  }
}

TEST(PathTest, Ref1_6_StructuralRules) {
  for (const char* p : {"", "a", "a/b", "/a/", "//", "/a//b", "/.", "/..", "/a/.", "/a/..", "/./a",
                        "/../a", "/a/./b"}) {
    EXPECT_FALSE(is_valid_path(p)) << p;
    EXPECT_EQ(validate_path(p), Err::BADARGUMENTS) << p;
  }
}

TEST(PathTest, Ref1_6_ForbiddenCharacters) {
  EXPECT_FALSE(is_valid_path(std::string("/a\0b", 4)));
  EXPECT_FALSE(is_valid_path("/a\x01"));
  EXPECT_FALSE(is_valid_path("/a\x1F"));
  EXPECT_TRUE(is_valid_path("/a\x20"));
  EXPECT_FALSE(is_valid_path("/a\x7F"));
  EXPECT_TRUE(is_valid_path("/a\x7E"));
  EXPECT_FALSE(is_valid_path("/a\xC2\x80"));          // U+0080
  EXPECT_FALSE(is_valid_path("/a\xC2\x9F"));          // U+009F
  EXPECT_TRUE(is_valid_path("/a\xC2\xA0"));           // U+00A0
  EXPECT_TRUE(is_valid_path("/a\xED\x9F\xBF"));       // U+D7FF
  EXPECT_FALSE(is_valid_path("/a\xEE\x80\x80"));      // U+E000 private use
  EXPECT_FALSE(is_valid_path("/a\xEF\xA3\xBF"));      // U+F8FF
  EXPECT_TRUE(is_valid_path("/a\xEF\xA4\x80"));       // U+F900
  EXPECT_TRUE(is_valid_path("/a\xEF\xBF\xAF"));       // U+FFEF
  EXPECT_FALSE(is_valid_path("/a\xEF\xBF\xB0"));      // U+FFF0
  EXPECT_FALSE(is_valid_path("/a\xEF\xBF\xBF"));      // U+FFFF
  EXPECT_FALSE(is_valid_path("/a\xF0\x9F\x98\x80"));  // U+1F600: a surrogate pair in Java
}

TEST(PathTest, Ref1_6_MalformedUtf8IsInvalid) {
  EXPECT_FALSE(is_valid_path("/a\xC3"));          // truncated
  EXPECT_FALSE(is_valid_path("/a\x80"));          // stray continuation
  EXPECT_FALSE(is_valid_path("/a\xC0\xAF"));      // overlong '/'
  EXPECT_FALSE(is_valid_path("/a\xED\xA0\x80"));  // encoded surrogate
  EXPECT_FALSE(is_valid_path("/a\xFF"));
}

TEST(PathTest, ParentAndName) {
  EXPECT_EQ(parent_path("/a/b"), "/a");
  EXPECT_EQ(parent_path("/a"), "/");
  EXPECT_EQ(parent_path("/"), "/");
  EXPECT_EQ(node_name("/a/b"), "b");
  EXPECT_EQ(node_name("/"), "");
  EXPECT_TRUE(is_special_path("/zookeeper/config"));
  EXPECT_FALSE(is_special_path("/zookeeper/other"));
}

}  // namespace quorumlab::sm
