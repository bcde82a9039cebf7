// Reads served from the local tree (§1.1; FinalRequestProcessor) and the leader's queries.
#include <algorithm>
#include <utility>

#include "quorumlab/sm/path.hpp"
#include "tree_impl.hpp"

namespace quorumlab::sm {

using detail::Node;

Err DataTree::exists(std::string_view path, const AuthInfo& auth, Stat* stat) const {
  if (path.find('\0') != std::string_view::npos) return Err::BADARGUMENTS;
  const Node* n = impl_->find(path);
  if (!n) return Err::NONODE;
  if (!impl_->allowed(*n, perms::kRead, auth)) return Err::NOAUTH;
  if (stat) *stat = impl_->stat_of(*n);
  return Err::OK;
}

Err DataTree::get_data(std::string_view path, const AuthInfo& auth, Bytes* data, Stat* stat,
                       bool* null) const {
  const Bytes* own = nullptr;
  const Err err = get_data_view(path, auth, &own, stat, null);
  if (err == Err::OK && data) data->assign(own->begin(), own->end());
  return err;
}

Err DataTree::get_data_view(std::string_view path, const AuthInfo& auth, const Bytes** data,
                            Stat* stat, bool* null) const {
  const Node* n = impl_->find(path);
  if (!n) return Err::NONODE;
  if (!impl_->allowed(*n, perms::kRead, auth)) return Err::NOAUTH;
  *data = &n->data;
  if (null) *null = n->data_null;
  if (stat) *stat = impl_->stat_of(*n);
  return Err::OK;
}

namespace {

using detail::NameKey;

// Sorts by the 8-byte prefix with an LSD radix sort (byte columns that are equal everywhere
// are skipped), then orders runs of equal prefixes by full name. For wide nodes this is several
// times faster than a comparison sort, whose cost is mostly mispredicted branches.
void radix_sort(std::vector<NameKey>* keys, std::vector<NameKey>* tmp) {
  std::size_t counts[8][256] = {};
  for (const NameKey& k : *keys) {
    for (int b = 0; b < 8; ++b)
      counts[b][(k.prefix >> (8 * b)) & 0xFF]++;
  }
  tmp->resize(keys->size());
  for (int b = 0; b < 8; ++b) {
    std::size_t* c = counts[b];
    if (*std::max_element(c, c + 256) == keys->size()) continue;  // all equal in this byte
    std::size_t offset = 0;
    for (int v = 0; v < 256; ++v)
      offset += std::exchange(c[v], offset);
    for (const NameKey& k : *keys)
      (*tmp)[c[(k.prefix >> (8 * b)) & 0xFF]++] = k;
    keys->swap(*tmp);
  }
  for (auto run = keys->begin(); run != keys->end();) {
    auto end =
        std::find_if(run, keys->end(), [&](const NameKey& k) { return k.prefix != run->prefix; });
    if (end - run > 1) std::sort(run, end);
    run = end;
  }
}

// Children in ascending byte order. Creation order is often already sorted (sequential
// nodes), so the sort is skipped then. Narrow nodes are sorted in the output itself; wide ones
// through prefix keys in the tree's scratch buffers, so only the output allocates.
void sorted_child_names(const DataTree::Impl& t, const Node& n, std::vector<std::string>* out) {
  if (n.num_children < 64) {
    out->resize(static_cast<std::size_t>(n.num_children));
    std::size_t i = 0;
    for (const Node* c = n.first_child; c; c = c->next_sibling)
      (*out)[i++].assign(node_name(c->path));
    if (!std::is_sorted(out->begin(), out->end())) std::sort(out->begin(), out->end());
    return;
  }
  std::vector<NameKey>& keys = t.scratch_keys;
  keys.clear();
  for (const Node* c = n.first_child; c; c = c->next_sibling)
    keys.emplace_back(node_name(c->path));
  if (!std::is_sorted(keys.begin(), keys.end())) radix_sort(&keys, &t.scratch_keys_tmp);
  out->resize(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i)
    (*out)[i].assign(keys[i].name);
}

// Nodes with at least this many children keep their sorted answer until a child changes.
constexpr std::int32_t kCacheChildrenMin = 256;

}  // namespace

Err DataTree::get_children(std::string_view path, const AuthInfo& auth,
                           std::vector<std::string>* children, Stat* stat) const {
  const Node* n = impl_->find(path);
  if (!n) return Err::NONODE;
  if (!impl_->allowed(*n, perms::kRead, auth)) return Err::NOAUTH;
  if (children && n->num_children < kCacheChildrenMin) {
    sorted_child_names(*impl_, *n, children);
  } else if (children) {
    if (!n->sorted_names) {
      n->sorted_names = std::make_unique<std::vector<std::string>>();
      sorted_child_names(*impl_, *n, n->sorted_names.get());
    }
    *children = *n->sorted_names;
  }
  if (stat) *stat = impl_->stat_of(*n);
  return Err::OK;
}

Err DataTree::get_acl(std::string_view path, const AuthInfo& auth, AclList* acl, Stat* stat) const {
  const Node* n = impl_->find(path);
  if (!n) return Err::NONODE;
  if (!impl_->allowed(*n, perms::kRead | perms::kAdmin, auth)) return Err::NOAUTH;
  if (acl) {
    const AclList& stored = impl_->acls.list(n->acl_id);
    *acl = impl_->allowed(*n, perms::kAdmin, auth) ? stored : mask_digest_ids(stored);
  }
  if (stat) *stat = impl_->stat_of(*n);
  return Err::OK;
}

Err DataTree::get_all_children_number(std::string_view path, const AuthInfo& auth,
                                      std::int32_t* number) const {
  const Node* n = impl_->find(path);
  if (!n) return Err::NONODE;
  if (!impl_->allowed(*n, perms::kRead, auth)) return Err::NOAUTH;
  if (!number) return Err::OK;
  if (path.empty()) {  // ZooKeeper counts the keys that start with "/": every node but ""
    *number = static_cast<std::int32_t>(impl_->table.size());
    return Err::OK;
  }
  if (n == impl_->root) {
    *number = static_cast<std::int32_t>(impl_->table.size() - 1);
    return Err::OK;
  }
  std::int64_t count = 0;
  std::vector<const Node*>& stack = impl_->scratch_nodes;
  stack.assign(1, n);
  while (!stack.empty()) {
    const Node* top = stack.back();
    stack.pop_back();
    count += top->num_children;
    for (const Node* c = top->first_child; c; c = c->next_sibling) {
      if (c->first_child) stack.push_back(c);
    }
  }
  *number = static_cast<std::int32_t>(count);
  return Err::OK;
}

std::vector<std::string> DataTree::get_ephemerals(SessionId session,
                                                  std::string_view prefix) const {
  std::vector<std::string> out;
  auto it = impl_->sessions.find(session);
  if (it == impl_->sessions.end()) return out;
  // Java: prefixPath.trim() is empty or "/" -> all (trim strips chars <= ' ').
  std::size_t b = 0, e = prefix.size();
  while (b < e && static_cast<unsigned char>(prefix[b]) <= ' ')
    ++b;
  while (e > b && static_cast<unsigned char>(prefix[e - 1]) <= ' ')
    --e;
  const std::string_view trimmed = prefix.substr(b, e - b);
  const bool all = trimmed.empty() || trimmed == "/";
  for (const Node* n : it->second.ephemerals) {
    if (all || n->path.compare(0, prefix.size(), prefix) == 0) out.push_back(n->path);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<ReadResult> DataTree::multi_read(const std::vector<ReadOp>& ops,
                                             const AuthInfo& auth) const {
  std::vector<ReadResult> out(ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    ReadResult& r = out[i];
    if (ops[i].kind == ReadOp::Kind::kGetData) {
      r.err = get_data(ops[i].path, auth, &r.data, &r.stat, &r.data_null);
    } else {
      r.err = get_children(ops[i].path, auth, &r.children, nullptr);
    }
  }
  return out;
}

std::vector<SessionInfo> DataTree::sessions() const {
  std::vector<SessionInfo> out;
  out.reserve(impl_->sessions.size());
  for (const auto& [id, s] : impl_->sessions) {
    out.push_back(SessionInfo{id, s.timeout_ms, s.ephemerals.size()});
  }
  return out;
}

bool DataTree::has_session(SessionId session) const {
  return impl_->sessions.count(session) != 0;
}

std::vector<std::string> DataTree::expired_nodes(std::int64_t now_ms, std::size_t limit) const {
  std::vector<std::string> out;
  for (const auto* index : {&impl_->containers, &impl_->ttls}) {
    for (const Node* n : *index) {
      if (impl_->is_expired(*n, now_ms)) out.push_back(n->path);
    }
  }
  std::sort(out.begin(), out.end());
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace quorumlab::sm
