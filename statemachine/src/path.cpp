#include "quorumlab/sm/path.hpp"

#include <cstdint>

namespace quorumlab::sm {

namespace {

// Decodes one UTF-8 code point starting at path[*i]; advances *i. Returns false on malformed
// input (truncated, bad continuation, overlong, surrogate encodings, > U+10FFFF).
bool next_code_point(std::string_view path, std::size_t* i, std::uint32_t* cp) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(path[k]); };
  const std::uint8_t b0 = byte(*i);
  std::size_t len = 0;
  std::uint32_t min = 0;
  if (b0 < 0x80) {
    *cp = b0;
    *i += 1;
    return true;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, *cp = b0 & 0x1Fu;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, *cp = b0 & 0x0Fu;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, *cp = b0 & 0x07u;
  } else {
    return false;
  }
  if (*i + len > path.size()) return false;
  for (std::size_t k = 1; k < len; ++k) {
    const std::uint8_t b = byte(*i + k);
    if ((b & 0xC0) != 0x80) return false;
    *cp = (*cp << 6) | (b & 0x3Fu);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return false;
  *i += len;
  return true;
}

// The character classes PathUtils rejects (in UTF-16 units; see the header for > U+FFFF).
bool is_forbidden_code_point(std::uint32_t c) {
  return c == 0 || (c >= 0x01 && c <= 0x1F) || (c >= 0x7F && c <= 0x9F) ||
         (c >= 0xD800 && c <= 0xF8FF) || (c >= 0xFFF0 && c <= 0xFFFF) || c > 0xFFFF;
}

bool is_relative_segment(std::string_view seg) {
  return seg == "." || seg == "..";
}

}  // namespace

bool is_valid_path(std::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  if (path.size() == 1) return true;
  if (path.back() == '/') return false;
  std::size_t seg_start = 1;
  std::size_t i = 1;
  while (i < path.size()) {
    if (path[i] == '/') {
      const std::string_view seg = path.substr(seg_start, i - seg_start);
      if (seg.empty() || is_relative_segment(seg)) return false;
      seg_start = ++i;
      continue;
    }
    std::uint32_t cp = 0;
    if (!next_code_point(path, &i, &cp) || is_forbidden_code_point(cp)) return false;
  }
  return !is_relative_segment(path.substr(seg_start));
}

Err validate_path(std::string_view path) {
  return is_valid_path(path) ? Err::OK : Err::BADARGUMENTS;
}

std::string_view parent_path(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) return path.substr(0, 1);
  return path.substr(0, slash);
}

std::string_view node_name(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool is_special_path(std::string_view path) {
  return path == "/" || path == "/zookeeper" || path == "/zookeeper/quota" ||
         path == "/zookeeper/config";
}

}  // namespace quorumlab::sm
