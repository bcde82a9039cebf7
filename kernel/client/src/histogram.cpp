// Log-linear latency histogram.
#include "quorumlab/client/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace quorumlab::client {

std::size_t LatencyHistogram::bucket_of(std::uint64_t value) {
  if (value < 2 * kSubBuckets) return static_cast<std::size_t>(value);
  int msb = 63 - __builtin_clzll(value);
  int shift = msb - kSubBucketBits;         // >= 1
  std::uint64_t mantissa = value >> shift;  // in [32, 64)
  return static_cast<std::size_t>(static_cast<std::uint64_t>(shift) * kSubBuckets + mantissa);
}

std::uint64_t LatencyHistogram::bucket_low(std::size_t bucket) {
  if (bucket < 2 * kSubBuckets) return bucket;
  std::uint64_t shift = bucket / kSubBuckets - 1;
  std::uint64_t mantissa = bucket % kSubBuckets + kSubBuckets;
  return mantissa << shift;
}

std::uint64_t LatencyHistogram::bucket_high(std::size_t bucket) {
  if (bucket < 2 * kSubBuckets) return bucket;
  if (bucket + 1 == kBuckets) return ~std::uint64_t{0};
  return bucket_low(bucket + 1) - 1;
}

void LatencyHistogram::record(std::uint64_t value) {
  ++counts_[bucket_of(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<double>(value);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void LatencyHistogram::reset() {
  *this = LatencyHistogram{};
}

std::uint64_t LatencyHistogram::percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      std::uint64_t low = bucket_low(i);
      std::uint64_t mid = low + (bucket_high(i) - low) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

}  // namespace quorumlab::client
