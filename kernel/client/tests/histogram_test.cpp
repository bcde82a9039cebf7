// The bounded-memory latency histogram.
#include <gtest/gtest.h>

#include "quorumlab/client/histogram.hpp"

namespace quorumlab::client {
namespace {

TEST(LatencyHistogram, BucketsAreContiguous) {
  for (std::size_t b = 0; b + 1 < LatencyHistogram::kBuckets; ++b) {
    ASSERT_EQ(LatencyHistogram::bucket_high(b) + 1, LatencyHistogram::bucket_low(b + 1)) << b;
    ASSERT_EQ(LatencyHistogram::bucket_of(LatencyHistogram::bucket_low(b)), b);
    ASSERT_EQ(LatencyHistogram::bucket_of(LatencyHistogram::bucket_high(b)), b);
  }
  EXPECT_EQ(LatencyHistogram::bucket_of(~std::uint64_t{0}), LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogram, ExactBelow64) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 50; ++v)
    h.record(v);
  EXPECT_EQ(h.percentile(50), 25u);
  EXPECT_EQ(h.percentile(100), 50u);
  EXPECT_EQ(h.percentile(0), 1u);
  EXPECT_EQ(h.count(), 50u);
  EXPECT_DOUBLE_EQ(h.mean(), 25.5);
}

TEST(LatencyHistogram, RelativeErrorWithinThreePercent) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 100000; ++v)
    h.record(v * 10);
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    double truth = p / 100.0 * 1e6;
    double got = static_cast<double>(h.percentile(p));
    EXPECT_NEAR(got, truth, truth * 0.03) << p;
  }
}

TEST(LatencyHistogram, MergeAndReset) {
  LatencyHistogram a, b;
  a.record(100);
  b.record(1000);
  b.record(5);
  a.merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.min(), 5u);
  EXPECT_EQ(a.max(), 1000u);
  a.reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.percentile(99), 0u);
}

}  // namespace
}  // namespace quorumlab::client
