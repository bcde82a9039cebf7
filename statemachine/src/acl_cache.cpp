#include "acl_cache.hpp"

#include <xxhash.h>

#include <memory>

#include "node_table.hpp"

namespace quorumlab::sm::detail {

std::uint64_t AclCache::hash_list(const AclList& acl) {
  // Chained XXH3 over (count, then per entry perms, scheme and id with their lengths mixed in
  // the seed): no allocation, and lists that differ anywhere hash differently.
  std::uint64_t h = hash_bytes(nullptr, 0) ^ acl.size();
  for (const Acl& a : acl) {
    h = XXH3_64bits_withSeed(&a.perms, sizeof a.perms, h);
    h = XXH3_64bits_withSeed(a.id.scheme.data(), a.id.scheme.size(), h + a.id.scheme.size());
    h = XXH3_64bits_withSeed(a.id.id.data(), a.id.id.size(), h + a.id.id.size());
  }
  return h;
}

void AclCache::fill(std::uint32_t id, AclList acl, std::uint64_t hash, std::uint64_t refs) {
  Entry& e = entries_[id];
  e.world_perms = 0;
  for (const Acl& a : acl) {
    if (a.id.scheme == "world" && a.id.id == "anyone") e.world_perms |= a.perms;
  }
  e.acl = std::make_shared<const AclList>(std::move(acl));
  e.hash = hash;
  e.refs = refs;
  by_hash_.emplace(hash, id);
}

std::uint32_t AclCache::intern(const AclList& acl) {
  const std::uint64_t h = hash_list(acl);
  auto [lo, hi] = by_hash_.equal_range(h);
  for (auto it = lo; it != hi; ++it) {
    if (*entries_[it->second].acl == acl) {
      entries_[it->second].refs++;
      return it->second;
    }
  }
  std::uint32_t id = 0;
  if (!free_ids_.empty()) {
    id = free_ids_.top();
    free_ids_.pop();
  } else {
    id = static_cast<std::uint32_t>(entries_.size());
    entries_.emplace_back();
  }
  fill(id, acl, h, 1);
  return id;
}

void AclCache::release(std::uint32_t id) {
  Entry& e = entries_[id];
  if (--e.refs > 0) return;
  auto [lo, hi] = by_hash_.equal_range(e.hash);
  for (auto it = lo; it != hi; ++it) {
    if (it->second == id) {
      by_hash_.erase(it);
      break;
    }
  }
  e.acl.reset();
  free_ids_.push(id);
}

bool AclCache::restore_entry(std::uint32_t id, AclList acl, std::uint64_t refs) {
  if (id < entries_.size() && entries_[id].acl) return false;
  const std::uint64_t h = hash_list(acl);
  auto [lo, hi] = by_hash_.equal_range(h);
  for (auto it = lo; it != hi; ++it) {
    if (*entries_[it->second].acl == acl) return false;
  }
  if (id >= entries_.size()) entries_.resize(std::size_t{id} + 1);
  fill(id, std::move(acl), h, refs);
  return true;
}

void AclCache::finish_restore() {
  for (std::uint32_t id = 0; id < entries_.size(); ++id) {
    if (!entries_[id].acl) free_ids_.push(id);
  }
}

}  // namespace quorumlab::sm::detail
