// Internal: interned ACL lists (ZooKeeper's ReferenceCountedACLCache). Nodes hold a 32-bit id.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <unordered_map>
#include <vector>

#include "quorumlab/sm/acl.hpp"

namespace quorumlab::sm::detail {

class AclCache {
 public:
  /// Returns the id of an equal list (adding one reference) or of a new entry holding `acl`
  /// with one reference. New ids are the smallest free id, so replicas that applied the
  /// same txns assign the same ids (ids are internal: snapshots renumber them densely).
  std::uint32_t intern(const AclList& acl);
  void add_ref(std::uint32_t id) { entries_[id].refs++; }
  /// Drops one reference; the entry is freed at zero.
  void release(std::uint32_t id);

  bool live(std::uint32_t id) const { return id < entries_.size() && entries_[id].refs > 0; }
  bool present(std::uint32_t id) const { return id < entries_.size() && entries_[id].acl; }
  const AclList& list(std::uint32_t id) const { return *entries_[id].acl; }
  const AclRef& ref(std::uint32_t id) const { return entries_[id].acl; }
  std::uint64_t hash(std::uint32_t id) const { return entries_[id].hash; }
  std::uint64_t refs(std::uint32_t id) const { return entries_[id].refs; }
  /// Perm bits granted to everyone (world:anyone entries), for a fast path in checks.
  std::int32_t world_perms(std::uint32_t id) const { return entries_[id].world_perms; }
  std::uint32_t id_limit() const { return static_cast<std::uint32_t>(entries_.size()); }

  /// Snapshot restore: puts `acl` at `id` with `refs` references. Returns false if the id is
  /// taken or the same list is already present.
  bool restore_entry(std::uint32_t id, AclList acl, std::uint64_t refs);
  /// Snapshot restore: rebuilds the free-id queue after all restore_entry calls.
  void finish_restore();

  static std::uint64_t hash_list(const AclList& acl);

 private:
  struct Entry {
    AclRef acl;
    std::uint64_t hash = 0;
    std::uint64_t refs = 0;
    std::int32_t world_perms = 0;
  };
  void fill(std::uint32_t id, AclList acl, std::uint64_t hash, std::uint64_t refs);

  std::vector<Entry> entries_;
  std::priority_queue<std::uint32_t, std::vector<std::uint32_t>, std::greater<>> free_ids_;
  std::unordered_multimap<std::uint64_t, std::uint32_t> by_hash_;
};

}  // namespace quorumlab::sm::detail
