#include "quorumlab/sim/checkers.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <functional>
#include <limits>
#include <set>

#include "quorumlab/sim/trace.hpp"
#include "quorumlab/sm/data_tree.hpp"

namespace quorumlab::sim {

namespace {

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%#" PRIx64, v);
  return buf;
}

std::string describe(const ReplicaChecker::Committed& c) {
  return "zxid " + hex(c.zxid) + " data hash " + hex(c.data_hash) + " (first applied by node " +
         std::to_string(c.node) + " incarnation " + std::to_string(c.incarnation) + ")";
}

}  // namespace

// ------------------------------------------------------------------ ReplicaChecker

std::optional<Violation> ReplicaChecker::on_applied(NodeId node, std::uint32_t incarnation,
                                                    const node::AppliedInfo& info,
                                                    std::int64_t now_us) {
  const std::string who =
      "node " + std::to_string(node) + " incarnation " + std::to_string(incarnation);
  if (info.data) {
    Last& last = last_[node];
    if (last.incarnation == incarnation && last.index != 0 &&
        (info.index <= last.index || info.zxid <= last.zxid)) {
      return Violation{"applied_in_order", who + " applied index " + std::to_string(info.index) +
                                               " zxid " + hex(info.zxid) + " after index " +
                                               std::to_string(last.index) + " zxid " +
                                               hex(last.zxid)};
    }
    last = {incarnation, info.index, info.zxid};
    const std::uint64_t h = hash_bytes(*info.data);
    auto [it, inserted] = committed_.try_emplace(info.index);
    if (inserted) {
      it->second = Committed{info.zxid, h, node, incarnation, *info.data, now_us};
    } else if (it->second.zxid != info.zxid || it->second.data_hash != h) {
      const bool same_node = it->second.node == node;
      return Violation{same_node ? "committed_txns_never_change" : "same_txns_same_order",
                       who + " applied index " + std::to_string(info.index) + " as zxid " +
                           hex(info.zxid) + " data hash " + hex(h) + ", but it was committed as " +
                           describe(it->second)};
    }
    auto [zit, zinserted] = index_of_zxid_.emplace(info.zxid, info.index);
    if (!zinserted && zit->second != info.index) {
      return Violation{"same_txns_same_order", who + " applied zxid " + hex(info.zxid) +
                                                   " at index " + std::to_string(info.index) +
                                                   ", elsewhere it is at index " +
                                                   std::to_string(zit->second)};
    }
  } else {
    // A snapshot: the replica jumped to (index, zxid). It must agree with what was applied.
    auto it = committed_.find(info.index);
    if (it != committed_.end() && it->second.zxid != info.zxid) {
      return Violation{"same_txns_same_order", who + " restored a snapshot at index " +
                                                   std::to_string(info.index) + " zxid " +
                                                   hex(info.zxid) + ", but that index is " +
                                                   describe(it->second)};
    }
    last_[node] = {incarnation, info.index, info.zxid};
  }
  max_zxid_ = std::max(max_zxid_, info.zxid);
  auto [dit, dinserted] = digest_at_.try_emplace(info.zxid, info.digest, node);
  if (!dinserted && dit->second.first != info.digest) {
    return Violation{"digest_at_zxid", who + " has digest " + hex(info.digest) + " at zxid " +
                                           hex(info.zxid) + ", node " +
                                           std::to_string(dit->second.second) + " had " +
                                           hex(dit->second.first)};
  }
  return std::nullopt;
}

std::optional<Violation> ReplicaChecker::on_status(NodeId node, const BroadcastStatus& s) {
  if (s.role != Role::leader) return std::nullopt;
  auto [it, inserted] = leader_of_epoch_.emplace(s.epoch, node);
  if (!inserted && it->second != node) {
    return Violation{"one_leader_per_epoch", "node " + std::to_string(node) +
                                                 " is leader in epoch " + std::to_string(s.epoch) +
                                                 ", which node " + std::to_string(it->second) +
                                                 " led"};
  }
  return std::nullopt;
}

// ------------------------------------------------------------------ stale reads

namespace {
double mean_ms(const std::vector<std::int64_t>& us) {
  if (us.empty()) return 0;
  double sum = 0;
  for (auto v : us)
    sum += static_cast<double>(v);
  return sum / static_cast<double>(us.size()) / 1000.0;
}
}  // namespace

void StaleReadStats::merge(const StaleReadStats& o) {
  reads += o.reads;
  stale += o.stale;
  versions_sum += o.versions_sum;
  versions_max = std::max(versions_max, o.versions_max);
  ms_sum += o.ms_sum;
  ms_max = std::max(ms_max, o.ms_max);
  versions_samples.insert(versions_samples.end(), o.versions_samples.begin(),
                          o.versions_samples.end());
  ms_samples.insert(ms_samples.end(), o.ms_samples.begin(), o.ms_samples.end());
  latency_us.insert(latency_us.end(), o.latency_us.begin(), o.latency_us.end());
  if (over_bound == 0) over_bound_example = o.over_bound_example;
  over_bound += o.over_bound;
}

std::string StaleReadStats::to_string() const {
  char buf[256];
  const double rate = reads ? 100.0 * static_cast<double>(stale) / static_cast<double>(reads) : 0;
  const double v = stale ? static_cast<double>(versions_sum) / static_cast<double>(stale) : 0;
  const double ms = stale ? static_cast<double>(ms_sum) / static_cast<double>(stale) : 0;
  std::snprintf(buf, sizeof buf,
                "%" PRIu64 " of %" PRIu64
                " reads stale (%.2f%%); staleness versions mean %.2f p99 %u max %" PRIu64
                ", ms mean %.1f p99 %" PRId64 " max %" PRId64
                "; read latency ms mean %.1f p99 %.1f",
                stale, reads, rate, v, percentile(versions_samples, 99), versions_max, ms,
                percentile(ms_samples, 99), ms_max, mean_ms(latency_us),
                static_cast<double>(percentile(latency_us, 99)) / 1000.0);
  return buf;
}

// ------------------------------------------------------------------ history checks

namespace {

/// What a client request's txn did when it was applied (from the reference tree).
struct Outcome {
  Zxid zxid = 0;
  std::int32_t err = 0;
  sm::Stat stat;
  std::int64_t applied_us = 0;  ///< first applied anywhere: it took effect before that
};

/// The state of each workload key after each committed change, from the reference tree.
struct Timeline {
  std::map<std::string, std::vector<std::pair<Zxid, ZnodeState>>> changes;
  std::map<std::pair<SessionId, std::int32_t>, Outcome> outcomes;  ///< by (session, cxid)
  Zxid complete_upto = 0;  ///< the reference knows every txn up to here
  bool complete = true;
  std::optional<Violation> violation;

  ZnodeState at(const std::string& key, Zxid zxid) const {
    auto it = changes.find(key);
    if (it == changes.end()) return {};
    const auto& v = it->second;
    auto pos = std::upper_bound(v.begin(), v.end(), zxid,
                                [](Zxid z, const auto& p) { return z < p.first; });
    if (pos == v.begin()) return {};
    return std::prev(pos)->second;
  }
  /// Changes of `key` with zxid in (lo, hi].
  std::uint64_t changes_between(const std::string& key, Zxid lo, Zxid hi) const {
    auto it = changes.find(key);
    if (it == changes.end()) return 0;
    std::uint64_t n = 0;
    for (const auto& [z, s] : it->second)
      n += (z > lo && z <= hi) ? 1 : 0;
    return n;
  }
  bool deleted_between(const std::string& key, Zxid lo, Zxid hi) const {
    auto it = changes.find(key);
    if (it == changes.end()) return false;
    for (const auto& [z, s] : it->second) {
      if (z > lo && z <= hi && !s.exists) return true;
    }
    return false;
  }
};

const std::string* txn_path(const sm::Txn& t) {
  if (auto* c = std::get_if<sm::CreateOp>(&t.op)) return &c->path;
  if (auto* d = std::get_if<sm::DeleteOp>(&t.op)) return &d->path;
  if (auto* s = std::get_if<sm::SetDataOp>(&t.op)) return &s->path;
  return nullptr;
}

Timeline build_timeline(const History& history, const ReplicaChecker& replicas) {
  Timeline tl;
  std::set<std::string> keys;
  for (const auto& op : history.ops) {
    if (op.kind != OpKind::sync) keys.insert(op.key);
  }
  sm::DataTree tree;
  LogIndex expect = 1;
  for (const auto& [index, c] : replicas.committed()) {
    if (index != expect) {
      tl.complete = false;  // a gap: some entry was only ever installed through a snapshot
      break;
    }
    ++expect;
    tl.complete_upto = c.zxid;
    if (c.data.empty()) continue;
    std::string error;
    auto txn = sm::decode(c.data, &error);
    if (!txn) continue;  // replicas skip it the same way
    const sm::TxnResult result = tree.apply(*txn, c.zxid, nullptr);
    if (txn->header.cxid > 0) {  // a client request (session txns and expiries have cxid 0)
      auto key = std::make_pair(txn->header.session_id, txn->header.cxid);
      auto [it, inserted] = tl.outcomes.try_emplace(
          key, Outcome{c.zxid, sm::err_code(result.err), result.stat, c.first_applied_us});
      if (!inserted && !tl.violation) {
        tl.violation =
            Violation{"request_applied_once",
                      "the request of session " + hex(static_cast<std::uint64_t>(key.first)) +
                          " xid " + std::to_string(key.second) + " was committed twice, as zxid " +
                          hex(it->second.zxid) + " and as zxid " + hex(c.zxid)};
      }
    }
    const std::string* path = txn_path(*txn);
    if (path == nullptr || keys.count(*path) == 0) continue;
    ZnodeState s;
    Bytes data;
    sm::Stat stat;
    if (tree.get_data(*path, sm::AuthInfo{}, &data, &stat) == sm::Err::OK) {
      s = ZnodeState{true, std::string(data.begin(), data.end()), stat.version,
                     static_cast<Zxid>(stat.mzxid), static_cast<Zxid>(stat.czxid)};
    }
    auto& v = tl.changes[*path];
    const ZnodeState before = v.empty() ? ZnodeState{} : v.back().second;
    if (!(before == s)) v.emplace_back(c.zxid, s);
  }
  return tl;
}

/// The reference of a recorded history: every state of a key some operation reports, at the
/// zxid that made it (see check_recorded_history).
Timeline timeline_from_history(const History& h) {
  Timeline tl;
  tl.complete = false;  // writes without a reply may have made changes nobody reported
  std::map<std::string, std::map<Zxid, std::pair<ZnodeState, const HistoryOp*>>> seen;
  std::map<Zxid, const HistoryOp*> write_at;
  auto report = [&](const HistoryOp& op, Zxid zxid, const ZnodeState& state) {
    auto [it, inserted] = seen[op.key].try_emplace(zxid, state, &op);
    if (!inserted && !(it->second.first == state) && !tl.violation) {
      tl.violation =
          Violation{"one_state_per_zxid", op.key + " at zxid " + hex(zxid) + ": " +
                                              it->second.second->to_string() + " reports " +
                                              it->second.first.to_string() + ", but " +
                                              op.to_string() + " reports " + state.to_string()};
    }
  };
  for (const auto& op : h.ops) {
    if (!op.completed() || op.err != zerr::ok) continue;
    tl.complete_upto = std::max(tl.complete_upto, op.zxid);
    if (is_write(op.kind)) {
      const Zxid z = op.kind == OpKind::remove ? op.zxid : op.observed.mzxid;
      auto [it, inserted] = write_at.try_emplace(z, &op);
      if (!inserted && !tl.violation) {
        tl.violation =
            Violation{"one_txn_per_zxid", "two writes report zxid " + hex(z) + ": " +
                                              it->second->to_string() + " and " + op.to_string()};
      }
      report(op, z, op.kind == OpKind::remove ? ZnodeState{} : op.observed);
    } else if (op.kind == OpKind::get && op.observed.exists) {
      report(op, op.observed.mzxid, op.observed);
    }
  }
  for (const auto& [key, states] : seen) {
    auto& v = tl.changes[key];
    for (const auto& [zxid, s] : states) {
      if (v.empty() || !(v.back().second == s.first)) v.emplace_back(zxid, s.first);
    }
  }
  return tl;
}

/// acknowledged_write_lost: per key, the final read (the last successful getData invoked after
/// every write to the key was invoked and had its reply or was given up) against the key's
/// acknowledged writes.
void count_lost_writes(const History& h, HistoryCheckResult* out) {
  struct Key {
    std::vector<const HistoryOp*> acked;
    std::int64_t last_write_event = std::numeric_limits<std::int64_t>::min();
    const HistoryOp* final_read = nullptr;
  };
  std::map<std::string, Key> keys;
  for (const auto& op : h.ops) {
    if (!is_write(op.kind)) continue;
    Key& k = keys[op.key];
    k.last_write_event =
        std::max(k.last_write_event, op.completed() ? op.complete_us : op.invoke_us);
    if (op.completed() && op.err == zerr::ok) {
      k.acked.push_back(&op);
      ++out->acknowledged_writes;
    }
  }
  for (const auto& op : h.ops) {
    if (op.kind != OpKind::get || !op.completed() || op.err != zerr::ok) continue;
    auto it = keys.find(op.key);
    if (it == keys.end() || op.invoke_us <= it->second.last_write_event) continue;
    it->second.final_read = &op;  // ops are in invocation order: the last one wins
  }
  for (const auto& [key, k] : keys) {
    if (!k.final_read) continue;
    ++out->keys_with_final_read;
    const ZnodeState& fin = k.final_read->observed;
    for (const HistoryOp* w : k.acked) {
      const bool lost =
          w->kind == OpKind::remove ? fin.czxid < w->zxid : fin.mzxid < w->observed.mzxid;
      if (!lost) continue;
      if (out->lost_writes++ == 0) {
        out->lost_write_example = "acknowledged " + w->to_string() + ", but the final read " +
                                  k.final_read->to_string() + " does not show it";
      }
    }
  }
}

/// session_zxid_monotonic: each session's replies, in the order they came, never go back in
/// zxid.
std::optional<Violation> check_session_zxids(const History& h) {
  std::map<std::pair<int, SessionId>, std::vector<const HistoryOp*>> by_session;
  for (const auto& op : h.ops) {
    if (op.completed() && op.zxid != 0) by_session[{op.client, op.session}].push_back(&op);
  }
  for (auto& [session, ops] : by_session) {
    std::stable_sort(ops.begin(), ops.end(), [](const HistoryOp* a, const HistoryOp* b) {
      return a->complete_us < b->complete_us;
    });
    const HistoryOp* highest = nullptr;
    for (const HistoryOp* op : ops) {
      if (highest && op->zxid < highest->zxid) {
        return Violation{"session_zxid_monotonic",
                         "reply " + op->to_string() + " came after the session saw zxid " +
                             hex(highest->zxid) + " in " + highest->to_string()};
      }
      if (!highest || op->zxid > highest->zxid) highest = op;
    }
  }
  return std::nullopt;
}

bool same_as_reference(const HistoryOp& r, const ZnodeState& ref) {
  if (r.err == zerr::no_node) return !ref.exists;
  if (!ref.exists) return false;
  const ZnodeState& o = r.observed;
  const bool stat_equal = o.version == ref.version && o.mzxid == ref.mzxid && o.czxid == ref.czxid;
  return r.kind == OpKind::exists ? stat_equal : stat_equal && o.data == ref.data;
}

std::optional<Violation> check_reads_against_reference(const History& h, const Timeline& tl,
                                                       std::size_t* checked) {
  for (const auto& r : h.ops) {
    if (!is_read(r.kind) || !r.completed()) continue;
    if (r.err != zerr::ok && r.err != zerr::no_node) continue;
    if (!tl.complete && r.zxid > tl.complete_upto) continue;
    ++*checked;
    const ZnodeState ref = tl.at(r.key, r.zxid);
    if (!same_as_reference(r, ref)) {
      return Violation{"read_matches_zxid", "read " + r.to_string() + " but at its zxid " +
                                                hex(r.zxid) + " the key was " + ref.to_string()};
    }
  }
  return std::nullopt;
}

std::optional<Violation> check_read_your_writes(const History& h, const Timeline& tl) {
  // The last successful own write per (client, session, key), in session order.
  std::map<std::tuple<int, SessionId, std::string>, const HistoryOp*> last_write;
  for (const auto& op : h.ops) {  // invocation order = session order within a session
    auto key = std::make_tuple(op.client, op.session, op.key);
    if (is_write(op.kind)) {
      if (op.completed() && op.err == zerr::ok) last_write[key] = &op;
      continue;
    }
    if (!is_read(op.kind) || !op.completed()) continue;
    if (op.err != zerr::ok && op.err != zerr::no_node) continue;
    auto it = last_write.find(key);
    if (it == last_write.end()) continue;
    const HistoryOp& w = *it->second;
    std::string why;
    if (op.zxid < w.zxid) {
      why = "its reply zxid is older than the write's";
    } else if (op.err == zerr::ok) {
      if (w.kind == OpKind::remove && op.observed.czxid <= w.zxid) {
        why = "it shows the node the session deleted";
      } else if (w.kind != OpKind::remove && op.observed.mzxid < w.zxid) {
        why = "it shows data older than the session's write";
      }
    } else if (w.kind != OpKind::remove && (tl.complete || op.zxid <= tl.complete_upto) &&
               !tl.deleted_between(op.key, w.zxid, op.zxid)) {
      why = "the node is missing although nobody deleted it after the session's write";
    }
    if (!why.empty()) {
      return Violation{"read_your_writes",
                       "read " + op.to_string() + " after own write " + w.to_string() + ": " + why};
    }
  }
  return std::nullopt;
}

StaleReadStats count_stale_reads(const History& h, const Timeline& tl,
                                 std::optional<std::int64_t> bound_ms) {
  // Per key: successful writes by completion time.
  std::map<std::string, std::vector<const HistoryOp*>> writes;
  for (const auto& op : h.ops) {
    if (is_write(op.kind) && op.completed() && op.err == zerr::ok) writes[op.key].push_back(&op);
  }
  for (auto& [k, v] : writes) {
    std::sort(v.begin(), v.end(), [](const HistoryOp* a, const HistoryOp* b) {
      return a->complete_us < b->complete_us;
    });
  }
  StaleReadStats st;
  for (const auto& r : h.ops) {
    if (!is_read(r.kind) || !r.completed()) continue;
    if (r.err != zerr::ok && r.err != zerr::no_node) continue;
    ++st.reads;
    st.latency_us.push_back(r.complete_us - r.invoke_us);
    auto it = writes.find(r.key);
    if (it == writes.end()) continue;
    Zxid required = 0;
    std::int64_t first_missed_us = HistoryOp::kNoReply;
    for (const HistoryOp* w : it->second) {
      if (w->complete_us >= r.invoke_us) break;
      required = std::max(required, w->zxid);
      if (w->zxid > r.zxid) first_missed_us = std::min(first_missed_us, w->complete_us);
    }
    if (required <= r.zxid) continue;
    ++st.stale;
    const std::uint64_t versions =
        std::max<std::uint64_t>(1, tl.changes_between(r.key, r.zxid, required));
    st.versions_sum += versions;
    st.versions_max = std::max(st.versions_max, versions);
    const std::int64_t ms = (r.invoke_us - first_missed_us) / 1000;
    st.ms_sum += ms;
    st.ms_max = std::max(st.ms_max, ms);
    st.versions_samples.push_back(
        static_cast<std::uint32_t>(std::min<std::uint64_t>(versions, UINT32_MAX)));
    st.ms_samples.push_back(ms);
    if (bound_ms && r.invoke_us - first_missed_us > *bound_ms * 1000) {
      if (st.over_bound++ == 0) {
        st.over_bound_example = "read " + r.to_string() + " missed a write completed " +
                                std::to_string((r.invoke_us - first_missed_us) / 1000) +
                                " ms before it began (bound " + std::to_string(*bound_ms) + " ms)";
      }
    }
  }
  return st;
}

/// Reads served at or after a write their session sent later (see HistoryCheckResult);
/// `example` describes the first one.
std::uint64_t count_session_order_anomalies(const History& h, std::string* example) {
  std::map<std::pair<int, SessionId>, std::vector<const HistoryOp*>> by_session;
  for (const auto& op : h.ops)
    by_session[{op.client, op.session}].push_back(&op);
  std::uint64_t n = 0;
  std::uint64_t example_read = std::numeric_limits<std::uint64_t>::max();
  for (const auto& [session, ops] : by_session) {
    const HistoryOp* later_write = nullptr;  // the later write with the lowest zxid
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
      const HistoryOp& op = **it;
      if (!op.completed()) continue;
      if (is_write(op.kind)) {
        if (!later_write || op.zxid < later_write->zxid) later_write = &op;
      } else if (is_read(op.kind) && later_write && op.zxid >= later_write->zxid) {
        ++n;
        if (op.id < example_read) {
          example_read = op.id;
          *example = "read " + op.to_string() + " was served after the later write " +
                     later_write->to_string();
        }
      }
    }
  }
  return n;
}

/// The history with what the committed log says about every write: a write whose txn was
/// committed took effect no later than the first apply of that txn anywhere (its commit came
/// before), and one without a reply gets its result from the log; a write without a reply
/// whose txn never was committed is left out (the run is over: it never took effect).
History resolve_unknown_writes(const History& h, const Timeline& tl) {
  History out;
  out.ops.reserve(h.ops.size());
  for (const auto& op : h.ops) {
    if (!is_write(op.kind)) {
      out.ops.push_back(op);
      continue;
    }
    auto it = tl.outcomes.find({op.session, op.xid});
    if (it == tl.outcomes.end()) {
      if (op.completed() || !tl.complete) out.ops.push_back(op);
      continue;
    }
    HistoryOp r = op;
    // Its txn's commit, before any replica applied it, is when it took effect: no later than
    // the first apply, however late its reply came.
    r.effect_by_us = std::max(it->second.applied_us, op.invoke_us);
    if (!op.completed()) {
      r.outcome_from_log = true;
      r.err = it->second.err;
      r.zxid = it->second.zxid;
      const sm::Stat& st = it->second.stat;
      if (r.err == zerr::ok && op.kind != OpKind::remove) {
        r.observed = ZnodeState{true, op.data, st.version, static_cast<Zxid>(st.mzxid),
                                static_cast<Zxid>(st.czxid)};
      }
    }
    out.ops.push_back(std::move(r));
  }
  return out;
}

}  // namespace

namespace {

/// The checks both entry points share, in the order of their verdicts.
void check_against(const History& history, const Timeline& tl, const History& resolved,
                   const HistoryCheckOptions& options, HistoryCheckResult& out,
                   const std::function<std::optional<Violation>()>& extra) {
  out.reference_complete = tl.complete;
  out.stale = count_stale_reads(history, tl, options.staleness_bound_ms);
  out.session_order_anomalies = count_session_order_anomalies(history, &out.session_order_example);
  auto on = [&](const std::string& p) { return options.disabled.count(p) == 0; };
  if (tl.violation && on(tl.violation->property)) {
    out.violation = tl.violation;
    return;
  }
  if (extra) {
    if (auto v = extra(); v && on(v->property)) {
      out.violation = v;
      return;
    }
  }
  if (out.session_order_anomalies != 0 && on("fifo_execution_order")) {
    out.violation = Violation{"fifo_execution_order",
                              std::to_string(out.session_order_anomalies) +
                                  " read(s) served at or after a write their session sent later; "
                                  "the first: " +
                                  out.session_order_example};
    return;
  }
  if (on("read_matches_zxid")) {
    if (auto v = check_reads_against_reference(history, tl, &out.reads_checked_against_reference)) {
      out.violation = v;
      return;
    }
  }
  if (on("read_your_writes")) {
    if (auto v = check_read_your_writes(history, tl)) {
      out.violation = v;
      return;
    }
  }
  if (out.stale.over_bound != 0 && on("bounded_staleness")) {
    out.violation = Violation{"bounded_staleness", std::to_string(out.stale.over_bound) +
                                                       " read(s) staler than the policy's bound; "
                                                       "the first: " +
                                                       out.stale.over_bound_example};
    return;
  }
  if (!on("linearizable")) return;
  LinearizabilityOptions lo = options.linearizability;
  lo.include_reads = options.linearizable_reads;
  out.linearizability = check_linearizable(resolved, lo);
  if (!out.linearizability.ok) {
    out.violation = Violation{"linearizable",
                              "key " + out.linearizability.failed_key + " has no linearization (" +
                                  (lo.include_reads ? "reads and writes" : "writes only") +
                                  "); its operations ('>>' could not be "
                                  "placed, 'ok' in the longest partial one):\n" +
                                  out.linearizability.explanation};
  }
}

}  // namespace

HistoryCheckResult check_history(const History& history, const ReplicaChecker& replicas,
                                 const HistoryCheckOptions& options) {
  HistoryCheckResult out;
  const Timeline tl = build_timeline(history, replicas);
  check_against(history, tl, resolve_unknown_writes(history, tl), options, out, nullptr);
  return out;
}

HistoryCheckResult check_recorded_history(const History& history,
                                          const HistoryCheckOptions& options) {
  HistoryCheckResult out;
  const Timeline tl = timeline_from_history(history);
  count_lost_writes(history, &out);
  check_against(history, tl, history, options, out, [&]() -> std::optional<Violation> {
    if (out.lost_writes != 0 && options.disabled.count("acknowledged_write_lost") == 0) {
      return Violation{"acknowledged_write_lost",
                       std::to_string(out.lost_writes) + " of " +
                           std::to_string(out.acknowledged_writes) +
                           " acknowledged write(s) missing from their key's final read; the "
                           "first: " +
                           out.lost_write_example};
    }
    if (options.disabled.count("session_zxid_monotonic") != 0) return std::nullopt;
    return check_session_zxids(history);
  });
  return out;
}

}  // namespace quorumlab::sim
