// The WAL's on-disk encoding: segment headers, records and snapshot file headers.
// See design.md for the layout. All integers are little-endian; every header and record ends
// with a CRC-32C over all its preceding bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "quorumlab/plugin/broadcast.hpp"

namespace quorumlab::storage::wal {

/// 1: ZAB-shaped hard state. 2: the neutral hard state of plugin ABI 3 (term, vote, plugin
/// bytes). A directory of another version is refused at start, untouched (recovery.cpp).
constexpr std::uint32_t kFormatVersion = 2;

// ---- Segment files: log-<20-digit seq>-<20-digit first index>.seg --------------------------

constexpr char kSegmentMagic[8] = {'Q', 'L', 'W', 'A', 'L', 'S', 'E', 'G'};
constexpr std::size_t kSegmentHeaderBytes = 48;
constexpr std::uint32_t kSegmentFlagPreallocated = 1u;  ///< zero bytes after the data are padding

struct SegmentHeader {
  std::uint64_t seq = 0;     ///< position in the log; consecutive from the oldest kept file
  LogIndex first_index = 0;  ///< index the next entry had when the segment was started
  std::uint32_t flags = 0;   ///< kSegmentFlag*
};

/// Appends the 48-byte header to `out`.
void append_segment_header(Bytes& out, const SegmentHeader& header);

enum class HeaderStatus {
  ok,
  short_file,    ///< fewer than kSegmentHeaderBytes bytes
  all_zero,      ///< the header bytes are zero (file created, header never reached the disk)
  bad_magic,     ///< not a quorumlab WAL file
  bad_version,   ///< a WAL file of another format version
  bad_checksum,  ///< torn or damaged header
};
const char* to_string(HeaderStatus s);

/// Decodes the header at the start of `data`. `version_out` receives the version field when
/// the magic matched (for error messages).
HeaderStatus parse_segment_header(const std::uint8_t* data, std::size_t size, SegmentHeader& out,
                                  std::uint32_t& version_out);

std::string segment_file_name(std::uint64_t seq, LogIndex first_index);
/// Parses a segment file name; nullopt when `name` is not exactly of that form.
std::optional<std::pair<std::uint64_t, LogIndex>> parse_segment_file_name(const std::string& name);

// ---- Records ---------------------------------------------------------------------------------
//
//   u32 payload_bytes | u8 type | u8 zero[3] | payload | u32 crc32c(all preceding bytes)

enum class RecordType : std::uint8_t {
  entry = 1,       ///< u64 index, u64 epoch, u64 zxid, data
  hard_state = 2,  ///< u64 term, u32 vote, u32 zero, plugin_data
  truncate = 3,    ///< u64 index: drop every entry after it
  reset = 4,       ///< u64 index, u64 epoch, u64 zxid: drop everything; the log continues at
                   ///< index + 1 on top of the snapshot with that last index
};

constexpr std::size_t kRecordHeaderBytes = 8;
constexpr std::size_t kRecordTrailerBytes = 4;
constexpr std::size_t kRecordOverheadBytes = kRecordHeaderBytes + kRecordTrailerBytes;
/// Upper bound on one record's payload; larger entries are refused by append().
constexpr std::size_t kMaxRecordPayloadBytes = std::size_t{64} << 20;
constexpr std::size_t kEntryFixedBytes = 24;
constexpr std::size_t kHardStateFixedBytes = 16;

/// Size on disk of the record that stores `entry`.
inline std::size_t entry_record_bytes(const LogEntry& entry) {
  return kRecordOverheadBytes + kEntryFixedBytes + entry.data.size();
}
inline std::size_t hard_state_record_bytes(const HardState& state) {
  return kRecordOverheadBytes + kHardStateFixedBytes + state.plugin_data.size();
}
constexpr std::size_t kTruncateRecordBytes = kRecordOverheadBytes + 8;
constexpr std::size_t kResetRecordBytes = kRecordOverheadBytes + 24;

void append_entry_record(Bytes& out, const LogEntry& entry);
void append_hard_state_record(Bytes& out, const HardState& state);
void append_truncate_record(Bytes& out, LogIndex index);
void append_reset_record(Bytes& out, LogIndex index, std::uint64_t epoch, Zxid zxid);

enum class ParseStatus {
  ok,
  end_of_data,   ///< no bytes left
  zero_header,   ///< the next 8 bytes are zero (end of data in a preallocated segment)
  short_record,  ///< the record runs past the end of the data (torn write)
  bad_header,    ///< unknown type, nonzero reserved bytes or impossible length
  bad_checksum,
};
const char* to_string(ParseStatus s);

/// A checksum-verified record inside a buffer; `payload` points into that buffer.
struct RawRecord {
  RecordType type = RecordType::entry;
  const std::uint8_t* payload = nullptr;
  std::size_t payload_bytes = 0;
  std::size_t total_bytes = 0;  ///< header + payload + checksum
};

/// Parses the record at `data` (with `size` bytes available).
ParseStatus parse_record(const std::uint8_t* data, std::size_t size, RawRecord& out);

/// Payload decoders; nullopt when the payload has the wrong size for its type.
std::optional<LogEntry> decode_entry(const RawRecord& record);
std::optional<HardState> decode_hard_state(const RawRecord& record);
std::optional<LogIndex> decode_truncate(const RawRecord& record);
struct ResetPayload {
  LogIndex index = 0;
  std::uint64_t epoch = 0;
  Zxid zxid = 0;
};
std::optional<ResetPayload> decode_reset(const RawRecord& record);

// ---- Snapshot files: snapshot-<20-digit last index>.snap -------------------------------------
//
//   64-byte header (magic, version, last index/epoch/zxid, data length, data crc, header crc)
//   followed by the snapshot data.

constexpr char kSnapshotMagic[8] = {'Q', 'L', 'W', 'A', 'L', 'S', 'N', 'P'};
constexpr std::size_t kSnapshotHeaderBytes = 64;

void append_snapshot_header(Bytes& out, const Snapshot& snapshot);

struct SnapshotHeader {
  LogIndex last_index = 0;
  std::uint64_t last_epoch = 0;
  Zxid last_zxid = 0;
  std::uint64_t data_bytes = 0;
  std::uint32_t data_crc = 0;
};
HeaderStatus parse_snapshot_header(const std::uint8_t* data, std::size_t size, SnapshotHeader& out,
                                   std::uint32_t& version_out);

std::string snapshot_file_name(LogIndex last_index);
std::optional<LogIndex> parse_snapshot_file_name(const std::string& name);

// ---- Little-endian helpers -------------------------------------------------------------------

inline void put_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline void put_u64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline std::uint32_t get_u32(const std::uint8_t* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}
inline std::uint64_t get_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

}  // namespace quorumlab::storage::wal
