// Helpers shared by the libFuzzer targets in this folder (see each *_fuzz.cpp for what it
// feeds and what it asserts).
//
// Input framing: several targets take a sequence of messages. `Input` reads the fuzzer's bytes
// as selector bytes (`byte()`) and chunks (`chunk()`: a 16-bit little-endian length, then that
// many bytes, clipped to what is left). Every byte string is a valid input.
//
// An unexpected outcome (an exception the code under test must not throw, a broken invariant)
// calls `fuzz_fail`, which prints the reason and aborts: libFuzzer records the input as a crash
// and the replay driver (replay_main.cpp) reports it as a failing test.
#pragma once

#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace quorumlab::fuzz {

[[noreturn]] inline void fuzz_fail(const std::string& what) {
  std::fprintf(stderr, "fuzz target failure: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
  bool empty() const { return p_ == end_; }
  std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }
  /// The next byte, 0 when none is left.
  std::uint8_t byte() { return empty() ? 0 : *p_++; }
  /// A length-prefixed chunk (u16 little-endian), clipped to what is left.
  std::vector<std::uint8_t> chunk() {
    std::size_t n = byte();
    n |= static_cast<std::size_t>(byte()) << 8;
    if (n > left()) n = left();
    std::vector<std::uint8_t> out(p_, p_ + n);
    p_ += n;
    return out;
  }
  /// Everything that is left.
  std::vector<std::uint8_t> rest() {
    std::vector<std::uint8_t> out(p_, end_);
    p_ = end_;
    return out;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

/// Appends a chunk in Input's framing (for the seed generator).
inline void put_chunk(std::vector<std::uint8_t>& out, const std::vector<std::uint8_t>& bytes) {
  std::size_t n = bytes.size() > 0xffff ? 0xffff : bytes.size();
  out.push_back(static_cast<std::uint8_t>(n & 0xff));
  out.push_back(static_cast<std::uint8_t>(n >> 8));
  out.insert(out.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
}

/// A scratch directory of this process (under $TMPDIR), emptied on every call.
inline std::filesystem::path scratch_dir(const char* name) {
  namespace fs = std::filesystem;
  static const fs::path base = fs::temp_directory_path() /
                               ("ql_fuzz_" + std::string(name) + "_" + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove_all(base, ec);
  fs::create_directories(base);
  return base;
}

}  // namespace quorumlab::fuzz
