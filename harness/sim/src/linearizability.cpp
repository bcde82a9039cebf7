#include "quorumlab/sim/linearizability.hpp"

#include <algorithm>
#include <map>
#include <unordered_set>

namespace quorumlab::sim {

namespace {

/// One operation as the model sees it: data interned to small integers.
struct ModelOp {
  const HistoryOp* op = nullptr;
  bool unknown = false;  ///< no reply: effect unknown, result unconstrained
  std::uint32_t data = 0;
  std::uint32_t observed_data = 0;
};

/// Model state of one znode packed into 64 bits: bit 63 exists, bits 32..62 data id, low 32
/// bits the version.
using State = std::uint64_t;
constexpr State kAbsent = 0;
State make_state(std::uint32_t data, std::int32_t version) {
  return (1ULL << 63) | (static_cast<std::uint64_t>(data) << 32) |
         static_cast<std::uint32_t>(version);
}
bool exists(State s) {
  return (s >> 63) != 0;
}
std::uint32_t data_of(State s) {
  return static_cast<std::uint32_t>((s >> 32) & 0x7fffffffU);
}
std::int32_t version_of(State s) {
  return static_cast<std::int32_t>(s & 0xffffffffU);
}

bool version_matches(State s, std::int32_t expected) {
  return expected == -1 || expected == version_of(s);
}

/// The sequential specification: can `m` run in state `s` with the result it reported, and
/// what state does it leave?
bool step(State s, const ModelOp& m, State* next) {
  const HistoryOp& o = *m.op;
  *next = s;
  switch (o.kind) {
    case OpKind::create:
      if (m.unknown) {
        if (!exists(s)) *next = make_state(m.data, 0);
        return true;
      }
      if (o.err == zerr::ok) {
        if (exists(s)) return false;
        *next = make_state(m.data, 0);
        return true;
      }
      if (o.err == zerr::node_exists) return exists(s);
      return true;  // an error the model does not describe: no effect
    case OpKind::set:
      if (m.unknown) {
        if (exists(s) && version_matches(s, o.version)) {
          *next = make_state(m.data, version_of(s) + 1);
        }
        return true;
      }
      if (o.err == zerr::ok) {
        if (!exists(s) || !version_matches(s, o.version)) return false;
        if (o.observed.version != version_of(s) + 1) return false;
        *next = make_state(m.data, version_of(s) + 1);
        return true;
      }
      if (o.err == zerr::no_node) return !exists(s);
      if (o.err == zerr::bad_version) return exists(s) && !version_matches(s, o.version);
      return true;
    case OpKind::remove:
      if (m.unknown) {
        if (exists(s) && version_matches(s, o.version)) *next = kAbsent;
        return true;
      }
      if (o.err == zerr::ok) {
        if (!exists(s) || !version_matches(s, o.version)) return false;
        *next = kAbsent;
        return true;
      }
      if (o.err == zerr::no_node) return !exists(s);
      if (o.err == zerr::bad_version) return exists(s) && !version_matches(s, o.version);
      if (o.err == zerr::not_empty) return exists(s);
      return true;
    case OpKind::get:
      if (o.err == zerr::ok) {
        return exists(s) && data_of(s) == m.observed_data && version_of(s) == o.observed.version;
      }
      if (o.err == zerr::no_node) return !exists(s);
      return true;
    case OpKind::exists:
      if (o.err == zerr::ok) return exists(s) && version_of(s) == o.observed.version;
      if (o.err == zerr::no_node) return !exists(s);
      return true;
    case OpKind::sync:
      return true;
  }
  return true;
}

struct Entry {
  bool is_call = false;
  std::size_t op = 0;  ///< index into the ModelOp vector
  std::int64_t time = 0;
  std::size_t match = 0;  ///< the call's return entry / the return's call entry
  std::size_t prev = 0, next = 0;
};
constexpr std::size_t kNil = static_cast<std::size_t>(-1);

struct CacheKey {
  std::vector<std::uint64_t> bits;
  State state;
  bool operator==(const CacheKey& o) const { return state == o.state && bits == o.bits; }
};
struct CacheHash {
  std::size_t operator()(const CacheKey& k) const {
    std::uint64_t h = k.state * 0x9e3779b97f4a7c15ULL;
    for (auto w : k.bits)
      h = (h ^ w) * 0x100000001b3ULL + (h >> 29);
    return static_cast<std::size_t>(h);
  }
};

/// The doubly linked list of call/return entries of Wing & Gong's algorithm. Entry 0 is the
/// head sentinel.
class EntryList {
 public:
  explicit EntryList(const std::vector<ModelOp>& ops) {
    entries_.push_back(Entry{});
    struct Raw {
      std::int64_t time;
      bool is_call;
      std::size_t op;
    };
    std::vector<Raw> raw;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      raw.push_back({ops[i].op->invoke_us, true, i});
      const HistoryOp& o = *ops[i].op;
      // Returns at its reply, or by the time it is known to have taken effect if that is
      // earlier; with neither, at infinity.
      raw.push_back({std::min(o.complete_us, o.effect_by_us), false, i});
    }
    // Calls before returns at equal times: treating them as concurrent never rejects a
    // linearizable history.
    std::sort(raw.begin(), raw.end(), [](const Raw& a, const Raw& b) {
      if (a.time != b.time) return a.time < b.time;
      if (a.is_call != b.is_call) return a.is_call;
      return a.op < b.op;
    });
    // Calls with no return between them are all pending at once, so the search may try them
    // in any order. Try them in zxid order (writes before the reads of the state they made):
    // for a correct history the first path tried is then the one the system took, which keeps
    // the search short when many operations overlap (e.g. writes queued during an election).
    auto try_first = [&](const Raw& a, const Raw& b) {
      const HistoryOp& x = *ops[a.op].op;
      const HistoryOp& y = *ops[b.op].op;
      if (x.zxid != y.zxid) return x.zxid < y.zxid;
      if (is_read(x.kind) != is_read(y.kind)) return !is_read(x.kind);
      return a.op < b.op;
    };
    for (auto run = raw.begin(); run != raw.end();) {
      auto end = std::find_if(run, raw.end(), [](const Raw& r) { return !r.is_call; });
      std::sort(run, end, try_first);
      run = end == raw.end() ? end : end + 1;
    }
    std::vector<std::size_t> call_of(ops.size()), ret_of(ops.size());
    for (const auto& r : raw) {
      Entry e;
      e.is_call = r.is_call;
      e.op = r.op;
      e.time = r.time;
      (r.is_call ? call_of : ret_of)[r.op] = entries_.size();
      entries_.push_back(e);
    }
    for (std::size_t i = 0; i < ops.size(); ++i) {
      entries_[call_of[i]].match = ret_of[i];
      entries_[ret_of[i]].match = call_of[i];
    }
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      entries_[i].prev = i == 0 ? kNil : i - 1;
      entries_[i].next = i + 1 < entries_.size() ? i + 1 : kNil;
    }
  }
  Entry& operator[](std::size_t i) { return entries_[i]; }
  std::size_t first() const { return entries_[0].next; }

  /// Removes a call entry and its return from the list.
  void lift(std::size_t call) {
    unlink(call);
    unlink(entries_[call].match);
  }
  /// Puts them back (in reverse order of lift).
  void unlift(std::size_t call) {
    relink(entries_[call].match);
    relink(call);
  }

 private:
  void unlink(std::size_t i) {
    Entry& e = entries_[i];
    entries_[e.prev].next = e.next;
    if (e.next != kNil) entries_[e.next].prev = e.prev;
  }
  void relink(std::size_t i) {
    Entry& e = entries_[i];
    entries_[e.prev].next = i;
    if (e.next != kNil) entries_[e.next].prev = i;
  }
  std::vector<Entry> entries_;
};

std::string explain(const std::vector<ModelOp>& ops, const std::vector<bool>& best,
                    std::size_t stuck) {
  std::vector<std::size_t> order(ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return ops[a].op->invoke_us < ops[b].op->invoke_us;
  });
  std::size_t at = 0;
  if (stuck == kNil) stuck = order.empty() ? 0 : order[0];
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (order[i] == stuck) at = i;
  }
  std::size_t from = at > 15 ? at - 15 : 0;
  std::size_t to = std::min(order.size(), at + 10);
  std::string out;
  for (std::size_t i = from; i < to; ++i) {
    const std::size_t k = order[i];
    out += order[i] == stuck ? "  >> " : (best[k] ? "  ok " : "     ");
    out += ops[k].op->to_string() + "\n";
  }
  return out;
}

}  // namespace

LinearizabilityResult check_linearizable_key(const std::vector<const HistoryOp*>& history_ops,
                                             const LinearizabilityOptions& options) {
  LinearizabilityResult result;
  std::map<std::string, std::uint32_t> interned;
  auto intern = [&](const std::string& s) {
    return interned.emplace(s, static_cast<std::uint32_t>(interned.size() + 1)).first->second;
  };
  std::vector<ModelOp> ops;
  for (const HistoryOp* o : history_ops) {
    if (o->kind == OpKind::sync) continue;
    if (is_read(o->kind) && (!options.include_reads || !o->completed())) continue;
    ModelOp m;
    m.op = o;
    m.unknown = !o->completed() && !o->outcome_from_log;
    m.data = intern(o->data);
    m.observed_data = intern(o->observed.data);
    ops.push_back(m);
  }
  if (ops.empty()) return result;
  result.keys_checked = 1;
  result.ops_checked = ops.size();

  EntryList list(ops);
  const std::size_t words = (ops.size() + 63) / 64;
  std::vector<std::uint64_t> bits(words, 0);
  std::unordered_set<CacheKey, CacheHash> cache;
  std::vector<std::pair<std::size_t, State>> calls;  // (call entry, state before it)
  std::vector<bool> best(ops.size(), false);
  std::size_t best_depth = 0;
  std::size_t stuck = kNil;
  State state = kAbsent;
  std::size_t entry = list.first();
  std::uint64_t steps = 0;

  while (list.first() != kNil) {
    if (++steps > options.max_steps_per_key) {
      result.keys_unknown = 1;
      return result;
    }
    Entry& e = list[entry];
    if (e.is_call) {
      State next;
      if (step(state, ops[e.op], &next)) {
        bits[e.op / 64] |= 1ULL << (e.op % 64);
        if (cache.insert(CacheKey{bits, next}).second) {
          calls.emplace_back(entry, state);
          state = next;
          list.lift(entry);
          if (calls.size() > best_depth) {
            best_depth = calls.size();
            std::fill(best.begin(), best.end(), false);
            for (const auto& c : calls)
              best[list[c.first].op] = true;
          }
          entry = list.first();
          continue;
        }
        bits[e.op / 64] &= ~(1ULL << (e.op % 64));
      }
      entry = e.next;
    } else {
      // A return reached: its call could not be linearized before it. Backtrack.
      if (calls.empty()) {
        result.ok = false;
        result.failed_key = ops[0].op->key;
        result.explanation = explain(ops, best, stuck);
        return result;
      }
      if (calls.size() == best_depth || stuck == kNil) stuck = e.op;
      auto [call, before] = calls.back();
      calls.pop_back();
      state = before;
      const std::size_t op = list[call].op;
      bits[op / 64] &= ~(1ULL << (op % 64));
      list.unlift(call);
      entry = list[call].next;
    }
  }
  return result;
}

LinearizabilityResult check_linearizable(const History& history,
                                         const LinearizabilityOptions& options) {
  std::map<std::string, std::vector<const HistoryOp*>> by_key;
  for (const auto& op : history.ops) {
    if (op.kind != OpKind::sync) by_key[op.key].push_back(&op);
  }
  LinearizabilityResult total;
  for (const auto& [key, ops] : by_key) {
    LinearizabilityResult r = check_linearizable_key(ops, options);
    total.keys_checked += r.keys_checked;
    total.ops_checked += r.ops_checked;
    total.keys_unknown += r.keys_unknown;
    if (!r.ok) {
      total.ok = false;
      total.failed_key = r.failed_key;
      total.explanation = r.explanation;
      return total;
    }
  }
  return total;
}

}  // namespace quorumlab::sim
