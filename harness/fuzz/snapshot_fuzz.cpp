// snapshot_fuzz: snapshot loading, both layers: the znode tree's snapshot format
// (DataTree::restore, statemachine/src/snapshot.cpp) and the `wal` plugin's snapshot file
// around it (read_snapshot_file, plugins/storage/wal/snapshot_file.cpp).
//
// Feeds: byte 0 is a mode; the rest is the snapshot. Bit 0 picks the layer (0: the tree's
// bytes to DataTree::restore; 1: a file snapshot-<index>.snap to read_snapshot_file, whose
// data, when the file verifies, goes on to DataTree::restore as the kernel's recovery does).
// Bit 1 repairs the checksums first (the trailing XXH3-64 of the tree format; the wal header's
// data CRC, length and header CRC), so the fuzzer reaches the structure behind them.
//
// Asserts: nothing crashes (ASan/UBSan); restore returns nullopt with a reason or a tree, and
// never throws; a restored tree passes check_invariants() and serializes to bytes that restore
// again to the same digest; read_snapshot_file returns or throws std::runtime_error only.
#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

#include "fuzz_util.hpp"
#include "quorumlab/sm/data_tree.hpp"
#include "wal/crc32c.hpp"
#include "wal/format.hpp"
#include "wal/snapshot_file.hpp"

using namespace quorumlab;
using quorumlab::fuzz::fuzz_fail;
namespace wal = quorumlab::storage::wal;

namespace {

void restore_tree(const std::uint8_t* data, std::size_t size, bool fix) {
  Bytes b(data, data + size);
  if (fix && b.size() >= 8) {
    const std::uint64_t h = XXH3_64bits(b.data(), b.size() - 8);
    std::memcpy(b.data() + b.size() - 8, &h, 8);
  }
  std::optional<sm::DataTree> tree;
  std::string error;
  try {
    tree = sm::DataTree::restore(b.data(), b.size(), &error);
  } catch (const std::exception& e) {
    fuzz_fail(std::string("DataTree::restore threw: ") + e.what());
  }
  if (!tree) {
    if (error.empty()) fuzz_fail("DataTree::restore refused a snapshot without a reason");
    return;
  }
  try {
    tree->check_invariants();
  } catch (const std::exception& e) {
    fuzz_fail(std::string("a restored tree breaks an invariant: ") + e.what());
  }
  Bytes again = tree->serialize();
  auto second = sm::DataTree::restore(again.data(), again.size(), &error);
  if (!second) fuzz_fail("a restored tree's own snapshot does not restore: " + error);
  if (second->digest() != tree->digest()) fuzz_fail("snapshot round trip changed the digest");
}

void read_file(const std::uint8_t* data, std::size_t size, bool fix) {
  Bytes b(data, data + size);
  if (fix && b.size() >= wal::kSnapshotHeaderBytes) {
    std::uint8_t* p = b.data();
    std::memcpy(p, wal::kSnapshotMagic, 8);
    wal::put_u32(p + 8, wal::kFormatVersion);
    wal::put_u32(p + 12, static_cast<std::uint32_t>(wal::kSnapshotHeaderBytes));
    const std::size_t n = b.size() - wal::kSnapshotHeaderBytes;
    wal::put_u64(p + 40, n);
    wal::put_u32(p + 48, wal::crc32c(p + wal::kSnapshotHeaderBytes, n));
    wal::put_u32(p + 60, wal::crc32c(p, 60));
  }
  const LogIndex index = b.size() >= wal::kSnapshotHeaderBytes ? wal::get_u64(b.data() + 16) : 0;
  const auto file = fuzz::scratch_dir("snap") / wal::snapshot_file_name(index);
  {
    std::ofstream f(file, std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  wal::SnapshotFileResult r;
  try {
    r = wal::read_snapshot_file(file, index);
  } catch (const std::runtime_error&) {
    return;  // not a quorumlab snapshot, or another version
  } catch (const std::exception& e) {
    fuzz_fail(std::string("read_snapshot_file threw a non-runtime_error: ") + e.what());
  }
  if (!r.snapshot) {
    if (r.problem.empty()) fuzz_fail("read_snapshot_file rejected a file without a reason");
    return;
  }
  if (r.snapshot->last_index != index) fuzz_fail("read_snapshot_file returned another index");
  restore_tree(r.snapshot->data.data(), r.snapshot->data.size(), fix);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  if (mode & 1u) {
    read_file(data + 1, size - 1, (mode & 2u) != 0);
  } else {
    restore_tree(data + 1, size - 1, (mode & 2u) != 0);
  }
  return 0;
}
