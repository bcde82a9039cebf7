// §1.10 error codes: values and names.
#include <gtest/gtest.h>

#include "quorumlab/sm/err.hpp"
#include "quorumlab/sm/znode.hpp"

namespace quorumlab::sm {

TEST(ErrTest, Ref1_10_ValuesMatchKeeperExceptionCode) {
  EXPECT_EQ(err_code(Err::OK), 0);
  EXPECT_EQ(err_code(Err::SYSTEMERROR), -1);
  EXPECT_EQ(err_code(Err::RUNTIMEINCONSISTENCY), -2);
  EXPECT_EQ(err_code(Err::DATAINCONSISTENCY), -3);
  EXPECT_EQ(err_code(Err::CONNECTIONLOSS), -4);
  EXPECT_EQ(err_code(Err::MARSHALLINGERROR), -5);
  EXPECT_EQ(err_code(Err::UNIMPLEMENTED), -6);
  EXPECT_EQ(err_code(Err::OPERATIONTIMEOUT), -7);
  EXPECT_EQ(err_code(Err::BADARGUMENTS), -8);
  EXPECT_EQ(err_code(Err::UNKNOWNSESSION), -12);
  EXPECT_EQ(err_code(Err::NEWCONFIGNOQUORUM), -13);
  EXPECT_EQ(err_code(Err::RECONFIGINPROGRESS), -14);
  EXPECT_EQ(err_code(Err::APIERROR), -100);
  EXPECT_EQ(err_code(Err::NONODE), -101);
  EXPECT_EQ(err_code(Err::NOAUTH), -102);
  EXPECT_EQ(err_code(Err::BADVERSION), -103);
  EXPECT_EQ(err_code(Err::NOCHILDRENFOREPHEMERALS), -108);
  EXPECT_EQ(err_code(Err::NODEEXISTS), -110);
  EXPECT_EQ(err_code(Err::NOTEMPTY), -111);
  EXPECT_EQ(err_code(Err::SESSIONEXPIRED), -112);
  EXPECT_EQ(err_code(Err::INVALIDCALLBACK), -113);
  EXPECT_EQ(err_code(Err::INVALIDACL), -114);
  EXPECT_EQ(err_code(Err::AUTHFAILED), -115);
  EXPECT_EQ(err_code(Err::SESSIONMOVED), -118);
  EXPECT_EQ(err_code(Err::NOTREADONLY), -119);
  EXPECT_EQ(err_code(Err::EPHEMERALONLOCALSESSION), -120);
  EXPECT_EQ(err_code(Err::NOWATCHER), -121);
  EXPECT_EQ(err_code(Err::REQUESTTIMEOUT), -122);
  EXPECT_EQ(err_code(Err::RECONFIGDISABLED), -123);
  EXPECT_EQ(err_code(Err::SESSIONCLOSEDREQUIRESASLAUTH), -124);
  EXPECT_EQ(err_code(Err::QUOTAEXCEEDED), -125);
  EXPECT_EQ(err_code(Err::THROTTLEDOP), -127);
}

TEST(ErrTest, Ref1_10_NamesAndRoundTrip) {
  EXPECT_STREQ(err_name(Err::OK), "OK");
  EXPECT_STREQ(err_name(Err::NONODE), "NONODE");
  EXPECT_STREQ(err_name(Err::NOCHILDRENFOREPHEMERALS), "NOCHILDRENFOREPHEMERALS");
  EXPECT_STREQ(err_name(Err::SESSIONCLOSEDREQUIRESASLAUTH), "SESSIONCLOSEDREQUIRESASLAUTH");
  EXPECT_STREQ(err_name(static_cast<Err>(-126)), "UNKNOWN");  // -126 is unused
  int known = 0;
  for (int code = -200; code <= 10; ++code) {
    auto e = err_from_code(code);
    if (!e) continue;
    ++known;
    EXPECT_EQ(err_code(*e), code);
    EXPECT_STRNE(err_name(*e), "UNKNOWN");
  }
  EXPECT_EQ(known, 32);
  EXPECT_FALSE(err_from_code(-126).has_value());
}

TEST(ErrTest, Ref1_11_EventTypeNames) {
  EXPECT_STREQ(event_type_name(EventType::kNodeChildrenChanged), "NodeChildrenChanged");
  EXPECT_EQ(static_cast<int>(EventType::kNodeDeleted), 2);
  EXPECT_EQ(static_cast<int>(WatcherType::kPersistentRecursive), 5);
}

}  // namespace quorumlab::sm
