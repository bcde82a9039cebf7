// Internal: the znode record and the path -> node hash table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "quorumlab/types.hpp"

namespace quorumlab::sm::detail {

/// What kind of node, derived from the CreateMode (the persisted ephemeralOwner alone would be
/// ambiguous for session ids whose top byte is 0xFF).
enum class NodeKind : std::uint8_t { kPersistent = 0, kEphemeral = 1, kContainer = 2, kTtl = 3 };

/// One znode. Children form an intrusive doubly linked list in creation order:
/// `first_child->prev_sibling` is the last child (so appending is O(1)) and the last child's
/// `next_sibling` is null.
struct Node {
  std::string path;
  std::uint64_t path_hash = 0;
  Node* parent = nullptr;
  Node* first_child = nullptr;
  Node* next_sibling = nullptr;
  Node* prev_sibling = nullptr;
  Bytes data;
  std::uint64_t data_hash = 0;
  // StatPersisted.
  std::int64_t czxid = 0;
  std::int64_t mzxid = 0;
  std::int64_t pzxid = 0;
  std::int64_t ctime = 0;
  std::int64_t mtime = 0;
  std::int64_t owner = 0;  ///< persisted ephemeralOwner: session, container marker or TTL form
  std::int32_t version = 0;
  std::int32_t cversion = 0;  ///< persisted: counts child creates only
  std::int32_t aversion = 0;
  std::int32_t num_children = 0;
  std::uint32_t acl_id = 0;
  NodeKind kind = NodeKind::kPersistent;
  bool data_null = false;  ///< null data (ZooKeeper's null byte[]); `data` is then empty
  /// getChildren answer cache for wide nodes, dropped whenever a child is added or removed.
  /// Not part of the state (a read may fill it).
  mutable std::unique_ptr<std::vector<std::string>> sorted_names;
};

std::uint64_t hash_bytes(const void* data, std::size_t size);
/// Node::data_hash: the hash of the bytes, or a fixed value for null data (so a null and an
/// empty node give different digests).
inline std::uint64_t hash_data(const Bytes& data, bool null) {
  constexpr std::uint64_t kNullDataHash = 0x6e756c6c64617461ull;  // "nulldata"
  return null ? kNullDataHash : hash_bytes(data.data(), data.size());
}
inline std::uint64_t hash_path(std::string_view path) {
  return hash_bytes(path.data(), path.size());
}

/// Open-addressing hash table (linear probing, backward-shift deletion) of Node pointers keyed
/// by Node::path, using the cached Node::path_hash. Does not own the nodes.
class NodeTable {
 public:
  NodeTable();

  Node* find(std::string_view path, std::uint64_t hash) const {
    std::size_t i = hash & mask_;
    while (Node* n = slots_[i]) {
      if (n->path_hash == hash && n->path == path) return n;
      i = (i + 1) & mask_;
    }
    return nullptr;
  }
  Node* find(std::string_view path) const { return find(path, hash_path(path)); }

  /// Precondition: no node with n->path is present; n->path_hash is set.
  void insert(Node* n);
  /// Precondition: n is present.
  void erase(Node* n);
  std::size_t size() const { return size_; }
  void reserve(std::size_t n);

  template <typename F>
  void for_each(F&& f) const {
    for (Node* n : slots_) {
      if (n) f(n);
    }
  }

 private:
  void place(Node* n);
  void rehash(std::size_t capacity);

  std::vector<Node*> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace quorumlab::sm::detail
