#include "node_table.hpp"

#include <xxhash.h>

#include <stdexcept>

namespace quorumlab::sm::detail {

namespace {
constexpr std::size_t kInitialCapacity = 64;
// Grow when more than 3/4 full: linear probing degrades quickly beyond that.
bool over_load(std::size_t size, std::size_t capacity) {
  return size * 4 > capacity * 3;
}
}  // namespace

std::uint64_t hash_bytes(const void* data, std::size_t size) {
  return XXH3_64bits(data, size);
}

NodeTable::NodeTable() : slots_(kInitialCapacity, nullptr), mask_(kInitialCapacity - 1) {}

void NodeTable::place(Node* n) {
  std::size_t i = n->path_hash & mask_;
  while (slots_[i])
    i = (i + 1) & mask_;
  slots_[i] = n;
}

void NodeTable::rehash(std::size_t capacity) {
  std::vector<Node*> old;
  old.swap(slots_);
  slots_.assign(capacity, nullptr);
  mask_ = capacity - 1;
  for (Node* n : old) {
    if (n) place(n);
  }
}

void NodeTable::reserve(std::size_t n) {
  std::size_t capacity = slots_.size();
  while (over_load(n, capacity))
    capacity *= 2;
  if (capacity != slots_.size()) rehash(capacity);
}

void NodeTable::insert(Node* n) {
  if (over_load(size_ + 1, slots_.size())) rehash(slots_.size() * 2);
  place(n);
  ++size_;
}

void NodeTable::erase(Node* n) {
  std::size_t i = n->path_hash & mask_;
  while (slots_[i] != n) {
    if (!slots_[i]) throw std::logic_error("NodeTable::erase: node not present");
    i = (i + 1) & mask_;
  }
  // Backward-shift deletion: move later members of the probe run into the hole when their
  // home slot does not lie cyclically in (hole, j].
  std::size_t j = i;
  while (true) {
    j = (j + 1) & mask_;
    Node* m = slots_[j];
    if (!m) break;
    const std::size_t home = m->path_hash & mask_;
    const bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
    if (!stays) {
      slots_[i] = m;
      i = j;
    }
  }
  slots_[i] = nullptr;
  --size_;
}

}  // namespace quorumlab::sm::detail
