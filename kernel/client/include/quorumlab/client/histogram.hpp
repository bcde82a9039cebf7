// A latency histogram with bounded memory: log-linear buckets (32 per power of two, exact below
// 64), so any percentile is within about 3% of the true value whatever the range.
#pragma once

#include <array>
#include <cstdint>

namespace quorumlab::client {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 5;
  static constexpr std::uint64_t kSubBuckets = 1u << kSubBucketBits;                // 32
  static constexpr std::size_t kBuckets = (64 - kSubBucketBits + 1) * kSubBuckets;  // 1920

  void record(std::uint64_t value);
  void merge(const LatencyHistogram& other);
  void reset();

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  /// The value at percentile `p` (0..100), as the middle of its bucket (clamped to [min, max]);
  /// 0 when empty.
  std::uint64_t percentile(double p) const;

  static std::size_t bucket_of(std::uint64_t value);
  static std::uint64_t bucket_low(std::size_t bucket);
  static std::uint64_t bucket_high(std::size_t bucket);

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_ = ~std::uint64_t{0};
  std::uint64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace quorumlab::client
