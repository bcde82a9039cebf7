// Deterministic pseudo-random numbers: our own generator and distributions, identical on every
// platform and standard library (std:: distributions differ between implementations).
#pragma once

#include <cstdint>

namespace quorumlab {

/// SplitMix64: used to expand one 64-bit seed into independent streams.
std::uint64_t splitmix64(std::uint64_t& state);

/// xoshiro256** generator. Seeded from one 64-bit value through SplitMix64.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 1);

  std::uint64_t next_u64();
  /// Uniform integer in [0, bound). bound must be > 0. Unbiased (Lemire's method).
  std::uint64_t uniform(std::uint64_t bound);
  /// Uniform integer in [lo, hi], inclusive.
  std::int64_t uniform_range(std::int64_t lo, std::int64_t hi);
  /// Uniform double in [0, 1) with 53 random bits.
  double uniform_unit();
  /// True with probability p.
  bool chance(double p);
  /// Exponential with the given mean (inverse transform).
  double exponential(double mean);
  /// A new generator whose stream is derived from this one's seed and `stream_id`.
  Rng fork(std::uint64_t stream_id) const;
  std::uint64_t seed() const { return seed_; }

 private:
  std::uint64_t seed_;
  std::uint64_t s_[4];
};

}  // namespace quorumlab
