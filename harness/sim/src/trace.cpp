#include "quorumlab/sim/trace.hpp"

#include <cinttypes>
#include <cstdio>
#include <stdexcept>

#include "quorumlab/rng.hpp"

namespace quorumlab::sim {

namespace {

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  std::uint64_t s = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  return splitmix64(s);
}

}  // namespace

std::uint64_t hash_bytes(const std::uint8_t* data, std::size_t size) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= 0x100000001b3ULL;
  }
  return splitmix64(h);
}

std::uint64_t hash_string(const std::string& s) {
  return hash_bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

SimTrace::SimTrace(std::size_t tail, const std::string& file) : tail_size_(tail) {
  if (!file.empty()) {
    file_ = std::make_unique<std::ofstream>(file);
    if (!*file_) throw std::runtime_error("cannot write the trace file '" + file + "'");
  }
}

void SimTrace::record(TraceRecord r) {
  std::uint64_t h = digest_;
  h = mix(h, static_cast<std::uint64_t>(r.at_us));
  h = mix(h, hash_string(r.what));
  h = mix(h, r.node);
  h = mix(h, r.a);
  h = mix(h, r.b);
  h = mix(h, r.payload_hash);
  if (!r.detail.empty()) h = mix(h, hash_string(r.detail));
  digest_ = h;
  ++count_;
  if (file_) *file_ << format(r) << '\n';
  if (tail_size_ == 0) return;
  if (tail_.size() == tail_size_) tail_.pop_front();
  tail_.push_back(std::move(r));
}

std::vector<std::string> SimTrace::tail() const {
  std::vector<std::string> out;
  out.reserve(tail_.size());
  for (const auto& r : tail_)
    out.push_back(format(r));
  return out;
}

std::string SimTrace::format(const TraceRecord& r) {
  char head[160];
  std::snprintf(head, sizeof head, "%10.6f n%-2u %-16s a=%" PRIu64 " b=%" PRIu64,
                static_cast<double>(r.at_us) / 1e6, r.node, r.what.c_str(), r.a, r.b);
  std::string out = head;
  if (r.payload_hash != 0) {
    char h[32];
    std::snprintf(h, sizeof h, " h=%016" PRIx64, r.payload_hash);
    out += h;
  }
  if (!r.detail.empty()) out += " " + r.detail;
  return out;
}

}  // namespace quorumlab::sim
