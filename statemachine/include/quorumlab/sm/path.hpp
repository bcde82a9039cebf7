// Znode path rules (reference/zookeeper.md §1.6, `PathUtils.validatePath`).
#pragma once

#include <string_view>

#include "quorumlab/sm/err.hpp"

namespace quorumlab::sm {

/// True iff `path` is a valid znode path per §1.6. Paths are UTF-8; the character rules are
/// applied to code points exactly as Java applies them to UTF-16 units, so:
/// - empty, not starting with '/', ending with '/' (except "/"), "//", a "." or ".." segment
///   are invalid;
/// - NUL, U+0001..U+001F, U+007F..U+009F, U+D800..U+F8FF, U+FFF0..U+FFFF are invalid, and so is
///   every code point above U+FFFF (Java sees it as a surrogate pair, in U+D800..U+DFFF);
/// - malformed UTF-8 is invalid (Java would decode it to U+FFFD, which is in U+FFF0..U+FFFF).
bool is_valid_path(std::string_view path);

/// OK if `is_valid_path(path)`, otherwise BADARGUMENTS (how the server reports it).
Err validate_path(std::string_view path);

/// The parent of a path that contains a '/' after position 0 or is a child of the root:
/// "/a/b" -> "/a", "/a" -> "/", "/" -> "/". Precondition: path starts with '/'.
std::string_view parent_path(std::string_view path);

/// The last segment: "/a/b" -> "b", "/" -> "".
std::string_view node_name(std::string_view path);

/// The special paths of the initial tree (`DataTree.isSpecialPath`): "/", "/zookeeper",
/// "/zookeeper/quota", "/zookeeper/config". Deleting them is BADARGUMENTS.
bool is_special_path(std::string_view path);

}  // namespace quorumlab::sm
