#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "quorumlab/params.hpp"

using namespace quorumlab;
using ::testing::HasSubstr;

TEST(Params, ParseTextByType) {
  EXPECT_EQ(std::get<std::int64_t>(parse_param_text("k", ParamType::integer, "-12")), -12);
  EXPECT_DOUBLE_EQ(std::get<double>(parse_param_text("k", ParamType::real, "0.25")), 0.25);
  EXPECT_TRUE(std::get<bool>(parse_param_text("k", ParamType::boolean, "true")));
  EXPECT_FALSE(std::get<bool>(parse_param_text("k", ParamType::boolean, "off")));
  EXPECT_EQ(std::get<std::string>(parse_param_text("k", ParamType::string, "x")), "x");
}

TEST(Params, BadTextNamesTheKey) {
  try {
    parse_param_text("fsync", ParamType::boolean, "maybe");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'fsync' must be a boolean"));
  }
  EXPECT_THROW(parse_param_text("n", ParamType::integer, "12abc"), ConfigError);
  EXPECT_THROW(parse_param_text("n", ParamType::integer, ""), ConfigError);
  EXPECT_THROW(parse_param_text("n", ParamType::integer, "99999999999999999999999"), ConfigError);
  EXPECT_THROW(parse_param_text("x", ParamType::real, "nan"), ConfigError);
}

TEST(Params, TypedAccessorsRefuseOtherTypes) {
  Params p({{"a", std::int64_t{3}}, {"b", std::string("s")}});
  EXPECT_EQ(p.get_int("a"), 3);
  EXPECT_DOUBLE_EQ(p.get_real("a"), 3.0);
  EXPECT_THROW(p.get_bool("a"), ConfigError);
  EXPECT_THROW(p.get_int("b"), ConfigError);
  EXPECT_THROW(p.get_int("missing"), ConfigError);
}
