// The simulator's trace: every event it runs, every plugin trace event and every client
// operation, folded into a 64-bit digest (two runs of one seed must give the same digest) and
// kept as text for the last N records (the failure report) or all of them (--trace FILE).
#pragma once

#include <cstdint>
#include <deque>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "quorumlab/types.hpp"

namespace quorumlab::sim {

/// FNV-1a over bytes, finished with a SplitMix64 step; used for payload hashes.
std::uint64_t hash_bytes(const std::uint8_t* data, std::size_t size);
inline std::uint64_t hash_bytes(const Bytes& b) {
  return hash_bytes(b.data(), b.size());
}
std::uint64_t hash_string(const std::string& s);

struct TraceRecord {
  std::int64_t at_us = 0;
  std::string what;     ///< short name: "deliver", "tick", "crash", "op", "became_leader", ...
  NodeId node = 0;      ///< replica concerned, 0 if none
  std::uint64_t a = 0;  ///< meaning depends on `what` (peer, conn, client, epoch, ...)
  std::uint64_t b = 0;  ///< meaning depends on `what` (zxid, ticket, size, ...)
  std::uint64_t payload_hash = 0;
  std::string detail;
};

class SimTrace {
 public:
  /// Keeps the last `tail` records as text; if `file` is not empty writes every record to it.
  SimTrace(std::size_t tail, const std::string& file);

  void record(TraceRecord r);
  std::uint64_t digest() const { return digest_; }
  std::uint64_t records() const { return count_; }
  /// The last records, oldest first, one line each.
  std::vector<std::string> tail() const;
  static std::string format(const TraceRecord& r);

 private:
  std::size_t tail_size_;
  std::deque<TraceRecord> tail_;
  std::unique_ptr<std::ofstream> file_;
  std::uint64_t digest_ = 0x51a7e5eedULL;
  std::uint64_t count_ = 0;
};

}  // namespace quorumlab::sim
