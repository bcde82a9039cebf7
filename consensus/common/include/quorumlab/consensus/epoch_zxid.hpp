// The zxid encoding of ZAB (and of solo, which uses the same shape): the epoch in the high 32
// bits, a counter within the epoch in the low 32. A plugin's own business: the kernel never
// decodes a zxid (quorumlab/plugin/broadcast.hpp, "Zxids").
#pragma once

#include <cstdint>

#include "quorumlab/types.hpp"

namespace quorumlab::consensus {

constexpr Zxid make_zxid(std::uint32_t epoch, std::uint32_t counter) {
  return (static_cast<Zxid>(epoch) << 32) | counter;
}
constexpr std::uint32_t zxid_epoch(Zxid z) {
  return static_cast<std::uint32_t>(z >> 32);
}
constexpr std::uint32_t zxid_counter(Zxid z) {
  return static_cast<std::uint32_t>(z & 0xffffffffu);
}

}  // namespace quorumlab::consensus
