// The wire format round-trips every field and refuses garbage.
#include <gtest/gtest.h>

#include "quorumlab/raft/raft.hpp"
#include "quorumlab/raft/wire.hpp"

using namespace quorumlab;
using namespace quorumlab::raft;

TEST(Wire, AppendEntriesRoundTrips) {
  wire::Message m;
  m.type = wire::Type::append_entries;
  m.term = 7;
  m.index = 41;
  m.log_term = 6;
  m.commit = 40;
  m.entries.push_back(LogEntry{42, 7, (std::uint64_t{7} << 40) | 42, Bytes{1, 2, 3}});
  m.entries.push_back(LogEntry{43, 7, (std::uint64_t{7} << 40) | 43, Bytes{}});
  auto d = wire::decode(wire::encode(m));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->type, wire::Type::append_entries);
  EXPECT_EQ(d->term, 7u);
  EXPECT_EQ(d->index, 41u);
  EXPECT_EQ(d->log_term, 6u);
  EXPECT_EQ(d->commit, 40u);
  ASSERT_EQ(d->entries.size(), 2u);
  EXPECT_EQ(d->entries[0].data, (Bytes{1, 2, 3}));
  EXPECT_EQ(d->entries[1].zxid, (std::uint64_t{7} << 40) | 43);
}

TEST(Wire, SnapshotChunkAndBarrierFieldsRoundTrip) {
  wire::Message m;
  m.type = wire::Type::install_snapshot;
  m.pre_vote = true;
  m.granted = true;
  m.conflict_term = 3;
  m.conflict_index = 9;
  m.context = 77;
  m.snapshot_index = 100;
  m.snapshot_term = 5;
  m.snapshot_zxid = 12345;
  m.offset = 4096;
  m.data = Bytes(300, 0xab);
  m.done = true;
  m.barrier_kind = 1;
  m.barrier_failure = 2;
  m.zxid = 999;
  auto d = wire::decode(wire::encode(m));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->pre_vote && d->granted && d->done);
  EXPECT_EQ(d->conflict_term, 3u);
  EXPECT_EQ(d->conflict_index, 9u);
  EXPECT_EQ(d->context, 77u);
  EXPECT_EQ(d->snapshot_index, 100u);
  EXPECT_EQ(d->snapshot_term, 5u);
  EXPECT_EQ(d->snapshot_zxid, 12345u);
  EXPECT_EQ(d->offset, 4096u);
  EXPECT_EQ(d->data, Bytes(300, 0xab));
  EXPECT_EQ(d->barrier_kind, 1);
  EXPECT_EQ(d->barrier_failure, 2);
  EXPECT_EQ(d->zxid, 999u);
}

TEST(Wire, TimeoutNowAndTheTransferFlagRoundTrip) {
  wire::Message m;
  m.type = wire::Type::timeout_now;
  m.term = 4;
  auto d = wire::decode(wire::encode(m));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->type, wire::Type::timeout_now);
  EXPECT_FALSE(d->transfer);
  m.type = wire::Type::request_vote;
  m.transfer = true;
  d = wire::decode(wire::encode(m));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->transfer);
  EXPECT_STREQ(wire::to_string(wire::Type::timeout_now), "TimeoutNow");
}

TEST(Wire, MalformedPayloadsAreRefused) {
  std::string error;
  EXPECT_FALSE(wire::decode(Bytes{}, &error));
  EXPECT_FALSE(wire::decode(Bytes{1, 2, 3}, &error));
  EXPECT_FALSE(wire::decode(Bytes(64, 0xff), &error));
  EXPECT_FALSE(error.empty());
}

TEST(Zxid, IncreasesAlongAnyRaftLog) {
  // Terms never decrease along a log and indexes increase: (term, index) order is zxid order.
  EXPECT_LT(make_zxid(1, 5), make_zxid(1, 6));
  EXPECT_LT(make_zxid(1, kMaxIndex), make_zxid(2, 1));
  EXPECT_EQ(zxid_term(make_zxid(9, 77)), 9u);
}
