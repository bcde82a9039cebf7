// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every WAL record,
// segment header and snapshot file.
#pragma once

#include <cstddef>
#include <cstdint>

namespace quorumlab::storage::wal {

/// Extends `crc` (0 for a fresh checksum) over `size` bytes at `data`. crc32c("123456789")
/// is 0xE3069283. Uses the SSE4.2 instruction when the CPU has it, a table otherwise; both
/// give identical results.
std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size);

inline std::uint32_t crc32c(const void* data, std::size_t size) {
  return crc32c_extend(0, data, size);
}

/// The table-driven implementation, exposed so tests can compare it with the hardware path.
std::uint32_t crc32c_extend_portable(std::uint32_t crc, const void* data, std::size_t size);

}  // namespace quorumlab::storage::wal
