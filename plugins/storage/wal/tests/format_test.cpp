// Encoding of records, headers and file names; CRC-32C; the replay rules.
#include <cstring>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "test_util.hpp"
#include "wal/crc32c.hpp"
#include "wal/format.hpp"
#include "wal/recovery.hpp"

namespace quorumlab::storage::wal {
namespace {

using test::make_entry;
using test::same_entry;

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(crc32c("", 0), 0u);
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720 B.4
  const std::string ones(32, '\xff');
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
}

TEST(Crc32c, HardwareAndTableAgreeAndExtendComposes) {
  std::mt19937_64 rng(7);
  Bytes data(4099);
  for (auto& b : data)
    b = static_cast<std::uint8_t>(rng());
  for (std::size_t start : {0u, 1u, 3u, 7u}) {
    for (std::size_t len : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 1000u, 4090u}) {
      const auto* p = data.data() + start;
      EXPECT_EQ(crc32c(p, len), crc32c_extend_portable(0, p, len)) << start << "+" << len;
    }
  }
  const std::uint32_t whole = crc32c(data.data(), data.size());
  EXPECT_EQ(crc32c_extend(crc32c(data.data(), 1000), data.data() + 1000, data.size() - 1000),
            whole);
}

TEST(Records, RoundTripEveryType) {
  Bytes buf;
  const LogEntry e = make_entry(42, 7, 100);
  HardState hs;
  hs.term = 9;
  hs.vote = 3;
  hs.plugin_data = {1, 2, 3};
  append_entry_record(buf, e);
  append_hard_state_record(buf, hs);
  append_truncate_record(buf, 17);
  append_reset_record(buf, 100, 5, 0x500000064);
  EXPECT_EQ(buf.size(), entry_record_bytes(e) + hard_state_record_bytes(hs) + kTruncateRecordBytes +
                            kResetRecordBytes);

  std::size_t off = 0;
  RawRecord r;
  ASSERT_EQ(parse_record(buf.data() + off, buf.size() - off, r), ParseStatus::ok);
  ASSERT_TRUE(decode_entry(r));
  EXPECT_TRUE(same_entry(*decode_entry(r), e));
  EXPECT_FALSE(decode_hard_state(r));
  off += r.total_bytes;
  ASSERT_EQ(parse_record(buf.data() + off, buf.size() - off, r), ParseStatus::ok);
  ASSERT_TRUE(decode_hard_state(r));
  EXPECT_EQ(*decode_hard_state(r), hs);
  off += r.total_bytes;
  ASSERT_EQ(parse_record(buf.data() + off, buf.size() - off, r), ParseStatus::ok);
  EXPECT_EQ(decode_truncate(r), std::optional<LogIndex>(17));
  off += r.total_bytes;
  ASSERT_EQ(parse_record(buf.data() + off, buf.size() - off, r), ParseStatus::ok);
  ASSERT_TRUE(decode_reset(r));
  EXPECT_EQ(decode_reset(r)->index, 100u);
  EXPECT_EQ(decode_reset(r)->epoch, 5u);
  EXPECT_EQ(decode_reset(r)->zxid, 0x500000064u);
  off += r.total_bytes;
  EXPECT_EQ(parse_record(buf.data() + off, buf.size() - off, r), ParseStatus::end_of_data);
}

// A single flipped bit anywhere in a record (header, payload or checksum) is never accepted.
TEST(Records, EverySingleBitFlipIsDetected) {
  Bytes good;
  append_entry_record(good, make_entry(5, 2, 40));
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes bad = good;
      bad[i] ^= static_cast<std::uint8_t>(1u << bit);
      RawRecord r;
      EXPECT_NE(parse_record(bad.data(), bad.size(), r), ParseStatus::ok)
          << "byte " << i << " bit " << bit;
    }
  }
}

TEST(Records, ShortZeroAndInvalidHeaders) {
  Bytes rec;
  append_entry_record(rec, make_entry(1));
  RawRecord r;
  EXPECT_EQ(parse_record(rec.data(), rec.size() - 1, r), ParseStatus::short_record);
  EXPECT_EQ(parse_record(rec.data(), 5, r), ParseStatus::short_record);
  const Bytes zeros(20, 0);
  EXPECT_EQ(parse_record(zeros.data(), zeros.size(), r), ParseStatus::zero_header);
  EXPECT_EQ(parse_record(zeros.data(), 3, r), ParseStatus::zero_header);
  Bytes bad_type = rec;
  bad_type[4] = 99;
  EXPECT_EQ(parse_record(bad_type.data(), bad_type.size(), r), ParseStatus::bad_header);
  Bytes huge = rec;
  put_u32(huge.data(), static_cast<std::uint32_t>(kMaxRecordPayloadBytes + 1));
  EXPECT_EQ(parse_record(huge.data(), huge.size(), r), ParseStatus::bad_header);
  Bytes bad_crc = rec;
  bad_crc.back() ^= 1;
  EXPECT_EQ(parse_record(bad_crc.data(), bad_crc.size(), r), ParseStatus::bad_checksum);
}

TEST(SegmentHeader, RoundTripAndEveryRejection) {
  Bytes h;
  append_segment_header(h, {12, 3456, kSegmentFlagPreallocated});
  ASSERT_EQ(h.size(), kSegmentHeaderBytes);
  SegmentHeader out;
  std::uint32_t version = 0;
  ASSERT_EQ(parse_segment_header(h.data(), h.size(), out, version), HeaderStatus::ok);
  EXPECT_EQ(out.seq, 12u);
  EXPECT_EQ(out.first_index, 3456u);
  EXPECT_EQ(out.flags, kSegmentFlagPreallocated);

  EXPECT_EQ(parse_segment_header(h.data(), 47, out, version), HeaderStatus::short_file);
  const Bytes zeros(kSegmentHeaderBytes, 0);
  EXPECT_EQ(parse_segment_header(zeros.data(), zeros.size(), out, version), HeaderStatus::all_zero);
  Bytes magic = h;
  magic[0] = 'X';
  EXPECT_EQ(parse_segment_header(magic.data(), magic.size(), out, version),
            HeaderStatus::bad_magic);
  Bytes v1 = h;  // the format before the neutral hard state
  put_u32(v1.data() + 8, 1);
  EXPECT_EQ(parse_segment_header(v1.data(), v1.size(), out, version), HeaderStatus::bad_version);
  EXPECT_EQ(version, 1u);
  Bytes torn = h;
  torn[20] ^= 0xff;
  EXPECT_EQ(parse_segment_header(torn.data(), torn.size(), out, version),
            HeaderStatus::bad_checksum);
}

TEST(SnapshotHeader, RoundTrip) {
  Snapshot s;
  s.last_index = 77;
  s.last_epoch = 3;
  s.last_zxid = 0x30000004d;
  s.data = {9, 8, 7};
  Bytes h;
  append_snapshot_header(h, s);
  SnapshotHeader out;
  std::uint32_t version = 0;
  ASSERT_EQ(parse_snapshot_header(h.data(), h.size(), out, version), HeaderStatus::ok);
  EXPECT_EQ(out.last_index, 77u);
  EXPECT_EQ(out.last_epoch, 3u);
  EXPECT_EQ(out.last_zxid, 0x30000004du);
  EXPECT_EQ(out.data_bytes, 3u);
  EXPECT_EQ(out.data_crc, crc32c(s.data.data(), 3));
}

TEST(FileNames, FormatAndStrictParse) {
  EXPECT_EQ(segment_file_name(3, 1001), "log-00000000000000000003-00000000000000001001.seg");
  auto p = parse_segment_file_name("log-00000000000000000003-00000000000000001001.seg");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->first, 3u);
  EXPECT_EQ(p->second, 1001u);
  EXPECT_FALSE(
      parse_segment_file_name("log-00000000000000000003-00000000000000001001.seg.corrupt"));
  EXPECT_FALSE(parse_segment_file_name("log-0000000000000000000x-00000000000000001001.seg"));
  EXPECT_FALSE(parse_segment_file_name("log-99999999999999999999-00000000000000001001.seg"));
  EXPECT_EQ(snapshot_file_name(5), "snapshot-00000000000000000005.snap");
  EXPECT_EQ(parse_snapshot_file_name("snapshot-00000000000000000005.snap"),
            std::optional<LogIndex>(5));
  EXPECT_FALSE(parse_snapshot_file_name("snapshot-00000000000000000005.snap.save.tmp"));
}

// ---- Replay rules -----------------------------------------------------------------------------

RawRecord record_of(Bytes& storage, const std::function<void(Bytes&)>& write) {
  storage.clear();
  write(storage);
  RawRecord r;
  EXPECT_EQ(parse_record(storage.data(), storage.size(), r), ParseStatus::ok);
  return r;
}

TEST(LogReplay, EntriesTruncateResetAndHardState) {
  LogReplay replay;
  SegmentInfo seg;
  Bytes buf;
  replay.start(0);
  for (LogIndex i = 1; i <= 5; ++i) {
    EXPECT_FALSE(replay.apply(
        record_of(buf, [&](Bytes& b) { append_entry_record(b, make_entry(i)); }), seg));
  }
  EXPECT_EQ(replay.last_index(), 5u);
  EXPECT_EQ(seg.max_index, 5u);
  EXPECT_FALSE(replay.apply(record_of(buf, [](Bytes& b) { append_truncate_record(b, 3); }), seg));
  EXPECT_EQ(replay.last_index(), 3u);
  EXPECT_FALSE(replay.apply(
      record_of(buf, [](Bytes& b) { append_entry_record(b, make_entry(4, 2)); }), seg));
  EXPECT_EQ(replay.last_index(), 4u);
  // A gap or a repeat is a discontinuity and is refused without changing the state.
  auto err =
      replay.apply(record_of(buf, [](Bytes& b) { append_entry_record(b, make_entry(6)); }), seg);
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("does not follow"), std::string::npos);
  EXPECT_TRUE(
      replay.apply(record_of(buf, [](Bytes& b) { append_entry_record(b, make_entry(4)); }), seg));
  EXPECT_EQ(replay.last_index(), 4u);
  HardState hs;
  hs.term = 4;
  EXPECT_FALSE(
      replay.apply(record_of(buf, [&](Bytes& b) { append_hard_state_record(b, hs); }), seg));
  EXPECT_EQ(replay.hard_state(), std::optional<HardState>(hs));
  EXPECT_FALSE(
      replay.apply(record_of(buf, [](Bytes& b) { append_reset_record(b, 50, 1, 1); }), seg));
  EXPECT_EQ(replay.last_index(), 50u);
  EXPECT_FALSE(replay.apply(
      record_of(buf, [](Bytes& b) { append_entry_record(b, make_entry(51, 3)); }), seg));
  auto rest = replay.take_entries_after(0);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].index, 51u);
}

TEST(LogReplay, TruncateBelowBaseAndTakeAfterSnapshot) {
  LogReplay replay;
  SegmentInfo seg;
  Bytes buf;
  replay.start(100);  // the segments before were deleted after a snapshot
  for (LogIndex i = 101; i <= 110; ++i) {
    EXPECT_FALSE(replay.apply(
        record_of(buf, [&](Bytes& b) { append_entry_record(b, make_entry(i)); }), seg));
  }
  EXPECT_FALSE(replay.apply(record_of(buf, [](Bytes& b) { append_truncate_record(b, 90); }), seg));
  EXPECT_EQ(replay.base(), 90u);
  EXPECT_EQ(replay.last_index(), 90u);
  for (LogIndex i = 91; i <= 95; ++i) {
    EXPECT_FALSE(replay.apply(
        record_of(buf, [&](Bytes& b) { append_entry_record(b, make_entry(i, 2)); }), seg));
  }
  auto after = replay.take_entries_after(93);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].index, 94u);
  EXPECT_EQ(after[1].index, 95u);
}

}  // namespace
}  // namespace quorumlab::storage::wal
