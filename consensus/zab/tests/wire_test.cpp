// The quorum packets (zab.capnp): every kind round-trips; garbage, truncated and misaligned
// input never throws, and step() drops what does not decode.
#include <gtest/gtest.h>

#include <algorithm>

#include "quorumlab/log.hpp"
#include "quorumlab/rng.hpp"
#include "zab_test_util.hpp"

using namespace quorumlab;
using namespace quorumlab::zab;
using namespace quorumlab::zab::test;

namespace {

std::vector<LogEntry> entries() {
  return {LogEntry{5, 2, make_zxid(2, 1), txn("five")}, LogEntry{6, 2, make_zxid(2, 2), {}}};
}

wire::Packet packet(wire::Body body) {
  wire::Packet p;
  p.epoch = 7;
  p.nonce = 0xdeadbeefcafe;
  p.seq = 42;
  p.body = std::move(body);
  return p;
}

std::vector<wire::Packet> every_kind() {
  wire::AckEpoch ae;
  ae.current_epoch = 3;
  ae.counts = false;
  ae.last_index = 9;
  ae.last_zxid = make_zxid(3, 2);
  ae.base_index = 2;
  ae.base_zxid = make_zxid(1, 2);
  ae.segments = {{3, 8, 9}, {2, 3, 7}};
  ae.segments_complete = false;
  wire::Sync sync;
  sync.mode = wire::SyncMode::snap;
  sync.common_index = 4;
  sync.common_zxid = make_zxid(1, 4);
  sync.snapshot = Snapshot{4, 1, make_zxid(1, 4), txn("tree")};
  sync.entries = entries();
  sync.newleader_index = 6;
  sync.newleader_zxid = make_zxid(2, 2);
  sync.final = false;
  sync.snapshot_offset = 4096;
  sync.snapshot_total = 8192;
  return {
      packet(wire::Notification{PeerState::following, 3, make_zxid(4, 5), 11, 4}),
      packet(wire::LearnerInfo{6, true, wire::kProtocolVersion}),
      packet(wire::LeaderInfo{7, wire::kProtocolVersion}),
      packet(ae),
      packet(sync),
      packet(wire::Proposal{entries()}),
      packet(wire::Ack{6, make_zxid(2, 2)}),
      packet(wire::Commit{5, make_zxid(2, 1)}),
      packet(wire::Inform{entries()}),
      packet(wire::UpToDate{5, make_zxid(2, 1)}),
      packet(wire::Ping{12}),
      packet(wire::PingReply{6, make_zxid(2, 2), 12}),
      packet(wire::Request{99, BarrierKind::read_index}),
      packet(wire::SyncReply{99, true, make_zxid(2, 1), 5}),
      packet(wire::Close{}),
  };
}

}  // namespace

TEST(Wire, EveryPacketKindRoundTrips) {
  for (const auto& p : every_kind()) {
    Bytes bytes = wire::encode(p);
    std::string error;
    auto back = wire::decode(bytes, &error);
    ASSERT_TRUE(back) << wire::to_string(p.kind()) << ": " << error;
    EXPECT_EQ(back->kind(), p.kind());
    EXPECT_EQ(back->epoch, 7u);
    EXPECT_EQ(back->nonce, 0xdeadbeefcafeu);
    EXPECT_EQ(back->seq, 42u);
    // Re-encoding the decoded packet gives the same bytes: nothing was lost.
    EXPECT_EQ(wire::encode(*back), bytes) << wire::to_string(p.kind());
  }
  auto sync = wire::decode(wire::encode(every_kind()[4]));
  const auto& s = std::get<wire::Sync>(sync->body);
  ASSERT_TRUE(s.snapshot);
  EXPECT_EQ(s.snapshot->data, txn("tree"));
  ASSERT_EQ(s.entries.size(), 2u);
  EXPECT_EQ(s.entries[0].data, txn("five"));
  EXPECT_EQ(s.mode, wire::SyncMode::snap);
  EXPECT_FALSE(s.final);
  EXPECT_EQ(s.snapshot_offset, 4096u);
  EXPECT_EQ(s.snapshot_total, 8192u);
  auto ae = wire::decode(wire::encode(every_kind()[3]));
  EXPECT_EQ(std::get<wire::AckEpoch>(ae->body).segments.size(), 2u);
  EXPECT_FALSE(std::get<wire::AckEpoch>(ae->body).segments_complete);
}

TEST(Wire, MisalignedBuffersAreCopiedBeforeDecoding) {
  Bytes bytes = wire::encode(every_kind()[5]);
  std::vector<std::uint8_t> shifted(bytes.size() + 1);
  std::copy(bytes.begin(), bytes.end(), shifted.begin() + 1);
  ASSERT_NE(reinterpret_cast<std::uintptr_t>(shifted.data() + 1) % 8, 0u);
  auto p = wire::decode(shifted.data() + 1, bytes.size());
  ASSERT_TRUE(p);
  EXPECT_EQ(std::get<wire::Proposal>(p->body).entries.size(), 2u);
}

TEST(Wire, GarbageNeverThrows) {
  Rng rng(5);
  std::string error;
  EXPECT_FALSE(wire::decode(Bytes{}, &error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(wire::decode(Bytes{1, 2, 3}, &error));
  Bytes good = wire::encode(every_kind()[4]);
  // Truncations and bit flips of a real packet, and random words.
  for (std::size_t cut = 8; cut < good.size(); cut += 8) {
    Bytes b(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_NO_THROW(wire::decode(b));
  }
  for (int i = 0; i < 2000; ++i) {
    Bytes b = good;
    for (int flips = 0; flips < 4; ++flips) {
      b[static_cast<std::size_t>(rng.uniform(b.size()))] ^=
          static_cast<std::uint8_t>(1u << rng.uniform(8));
    }
    EXPECT_NO_THROW(wire::decode(b));
    Bytes r(8 * (1 + rng.uniform(16)));
    for (auto& x : r)
      x = static_cast<std::uint8_t>(rng.uniform(256));
    EXPECT_NO_THROW(wire::decode(r));
  }
}

TEST(Wire, StepDropsMalformedPayloadsAndStrangers) {
  auto net = make_network(3);
  net->start();
  NodeId leader = elect(*net);
  auto before = net->status(1);
  auto logger = log::get("zab");
  auto level = logger->level();
  logger->set_level(spdlog::level::err);  // 200 expected warnings
  Rng rng(9);
  for (int i = 0; i < 200; ++i) {
    Bytes junk(8 * (1 + rng.uniform(8)));
    for (auto& x : junk)
      x = static_cast<std::uint8_t>(rng.uniform(256));
    EXPECT_NO_THROW(net->plugin(1).step(PeerMessage{2, 1, junk}));
  }
  // A well-formed packet from outside the membership is dropped too.
  EXPECT_NO_THROW(net->plugin(1).step(PeerMessage{9, 1, wire::encode(every_kind()[0])}));
  logger->set_level(level);
  EXPECT_EQ(net->plugin(1).check_invariants(), "");
  EXPECT_EQ(net->status(1).role, before.role);
  EXPECT_EQ(net->status(1).leader, leader);
}
