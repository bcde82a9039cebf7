// wal_recovery_fuzz: recovery of a `wal` storage directory from arbitrary segment and snapshot
// bytes.
//
// Feeds: a fresh scratch directory holding up to two segment files and one snapshot file whose
// bytes come from the input, then recover_wal_dir() (what WalStorage::recover runs at start).
// Byte 0 is a mode: bit 0 repairs the checksums (segment header CRC, each record's CRC while
// its length fits, the snapshot header and data CRC), so the fuzzer reaches the replay rules
// behind them; bit 1 adds a second segment; bit 2 adds a snapshot file. Then chunks: segment 1,
// segment 2, snapshot. File names follow the headers (seq, first index, last index) as the
// writer names them, or seq 1 / index 0 when a header is too short.
//
// Asserts: nothing crashes (ASan/UBSan); recovery either returns or throws std::runtime_error
// (a file that is not ours, another format version, a hole): never another exception; what it
// returns is consistent (entries dense from the snapshot's index + 1 up to last_index).
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

#include "fuzz_util.hpp"
#include "quorumlab/log.hpp"
#include "wal/crc32c.hpp"
#include "wal/format.hpp"
#include "wal/recovery.hpp"

using namespace quorumlab;
using namespace quorumlab::storage::wal;
using quorumlab::fuzz::fuzz_fail;

namespace {

void fix_segment(Bytes& b) {
  if (b.size() < kSegmentHeaderBytes) return;
  std::memcpy(b.data(), kSegmentMagic, 8);
  put_u32(b.data() + 8, kFormatVersion);
  put_u32(b.data() + 12, static_cast<std::uint32_t>(kSegmentHeaderBytes));
  put_u32(b.data() + 44, crc32c(b.data(), 44));
  std::size_t at = kSegmentHeaderBytes;
  while (at + kRecordOverheadBytes <= b.size()) {
    std::uint8_t* p = b.data() + at;
    const std::size_t payload = get_u32(p);
    if (payload > b.size() - at - kRecordOverheadBytes) break;
    const std::size_t covered = kRecordHeaderBytes + payload;
    put_u32(p + covered, crc32c(p, covered));
    at += covered + kRecordTrailerBytes;
  }
}

void fix_snapshot(Bytes& b) {
  if (b.size() < kSnapshotHeaderBytes) return;
  std::uint8_t* p = b.data();
  std::memcpy(p, kSnapshotMagic, 8);
  put_u32(p + 8, kFormatVersion);
  put_u32(p + 12, static_cast<std::uint32_t>(kSnapshotHeaderBytes));
  const std::size_t data_bytes = b.size() - kSnapshotHeaderBytes;
  put_u64(p + 40, data_bytes);
  put_u32(p + 48, crc32c(p + kSnapshotHeaderBytes, data_bytes));
  put_u32(p + 60, crc32c(p, 60));
}

void write_file(const std::filesystem::path& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

std::string segment_name(const Bytes& b, std::uint64_t default_seq) {
  if (b.size() < kSegmentHeaderBytes) return segment_file_name(default_seq, 1);
  return segment_file_name(get_u64(b.data() + 16), get_u64(b.data() + 24));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto logger = [] {
    log::configure(std::getenv("QL_FUZZ_LOG") ? std::getenv("QL_FUZZ_LOG") : "off");
    return log::get("wal");
  }();
  fuzz::Input in(data, size);
  const std::uint8_t mode = in.byte();
  Bytes seg1 = in.chunk();
  Bytes seg2 = (mode & 2u) ? in.chunk() : Bytes{};
  Bytes snap = (mode & 4u) ? in.chunk() : Bytes{};
  if (mode & 1u) {
    fix_segment(seg1);
    fix_segment(seg2);
    fix_snapshot(snap);
  }
  const auto dir = fuzz::scratch_dir("wal");
  const std::string name1 = segment_name(seg1, 1);
  write_file(dir / name1, seg1);
  if (mode & 2u) {
    std::string name2 = segment_name(seg2, 2);
    if (name2 == name1) name2 = segment_file_name(2, 1);
    write_file(dir / name2, seg2);
  }
  if (mode & 4u) {
    const LogIndex last = snap.size() >= kSnapshotHeaderBytes ? get_u64(snap.data() + 16) : 0;
    write_file(dir / snapshot_file_name(last), snap);
  }
  DiskCounters counters;
  try {
    WalRecoveryResult r = recover_wal_dir(dir, *logger, counters);
    const auto& rec = r.recovery;
    LogIndex expect = rec.snapshot ? rec.snapshot->last_index : 0;
    for (const auto& e : rec.entries) {
      if (e.index != expect + 1) {
        fuzz_fail("recovered entries are not dense: index " + std::to_string(e.index) + " after " +
                  std::to_string(expect));
      }
      expect = e.index;
    }
  } catch (const std::runtime_error&) {
    // refused with a reason: not ours, another version, a hole
  } catch (const std::exception& e) {
    fuzz_fail(std::string("recover_wal_dir threw a non-runtime_error: ") + e.what());
  }
  return 0;
}
