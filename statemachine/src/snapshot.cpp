// Snapshot format, version 1. Fixed-width little-endian integers; str/bytes are a u32 length
// followed by the bytes.
//
//   magic    8 bytes "QLSNAP\0\1"
//   u32      format version (1)
//   u64      last applied zxid
//   u64      digest of the state (checked after restore)
//   u64      session count, then per session (ascending id): i64 id, i32 timeout_ms
//   u64      ACL count, then per ACL: u32 id, u32 n, n * (i32 perms, str scheme, str id)
//   u64      node count, then per node in breadth-first order (parents before children,
//            siblings in creation order): str path, bytes data, u32 acl id, i64 czxid,
//            i64 mzxid, i64 pzxid, i64 ctime, i64 mtime, i64 ephemeralOwner (persisted),
//            i32 version, i32 cversion (persisted), i32 aversion, u8 kind (NodeKind, plus
//            0x80 when the node holds null data; its data bytes are then empty)
//   u64      XXH3-64 of every byte before it
#include <xxhash.h>

#include <cstring>
#include <functional>
#include <istream>
#include <iterator>
#include <ostream>
#include <unordered_map>

#include "quorumlab/sm/path.hpp"
#include "tree_impl.hpp"

namespace quorumlab::sm {

using detail::Node;
using detail::NodeKind;

namespace {

constexpr std::uint8_t kMagic[8] = {'Q', 'L', 'S', 'N', 'A', 'P', 0, 1};
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::size_t kChecksumBytes = 8;
constexpr std::uint8_t kNullDataBit = 0x80;  ///< in a node's kind byte
constexpr std::size_t kChunkBytes = 1 << 16;
// Smallest encodings, used to bound counts before allocating.
constexpr std::size_t kMinSessionBytes = 12;
constexpr std::size_t kMinAclBytes = 8;
constexpr std::size_t kMinAclEntryBytes = 12;
constexpr std::size_t kMinNodeBytes = 4 + 4 + 4 + 6 * 8 + 3 * 4 + 1;

/// Buffers output in chunks, hashing each chunk as it is handed to the sink.
class SnapshotWriter {
 public:
  template <typename Sink>
  explicit SnapshotWriter(Sink sink) : sink_(std::move(sink)), state_(XXH3_createState()) {
    XXH3_64bits_reset(state_);
    buf_.reserve(kChunkBytes);
  }
  ~SnapshotWriter() { XXH3_freeState(state_); }
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  void raw(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    if (buf_.size() + n > kChunkBytes) flush();
    if (n > kChunkBytes) {
      XXH3_64bits_update(state_, b, n);
      sink_(b, n);
      return;
    }
    buf_.insert(buf_.end(), b, b + n);
  }
  template <typename T>
  void fixed(T v) {
    std::uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));  // little-endian hosts only (x86-64, aarch64)
    raw(b, sizeof(T));
  }
  void str(const void* p, std::size_t n) {
    fixed(static_cast<std::uint32_t>(n));
    raw(p, n);
  }
  void finish() {
    flush();
    const std::uint64_t checksum = XXH3_64bits_digest(state_);
    std::uint8_t b[8];
    std::memcpy(b, &checksum, 8);
    sink_(b, 8);
  }

 private:
  void flush() {
    if (buf_.empty()) return;
    XXH3_64bits_update(state_, buf_.data(), buf_.size());
    sink_(buf_.data(), buf_.size());
    buf_.clear();
  }

  std::function<void(const std::uint8_t*, std::size_t)> sink_;
  XXH3_state_t* state_;
  std::vector<std::uint8_t> buf_;
};

class SnapshotReader {
 public:
  SnapshotReader(const std::uint8_t* p, std::size_t n) : p_(p), end_(p + n) {}
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  template <typename T>
  bool fixed(T* v) {
    if (remaining() < sizeof(T)) return false;
    std::memcpy(v, p_, sizeof(T));
    p_ += sizeof(T);
    return true;
  }
  bool count(std::size_t min_item_bytes, std::size_t* n) {
    std::uint64_t v = 0;
    if (!fixed(&v) || v > remaining() / min_item_bytes) return false;
    *n = static_cast<std::size_t>(v);
    return true;
  }
  template <typename Out>
  bool str(Out* out) {
    std::uint32_t n = 0;
    if (!fixed(&n) || n > remaining()) return false;
    out->assign(p_, p_ + n);
    p_ += n;
    return true;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

void write_node(SnapshotWriter& w, const Node& n) {
  w.str(n.path.data(), n.path.size());
  w.str(n.data.data(), n.data.size());
  w.fixed(n.acl_id);
  for (std::int64_t v : {n.czxid, n.mzxid, n.pzxid, n.ctime, n.mtime, n.owner})
    w.fixed(v);
  for (std::int32_t v : {n.version, n.cversion, n.aversion})
    w.fixed(v);
  w.fixed(static_cast<std::uint8_t>(static_cast<std::uint8_t>(n.kind) |
                                    (n.data_null ? kNullDataBit : 0)));
}

bool read_node(SnapshotReader& r, Node* n) {
  std::uint8_t kind = 0;
  const bool ok = r.str(&n->path) && r.str(&n->data) && r.fixed(&n->acl_id) && r.fixed(&n->czxid) &&
                  r.fixed(&n->mzxid) && r.fixed(&n->pzxid) && r.fixed(&n->ctime) &&
                  r.fixed(&n->mtime) && r.fixed(&n->owner) && r.fixed(&n->version) &&
                  r.fixed(&n->cversion) && r.fixed(&n->aversion) && r.fixed(&kind);
  n->data_null = (kind & kNullDataBit) != 0;
  kind = static_cast<std::uint8_t>(kind & ~kNullDataBit);
  n->kind = static_cast<NodeKind>(kind);
  return ok && kind <= static_cast<std::uint8_t>(NodeKind::kTtl) &&
         !(n->data_null && !n->data.empty());
}

// Rebuilds the state from a checksum-verified body. Returns an error text or nullptr.
class Restorer {
 public:
  Restorer(DataTree::Impl* impl, SnapshotReader* r) : t_(impl), r_(r) {}

  const char* run() {
    std::uint8_t magic[8];
    std::uint32_t version = 0;
    if (!r_->fixed(&magic) || std::memcmp(magic, kMagic, 8) != 0) return "bad magic";
    if (!r_->fixed(&version) || version != kFormatVersion) return "unsupported version";
    if (!r_->fixed(&t_->last_zxid) || !r_->fixed(&digest_)) return "truncated header";
    if (const char* e = read_sessions()) return e;
    if (const char* e = read_acls()) return e;
    if (const char* e = read_nodes()) return e;
    if (r_->remaining() != 0) return "trailing bytes";
    return finish();
  }

 private:
  const char* read_sessions() {
    std::size_t n = 0;
    if (!r_->count(kMinSessionBytes, &n)) return "bad session count";
    for (std::size_t i = 0; i < n; ++i) {
      SessionId id = 0;
      std::int32_t timeout = 0;
      if (!r_->fixed(&id) || !r_->fixed(&timeout)) return "truncated session";
      if (id == 0 || (!t_->sessions.empty() && id <= t_->sessions.rbegin()->first)) {
        return "sessions not ascending";
      }
      t_->sessions[id].timeout_ms = timeout;
      t_->digest += DataTree::Impl::session_hash(id, timeout);
    }
    return nullptr;
  }

  const char* read_acls() {
    std::size_t n = 0;
    if (!r_->count(kMinAclBytes, &n)) return "bad ACL count";
    for (std::size_t i = 0; i < n; ++i) {
      std::uint32_t id = 0, entries = 0;
      if (!r_->fixed(&id) || !r_->fixed(&entries)) return "truncated ACL";
      if (entries > r_->remaining() / kMinAclEntryBytes) return "bad ACL length";
      AclList acl(entries);
      for (Acl& a : acl) {
        if (!r_->fixed(&a.perms) || !r_->str(&a.id.scheme) || !r_->str(&a.id.id)) {
          return "truncated ACL entry";
        }
      }
      // Ids are renumbered densely (a live tree's ids may be sparse after many frees).
      const auto dense = static_cast<std::uint32_t>(i);
      if (!acl_ids_.emplace(id, dense).second) return "duplicate ACL id";
      if (!t_->acls.restore_entry(dense, std::move(acl), 0)) return "duplicate ACL";
    }
    return nullptr;
  }

  const char* read_nodes() {
    std::size_t n = 0;
    if (!r_->count(kMinNodeBytes, &n)) return "bad node count";
    t_->table.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      auto node = std::make_unique<Node>();
      if (!read_node(*r_, node.get())) return "truncated node";
      if (const char* e = add_node(std::move(node))) return e;
    }
    return nullptr;
  }

  const char* add_node(std::unique_ptr<Node> n) {
    if (!is_valid_path(n->path)) return "invalid node path";
    n->path_hash = detail::hash_path(n->path);
    n->data_hash = detail::hash_data(n->data, n->data_null);
    auto acl = acl_ids_.find(n->acl_id);
    if (acl == acl_ids_.end()) return "unknown ACL id";
    n->acl_id = acl->second;
    if (t_->table.find(n->path, n->path_hash)) return "duplicate node";
    if (const char* e = check_kind(*n)) return e;
    t_->acls.add_ref(n->acl_id);
    if (!t_->root) {
      if (n->path != "/") return "first node is not the root";
      t_->root = n.release();
      t_->table.insert(t_->root);
      t_->digest += t_->node_hash(*t_->root);
      t_->data_size += t_->root->path.size() + t_->root->data.size();
      return nullptr;
    }
    // Breadth-first order: siblings arrive together, so the previous parent usually matches.
    const std::string_view parent = parent_path(n->path);
    if (!last_parent_ || last_parent_->path != parent) last_parent_ = t_->find(parent);
    n->parent = last_parent_;
    if (!n->parent || n->path == "/") return "node before its parent";
    if (n->parent->kind == NodeKind::kEphemeral) return "child of an ephemeral";
    t_->attach(std::move(n));
    return nullptr;
  }

  const char* check_kind(const Node& n) const {
    switch (n.kind) {
      case NodeKind::kEphemeral:
        return t_->sessions.count(n.owner) ? nullptr : "ephemeral of an unknown session";
      case NodeKind::kContainer:
        return n.owner == kContainerEphemeralOwner ? nullptr : "bad container owner";
      case NodeKind::kTtl:
        return (n.owner & ~kTtlMaxMs) == ttl_ephemeral_owner(0) ? nullptr : "bad TTL owner";
      case NodeKind::kPersistent:
        return n.owner == 0 ? nullptr : "bad persistent owner";
    }
    return "bad kind";
  }

  const char* finish() {
    if (!t_->root) return "no root";
    for (const char* p : {"/zookeeper", "/zookeeper/quota", "/zookeeper/config"}) {
      if (!t_->find(p)) return "missing system node";
    }
    for (std::uint32_t id = 0; id < t_->acls.id_limit(); ++id) {
      if (t_->acls.present(id) && t_->acls.refs(id) == 0) return "unreferenced ACL";
    }
    t_->acls.finish_restore();
    if (t_->digest != digest_) return "digest mismatch";
    return nullptr;
  }

  DataTree::Impl* t_;
  SnapshotReader* r_;
  std::uint64_t digest_ = 0;
  std::unordered_map<std::uint32_t, std::uint32_t> acl_ids_;  // snapshot id -> restored id
  Node* last_parent_ = nullptr;
};

template <typename Sink>
void write_all(const DataTree::Impl& t, Sink sink) {
  SnapshotWriter w(std::move(sink));
  w.raw(kMagic, sizeof kMagic);
  w.fixed(kFormatVersion);
  w.fixed(static_cast<std::uint64_t>(t.last_zxid));
  w.fixed(t.digest);
  w.fixed(static_cast<std::uint64_t>(t.sessions.size()));
  for (const auto& [id, s] : t.sessions) {
    w.fixed(id);
    w.fixed(s.timeout_ms);
  }
  std::uint64_t acl_count = 0;
  for (std::uint32_t id = 0; id < t.acls.id_limit(); ++id)
    acl_count += t.acls.present(id);
  w.fixed(acl_count);
  for (std::uint32_t id = 0; id < t.acls.id_limit(); ++id) {
    if (!t.acls.present(id)) continue;
    const AclList& acl = t.acls.list(id);
    w.fixed(id);
    w.fixed(static_cast<std::uint32_t>(acl.size()));
    for (const Acl& a : acl) {
      w.fixed(a.perms);
      w.str(a.id.scheme.data(), a.id.scheme.size());
      w.str(a.id.id.data(), a.id.id.size());
    }
  }
  w.fixed(static_cast<std::uint64_t>(t.table.size()));
  std::vector<const Node*> queue;
  queue.reserve(t.table.size());
  queue.push_back(t.root);
  for (std::size_t i = 0; i < queue.size(); ++i) {
    write_node(w, *queue[i]);
    for (const Node* c = queue[i]->first_child; c; c = c->next_sibling)
      queue.push_back(c);
  }
  w.finish();
}

}  // namespace

Bytes DataTree::serialize() const {
  Bytes out;
  out.reserve(impl_->data_size + impl_->table.size() * (kMinNodeBytes + 8) + 4096);
  write_all(*impl_,
            [&out](const std::uint8_t* p, std::size_t n) { out.insert(out.end(), p, p + n); });
  return out;
}

void DataTree::write_snapshot(std::ostream& os) const {
  write_all(*impl_, [&os](const std::uint8_t* p, std::size_t n) {
    os.write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n));
  });
}

std::optional<DataTree> DataTree::restore(const std::uint8_t* data, std::size_t size,
                                          std::string* error, TreeConfig config) {
  auto fail = [&](const char* why) -> std::optional<DataTree> {
    if (error) *error = std::string("snapshot: ") + why;
    return std::nullopt;
  };
  if (size < sizeof kMagic + kChecksumBytes) return fail("truncated");
  std::uint64_t stored = 0;
  std::memcpy(&stored, data + size - kChecksumBytes, kChecksumBytes);
  if (XXH3_64bits(data, size - kChecksumBytes) != stored) return fail("checksum mismatch");
  auto impl = std::make_unique<Impl>(std::move(config), Impl::EmptyTag{});
  SnapshotReader r(data, size - kChecksumBytes);
  if (const char* e = Restorer(impl.get(), &r).run()) return fail(e);
  return DataTree(std::move(impl));
}

std::optional<DataTree> DataTree::read_snapshot(std::istream& in, std::string* error,
                                                TreeConfig config) {
  Bytes all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    if (error) *error = "snapshot: read error";
    return std::nullopt;
  }
  return restore(all.data(), all.size(), error, std::move(config));
}

}  // namespace quorumlab::sm
