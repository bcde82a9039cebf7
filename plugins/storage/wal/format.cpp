#include "wal/format.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "wal/crc32c.hpp"

namespace quorumlab::storage::wal {
namespace {

bool all_zero(const std::uint8_t* p, std::size_t n) {
  return std::all_of(p, p + n, [](std::uint8_t b) { return b == 0; });
}

// Reserves `payload_bytes` of payload plus the record framing at the end of `out`; returns a
// pointer to the payload. finish_record() writes the checksum.
std::uint8_t* begin_record(Bytes& out, RecordType type, std::size_t payload_bytes) {
  const std::size_t start = out.size();
  out.resize(start + kRecordOverheadBytes + payload_bytes);
  std::uint8_t* p = out.data() + start;
  put_u32(p, static_cast<std::uint32_t>(payload_bytes));
  p[4] = static_cast<std::uint8_t>(type);
  p[5] = p[6] = p[7] = 0;
  return p + kRecordHeaderBytes;
}

void finish_record(Bytes& out, std::size_t payload_bytes) {
  const std::size_t covered = kRecordHeaderBytes + payload_bytes;
  std::uint8_t* end = out.data() + out.size();
  std::uint8_t* start = end - covered - kRecordTrailerBytes;
  put_u32(end - kRecordTrailerBytes, crc32c(start, covered));
}

bool known_type(std::uint8_t t) {
  return t >= static_cast<std::uint8_t>(RecordType::entry) &&
         t <= static_cast<std::uint8_t>(RecordType::reset);
}

// Parses "<prefix><20 digits><suffix>" strictly; returns the number.
std::optional<std::uint64_t> parse_padded(const std::string& s, std::size_t pos) {
  if (pos + 20 > s.size()) return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = pos; i < pos + 20; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

}  // namespace

const char* to_string(HeaderStatus s) {
  switch (s) {
    case HeaderStatus::ok:
      return "ok";
    case HeaderStatus::short_file:
      return "shorter than its header";
    case HeaderStatus::all_zero:
      return "header is all zero bytes";
    case HeaderStatus::bad_magic:
      return "bad magic (not a quorumlab WAL file)";
    case HeaderStatus::bad_version:
      return "unsupported format version";
    case HeaderStatus::bad_checksum:
      return "header checksum mismatch";
  }
  return "?";
}

const char* to_string(ParseStatus s) {
  switch (s) {
    case ParseStatus::ok:
      return "ok";
    case ParseStatus::end_of_data:
      return "end of data";
    case ParseStatus::zero_header:
      return "zero bytes where a record header should be";
    case ParseStatus::short_record:
      return "record runs past the end of the file";
    case ParseStatus::bad_header:
      return "invalid record header";
    case ParseStatus::bad_checksum:
      return "record checksum mismatch";
  }
  return "?";
}

void append_segment_header(Bytes& out, const SegmentHeader& header) {
  const std::size_t start = out.size();
  out.resize(start + kSegmentHeaderBytes, 0);
  std::uint8_t* p = out.data() + start;
  std::memcpy(p, kSegmentMagic, 8);
  put_u32(p + 8, kFormatVersion);
  put_u32(p + 12, static_cast<std::uint32_t>(kSegmentHeaderBytes));
  put_u64(p + 16, header.seq);
  put_u64(p + 24, header.first_index);
  put_u32(p + 32, header.flags);
  put_u32(p + 44, crc32c(p, 44));
}

HeaderStatus parse_segment_header(const std::uint8_t* data, std::size_t size, SegmentHeader& out,
                                  std::uint32_t& version_out) {
  if (size < kSegmentHeaderBytes) return HeaderStatus::short_file;
  if (all_zero(data, kSegmentHeaderBytes)) return HeaderStatus::all_zero;
  if (std::memcmp(data, kSegmentMagic, 8) != 0) return HeaderStatus::bad_magic;
  version_out = get_u32(data + 8);
  if (version_out != kFormatVersion) return HeaderStatus::bad_version;
  if (get_u32(data + 44) != crc32c(data, 44)) return HeaderStatus::bad_checksum;
  if (get_u32(data + 12) != kSegmentHeaderBytes) return HeaderStatus::bad_version;
  out.seq = get_u64(data + 16);
  out.first_index = get_u64(data + 24);
  out.flags = get_u32(data + 32);
  return HeaderStatus::ok;
}

std::string segment_file_name(std::uint64_t seq, LogIndex first_index) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "log-%020" PRIu64 "-%020" PRIu64 ".seg", seq, first_index);
  return buf;
}

std::optional<std::pair<std::uint64_t, LogIndex>> parse_segment_file_name(const std::string& name) {
  // log-SSSSSSSSSSSSSSSSSSSS-IIIIIIIIIIIIIIIIIIII.seg
  if (name.size() != 4 + 20 + 1 + 20 + 4) return std::nullopt;
  if (name.compare(0, 4, "log-") != 0 || name[24] != '-' || name.compare(45, 4, ".seg") != 0) {
    return std::nullopt;
  }
  auto seq = parse_padded(name, 4);
  auto first = parse_padded(name, 25);
  if (!seq || !first) return std::nullopt;
  return std::make_pair(*seq, *first);
}

void append_entry_record(Bytes& out, const LogEntry& entry) {
  const std::size_t n = kEntryFixedBytes + entry.data.size();
  std::uint8_t* p = begin_record(out, RecordType::entry, n);
  put_u64(p, entry.index);
  put_u64(p + 8, entry.epoch);
  put_u64(p + 16, entry.zxid);
  if (!entry.data.empty()) std::memcpy(p + 24, entry.data.data(), entry.data.size());
  finish_record(out, n);
}

void append_hard_state_record(Bytes& out, const HardState& state) {
  const std::size_t n = kHardStateFixedBytes + state.plugin_data.size();
  std::uint8_t* p = begin_record(out, RecordType::hard_state, n);
  put_u64(p, state.term);
  put_u32(p + 8, state.vote);
  put_u32(p + 12, 0);
  if (!state.plugin_data.empty()) {
    std::memcpy(p + kHardStateFixedBytes, state.plugin_data.data(), state.plugin_data.size());
  }
  finish_record(out, n);
}

void append_truncate_record(Bytes& out, LogIndex index) {
  std::uint8_t* p = begin_record(out, RecordType::truncate, 8);
  put_u64(p, index);
  finish_record(out, 8);
}

void append_reset_record(Bytes& out, LogIndex index, std::uint64_t epoch, Zxid zxid) {
  std::uint8_t* p = begin_record(out, RecordType::reset, 24);
  put_u64(p, index);
  put_u64(p + 8, epoch);
  put_u64(p + 16, zxid);
  finish_record(out, 24);
}

ParseStatus parse_record(const std::uint8_t* data, std::size_t size, RawRecord& out) {
  if (size == 0) return ParseStatus::end_of_data;
  if (size < kRecordHeaderBytes) {
    return all_zero(data, size) ? ParseStatus::zero_header : ParseStatus::short_record;
  }
  if (all_zero(data, kRecordHeaderBytes)) return ParseStatus::zero_header;
  const std::uint32_t payload_bytes = get_u32(data);
  const std::uint8_t type = data[4];
  if (!known_type(type) || data[5] != 0 || data[6] != 0 || data[7] != 0 ||
      payload_bytes > kMaxRecordPayloadBytes) {
    return ParseStatus::bad_header;
  }
  const std::size_t total = kRecordOverheadBytes + payload_bytes;
  if (total > size) return ParseStatus::short_record;
  const std::size_t covered = kRecordHeaderBytes + payload_bytes;
  if (get_u32(data + covered) != crc32c(data, covered)) return ParseStatus::bad_checksum;
  out.type = static_cast<RecordType>(type);
  out.payload = data + kRecordHeaderBytes;
  out.payload_bytes = payload_bytes;
  out.total_bytes = total;
  return ParseStatus::ok;
}

std::optional<LogEntry> decode_entry(const RawRecord& record) {
  if (record.type != RecordType::entry || record.payload_bytes < kEntryFixedBytes) {
    return std::nullopt;
  }
  LogEntry e;
  e.index = get_u64(record.payload);
  e.epoch = get_u64(record.payload + 8);
  e.zxid = get_u64(record.payload + 16);
  e.data.assign(record.payload + kEntryFixedBytes, record.payload + record.payload_bytes);
  return e;
}

std::optional<HardState> decode_hard_state(const RawRecord& record) {
  if (record.type != RecordType::hard_state || record.payload_bytes < kHardStateFixedBytes ||
      get_u32(record.payload + 12) != 0) {
    return std::nullopt;
  }
  HardState s;
  s.term = get_u64(record.payload);
  s.vote = get_u32(record.payload + 8);
  s.plugin_data.assign(record.payload + kHardStateFixedBytes,
                       record.payload + record.payload_bytes);
  return s;
}

std::optional<LogIndex> decode_truncate(const RawRecord& record) {
  if (record.type != RecordType::truncate || record.payload_bytes != 8) return std::nullopt;
  return get_u64(record.payload);
}

std::optional<ResetPayload> decode_reset(const RawRecord& record) {
  if (record.type != RecordType::reset || record.payload_bytes != 24) return std::nullopt;
  return ResetPayload{get_u64(record.payload), get_u64(record.payload + 8),
                      get_u64(record.payload + 16)};
}

void append_snapshot_header(Bytes& out, const Snapshot& snapshot) {
  const std::size_t start = out.size();
  out.resize(start + kSnapshotHeaderBytes, 0);
  std::uint8_t* p = out.data() + start;
  std::memcpy(p, kSnapshotMagic, 8);
  put_u32(p + 8, kFormatVersion);
  put_u32(p + 12, static_cast<std::uint32_t>(kSnapshotHeaderBytes));
  put_u64(p + 16, snapshot.last_index);
  put_u64(p + 24, snapshot.last_epoch);
  put_u64(p + 32, snapshot.last_zxid);
  put_u64(p + 40, snapshot.data.size());
  put_u32(p + 48, crc32c(snapshot.data.data(), snapshot.data.size()));
  put_u32(p + 60, crc32c(p, 60));
}

HeaderStatus parse_snapshot_header(const std::uint8_t* data, std::size_t size, SnapshotHeader& out,
                                   std::uint32_t& version_out) {
  if (size < kSnapshotHeaderBytes) return HeaderStatus::short_file;
  if (all_zero(data, kSnapshotHeaderBytes)) return HeaderStatus::all_zero;
  if (std::memcmp(data, kSnapshotMagic, 8) != 0) return HeaderStatus::bad_magic;
  version_out = get_u32(data + 8);
  if (version_out != kFormatVersion) return HeaderStatus::bad_version;
  if (get_u32(data + 60) != crc32c(data, 60)) return HeaderStatus::bad_checksum;
  if (get_u32(data + 12) != kSnapshotHeaderBytes) return HeaderStatus::bad_version;
  out.last_index = get_u64(data + 16);
  out.last_epoch = get_u64(data + 24);
  out.last_zxid = get_u64(data + 32);
  out.data_bytes = get_u64(data + 40);
  out.data_crc = get_u32(data + 48);
  return HeaderStatus::ok;
}

std::string snapshot_file_name(LogIndex last_index) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "snapshot-%020" PRIu64 ".snap", last_index);
  return buf;
}

std::optional<LogIndex> parse_snapshot_file_name(const std::string& name) {
  // snapshot-IIIIIIIIIIIIIIIIIIII.snap
  if (name.size() != 9 + 20 + 5) return std::nullopt;
  if (name.compare(0, 9, "snapshot-") != 0 || name.compare(29, 5, ".snap") != 0) {
    return std::nullopt;
  }
  return parse_padded(name, 9);
}

}  // namespace quorumlab::storage::wal
