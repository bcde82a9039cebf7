// SHA-1 and base64, as needed for ZooKeeper digest ids (reference/zookeeper.md §1.7).
// Our own implementations (FIPS 180-4 and RFC 4648); not for security-critical use beyond
// matching ZooKeeper's digest scheme.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace quorumlab::sm {

using Sha1Digest = std::array<std::uint8_t, 20>;

/// SHA-1 of `size` bytes at `data`.
Sha1Digest sha1(const void* data, std::size_t size);
inline Sha1Digest sha1(std::string_view s) {
  return sha1(s.data(), s.size());
}

/// Standard base64 (alphabet A-Z a-z 0-9 + /) with '=' padding, as java.util.Base64.
std::string base64_encode(const std::uint8_t* data, std::size_t size);

}  // namespace quorumlab::sm
