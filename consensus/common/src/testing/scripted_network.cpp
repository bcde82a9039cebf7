#include "quorumlab/consensus/testing/scripted_network.hpp"

#include <algorithm>
#include <sstream>

#include "quorumlab/log.hpp"
#include "quorumlab/rng.hpp"

namespace quorumlab::consensus::testing {

// ---- snapshot format ---------------------------------------------------------------------

namespace {

void put_u64(Bytes& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::uint64_t get_u64(const Bytes& in, std::size_t& pos) {
  if (pos > in.size() || in.size() - pos < 8) {
    throw InvariantViolation("snapshot data: truncated at byte " + std::to_string(pos));
  }
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<std::uint64_t>(in[pos + static_cast<std::size_t>(i)]) << (8 * i);
  pos += 8;
  return v;
}

const char* role_name(Role r) {
  return to_string(r);
}

}  // namespace

LogIndex DurableDisk::last_index() const {
  if (!entries.empty()) return entries.back().index;
  return snapshot ? snapshot->last_index : 0;
}

Bytes encode_applied(const std::vector<AppliedTxn>& txns) {
  Bytes out;
  put_u64(out, txns.size());
  for (const auto& t : txns) {
    put_u64(out, t.index);
    put_u64(out, t.epoch);
    put_u64(out, t.zxid);
    put_u64(out, t.data.size());
    out.insert(out.end(), t.data.begin(), t.data.end());
  }
  return out;
}

std::vector<AppliedTxn> decode_applied(const Bytes& data) {
  std::size_t pos = 0;
  std::uint64_t n = get_u64(data, pos);
  std::vector<AppliedTxn> out;
  for (std::uint64_t i = 0; i < n; ++i) {
    AppliedTxn t;
    t.index = get_u64(data, pos);
    t.epoch = get_u64(data, pos);
    t.zxid = get_u64(data, pos);
    std::uint64_t len = get_u64(data, pos);
    if (len > data.size() - pos) throw InvariantViolation("snapshot data: txn longer than input");
    t.data.assign(data.begin() + static_cast<std::ptrdiff_t>(pos),
                  data.begin() + static_cast<std::ptrdiff_t>(pos + len));
    pos += len;
    out.push_back(std::move(t));
  }
  if (pos != data.size()) throw InvariantViolation("snapshot data: trailing bytes");
  return out;
}

// ---- per-node state ----------------------------------------------------------------------

class ScriptedNetwork::Source final : public SnapshotSource {
 public:
  explicit Source(const std::vector<AppliedTxn>& applied) : applied_(applied) {}
  Snapshot take_snapshot() override {
    Snapshot s;
    if (!applied_.empty()) {
      s.last_index = applied_.back().index;
      s.last_epoch = applied_.back().epoch;
      s.last_zxid = applied_.back().zxid;
    }
    s.data = encode_applied(applied_);
    return s;
  }

 private:
  const std::vector<AppliedTxn>& applied_;
};

struct ScriptedNetwork::Node {
  struct Batch {
    std::optional<Snapshot> snapshot;
    std::optional<LogIndex> truncate_after;
    std::vector<LogEntry> entries;
    std::optional<HardState> hard_state;
    std::vector<PeerMessage> after_persist;
    LogIndex last_index_after = 0;
  };

  NodeId id = 0;
  bool up = false;
  bool auto_persist = true;
  std::uint64_t incarnation = 0;
  std::unique_ptr<Rng> rng;
  RecordingTracer tracer;
  std::unique_ptr<PluginContext> ctx;
  std::vector<AppliedTxn> applied;
  Source source{applied};
  std::unique_ptr<Broadcast> plugin;
  DurableDisk disk;
  MemoryLog storage;
  std::deque<Batch> pending;
  std::vector<BarrierResult> barrier_results;
  std::set<std::uint64_t> barriers_asked;
  std::set<std::uint64_t> barriers_resolved;
  BroadcastStatus last_status;
  std::size_t snapshots_installed = 0;

  LogIndex applied_index() const { return applied.empty() ? 0 : applied.back().index; }
  Zxid applied_zxid() const { return applied.empty() ? 0 : applied.back().zxid; }
};

// ---- construction ------------------------------------------------------------------------

ScriptedNetwork::ScriptedNetwork(BroadcastFactory factory, Options options)
    : factory_(std::move(factory)), options_(std::move(options)) {
  ids_ = options_.membership.voters;
  ids_.insert(ids_.end(), options_.membership.observers.begin(),
              options_.membership.observers.end());
  std::sort(ids_.begin(), ids_.end());
  for (NodeId id : ids_) {
    auto n = std::make_unique<Node>();
    n->id = id;
    n->tracer.set_enabled(options_.trace);
    nodes_.emplace(id, std::move(n));
  }
}

ScriptedNetwork::~ScriptedNetwork() = default;

void ScriptedNetwork::preload(NodeId id, DurableDisk disk) {
  if (started_) throw std::logic_error("ScriptedNetwork::preload after start");
  node(id).disk = std::move(disk);
}

void ScriptedNetwork::start() {
  if (started_) throw std::logic_error("ScriptedNetwork::start called twice");
  started_ = true;
  for (NodeId id : ids_)
    boot(node(id));
  after_step("start", 0);
}

ScriptedNetwork::Node& ScriptedNetwork::node(NodeId id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) throw std::logic_error("ScriptedNetwork: no node " + std::to_string(id));
  return *it->second;
}

const ScriptedNetwork::Node& ScriptedNetwork::node(NodeId id) const {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) throw std::logic_error("ScriptedNetwork: no node " + std::to_string(id));
  return *it->second;
}

void ScriptedNetwork::boot(Node& n) {
  n.incarnation++;
  n.rng =
      std::make_unique<Rng>(Rng(options_.seed).fork((std::uint64_t{n.id} << 24) + n.incarnation));
  n.ctx = std::make_unique<PluginContext>();
  n.ctx->self = n.id;
  n.ctx->membership = options_.membership;
  n.ctx->params = options_.params;
  n.ctx->rng = n.rng.get();
  n.ctx->tracer = &n.tracer;
  n.ctx->logger = log::get(options_.logger_name);
  n.plugin = factory_(*n.ctx);
  n.plugin->set_snapshot_source(&n.source);

  // The state machine and the storage view come back from the disk.
  n.applied.clear();
  n.storage.reset(0, 0, 0);
  if (n.disk.snapshot) {
    n.applied = decode_applied(n.disk.snapshot->data);
    n.storage.reset(n.disk.snapshot->last_index, n.disk.snapshot->last_epoch,
                    n.disk.snapshot->last_zxid);
  }
  for (const auto& e : n.disk.entries)
    n.storage.append(e);
  n.pending.clear();
  n.barriers_asked.clear();
  n.barriers_resolved.clear();

  RecoveredLog rec;
  rec.hard_state = n.disk.hard_state;
  rec.snapshot = n.disk.snapshot;
  rec.entries = n.disk.entries;
  n.up = true;
  n.plugin->restore(rec);
  pump(n);
}

// ---- executing Readies -------------------------------------------------------------------

void ScriptedNetwork::pump(Node& n) {
  drain_ready(n);
  std::size_t guard = 0;
  while (n.up && n.auto_persist && !n.pending.empty()) {
    if (++guard > options_.max_readies_per_step)
      violation("node " + std::to_string(n.id) + " never quiesces (persist loop)");
    complete_one(n);
    drain_ready(n);
  }
}

void ScriptedNetwork::drain_ready(Node& n) {
  std::size_t guard = 0;
  while (n.up && n.plugin->has_ready()) {
    if (++guard > options_.max_readies_per_step) {
      violation("node " + std::to_string(n.id) + " never quiesces (has_ready stays true)");
    }
    Ready rd = n.plugin->ready();
    execute(n, rd);
    n.plugin->advance();
  }
}

void ScriptedNetwork::execute(Node& n, Ready& rd) {
  const std::string who = "node " + std::to_string(n.id);
  Node::Batch b;
  if (rd.snapshot) {
    install_snapshot(n, *rd.snapshot);
    b.snapshot = *rd.snapshot;
  }
  if (rd.truncate_after) {
    if (*rd.truncate_after < n.storage.base_index()) {
      violation(who + " truncates to " + std::to_string(*rd.truncate_after) +
                " below its snapshot at " + std::to_string(n.storage.base_index()));
    }
    n.storage.truncate_after(*rd.truncate_after);
    b.truncate_after = rd.truncate_after;
  }
  for (auto& e : rd.entries) {
    if (e.index != n.storage.last_index() + 1) {
      violation(who + " appends index " + std::to_string(e.index) + " after storage index " +
                std::to_string(n.storage.last_index()) + " (storage appends must be dense)");
    }
    n.storage.append(e);
    b.entries.push_back(e);
  }
  b.hard_state = rd.hard_state;
  for (const auto& m : rd.messages)
    send(n.id, m, "messages");
  b.after_persist = std::move(rd.messages_after_persist);
  if (b.snapshot || b.truncate_after || !b.entries.empty() || b.hard_state ||
      !b.after_persist.empty()) {
    b.last_index_after = n.storage.last_index();
    n.pending.push_back(std::move(b));
  }
  for (const auto& c : rd.committed)
    apply_committed(n, c);
  for (const auto& r : rd.barriers) {
    if (!n.barriers_asked.count(r.id)) {
      violation(who + " resolves barrier " + std::to_string(r.id) + " that was not asked");
    }
    if (!n.barriers_resolved.insert(r.id).second) {
      violation(who + " resolves barrier " + std::to_string(r.id) + " twice");
    }
    if (r.ok && r.index > 0) {
      auto it = history_.find(r.index);
      if (it == history_.end() || it->second.zxid != r.zxid) {
        violation(who + " resolves barrier " + std::to_string(r.id) + " at index " +
                  std::to_string(r.index) + " zxid " + std::to_string(r.zxid) +
                  ", which is not a committed point");
      }
    }
    n.barrier_results.push_back(r);
  }
  if (rd.status) n.last_status = *rd.status;
}

void ScriptedNetwork::complete_one(Node& n) {
  Node::Batch b = std::move(n.pending.front());
  n.pending.pop_front();
  const std::string who = "node " + std::to_string(n.id);
  DurableDisk& d = n.disk;
  if (b.snapshot) {
    d.snapshot = *b.snapshot;
    d.entries.clear();
  }
  if (b.truncate_after) {
    if (d.snapshot && *b.truncate_after < d.snapshot->last_index) {
      violation(who + " durable truncation below the durable snapshot");
    }
    while (!d.entries.empty() && d.entries.back().index > *b.truncate_after)
      d.entries.pop_back();
  }
  for (auto& e : b.entries) {
    if (e.index != d.last_index() + 1) violation(who + " durable append not dense");
    d.entries.push_back(std::move(e));
  }
  if (b.hard_state) d.hard_state = *b.hard_state;
  if (d.last_index() != b.last_index_after) {
    violation(who + " disk last index " + std::to_string(d.last_index()) +
              " differs from the storage view " + std::to_string(b.last_index_after));
  }
  for (const auto& m : b.after_persist)
    send(n.id, m, "messages_after_persist");
  n.plugin->persisted(b.last_index_after);
}

void ScriptedNetwork::send(NodeId from, const PeerMessage& m, const char* where) {
  if (m.from != 0 && m.from != from) {
    violation("node " + std::to_string(from) + " sends a message (" + where +
              ") claiming to be from " + std::to_string(m.from));
  }
  if (m.to == from || !nodes_.count(m.to)) {
    violation("node " + std::to_string(from) + " sends a message (" + where + ") to " +
              std::to_string(m.to) + ", which is not a peer");
  }
  if (!link_up(from, m.to)) return;
  flight_.push_back(Envelope{next_message_id_++, from, m.to, m.payload});
}

void ScriptedNetwork::apply_committed(Node& n, const CommittedTxn& c) {
  const std::string who = "node " + std::to_string(n.id);
  if (c.index != n.applied_index() + 1) {
    violation(who + " applies index " + std::to_string(c.index) + " after " +
              std::to_string(n.applied_index()));
  }
  if (c.zxid <= n.applied_zxid()) {
    violation(who + " applies zxid " + std::to_string(c.zxid) + " after zxid " +
              std::to_string(n.applied_zxid()) + " (zxids must increase)");
  }
  auto z = n.storage.zxid_at(c.index);
  if (!z || *z != c.zxid || (n.storage.contains(c.index) && n.storage.at(c.index).data != c.data)) {
    violation(who + " commits index " + std::to_string(c.index) + " zxid " +
              std::to_string(c.zxid) + " that is not the entry in its own log");
  }
  AppliedTxn t{c.index, *n.storage.epoch_at(c.index), c.zxid, c.data};
  record_history(t, n.id);
  n.applied.push_back(std::move(t));
}

void ScriptedNetwork::install_snapshot(Node& n, const Snapshot& s) {
  const std::string who = "node " + std::to_string(n.id);
  std::vector<AppliedTxn> txns = decode_applied(s.data);
  LogIndex expect = 1;
  for (const auto& t : txns) {
    if (t.index != expect++) violation(who + " received a snapshot with a gap");
    record_history(t, n.id);
  }
  LogIndex last = txns.empty() ? 0 : txns.back().index;
  Zxid last_zxid = txns.empty() ? 0 : txns.back().zxid;
  if (last != s.last_index || last_zxid != s.last_zxid) {
    violation(who + " received a snapshot whose metadata (" + std::to_string(s.last_index) +
              ") does not match its data (" + std::to_string(last) + ")");
  }
  if (s.last_index < n.applied_index()) {
    violation(who + " received a snapshot at " + std::to_string(s.last_index) +
              " that rolls back applied txns up to " + std::to_string(n.applied_index()));
  }
  n.applied = std::move(txns);
  n.storage.reset(s.last_index, s.last_epoch, s.last_zxid);
  n.snapshots_installed++;
}

void ScriptedNetwork::record_history(const AppliedTxn& t, NodeId by) {
  auto it = history_.find(t.index);
  if (it != history_.end()) {
    if (it->second.zxid != t.zxid || it->second.data != t.data) {
      violation("node " + std::to_string(by) + " applies zxid " + std::to_string(t.zxid) +
                " at index " + std::to_string(t.index) + " where zxid " +
                std::to_string(it->second.zxid) + " was applied before (divergent histories)");
    }
    return;
  }
  auto next = history_.upper_bound(t.index);
  if (next != history_.end() && next->second.zxid <= t.zxid) {
    violation("index " + std::to_string(t.index) + " zxid " + std::to_string(t.zxid) +
              " is not below the zxid at index " + std::to_string(next->first));
  }
  if (next != history_.begin()) {
    auto prev = std::prev(next);
    if (prev->second.zxid >= t.zxid) {
      violation("index " + std::to_string(t.index) + " zxid " + std::to_string(t.zxid) +
                " is not above the zxid at index " + std::to_string(prev->first));
    }
  }
  history_.emplace(t.index, t);
}

// ---- checks ------------------------------------------------------------------------------

void ScriptedNetwork::after_step(const char* what, NodeId id) {
  steps_++;
  current_step_ = std::string(what) + (id ? " n" + std::to_string(id) : std::string());
  check();
}

void ScriptedNetwork::check() {
  for (NodeId id : ids_) {
    Node& n = node(id);
    if (!n.up) continue;
    std::string err = n.plugin->check_invariants();
    if (!err.empty()) violation("node " + std::to_string(id) + " check_invariants: " + err);
    BroadcastStatus st = n.plugin->status();
    n.last_status = st;
    if (st.commit_index > st.last_index) {
      violation("node " + std::to_string(id) + " status: commit index beyond last index");
    }
    if (st.role == Role::leader) {
      auto [it, inserted] = leader_of_epoch_.emplace(st.epoch, id);
      if (!inserted && it->second != id) {
        violation("two leaders in epoch " + std::to_string(st.epoch) + ": nodes " +
                  std::to_string(it->second) + " and " + std::to_string(id));
      }
    }
  }
}

void ScriptedNetwork::violation(const std::string& what) const {
  std::ostringstream os;
  os << "invariant violated at step " << steps_ << " (" << current_step_ << "): " << what << "\n"
     << describe();
  throw InvariantViolation(os.str());
}

std::string ScriptedNetwork::describe() const {
  std::ostringstream os;
  for (NodeId id : ids_) {
    const Node& n = node(id);
    const BroadcastStatus& s = n.last_status;
    os << "  n" << id << (n.up ? " up  " : " DOWN") << " " << role_name(s.role)
       << " leader=" << s.leader << " epoch=" << s.epoch << " commit=" << s.commit_index
       << " last=" << s.last_index << " applied=" << n.applied_index()
       << " disk_last=" << n.disk.last_index() << " pending=" << n.pending.size() << "\n";
  }
  os << "  in flight: " << flight_.size() << ", blocked links: " << blocked_.size();
  return os.str();
}

// ---- accessors ---------------------------------------------------------------------------

bool ScriptedNetwork::is_up(NodeId id) const {
  return node(id).up;
}

Broadcast& ScriptedNetwork::plugin(NodeId id) {
  Node& n = node(id);
  if (!n.up)
    throw std::logic_error("ScriptedNetwork::plugin: node " + std::to_string(id) + " is down");
  return *n.plugin;
}

BroadcastStatus ScriptedNetwork::status(NodeId id) const {
  const Node& n = node(id);
  return n.up ? n.plugin->status() : n.last_status;
}

const std::vector<AppliedTxn>& ScriptedNetwork::applied(NodeId id) const {
  return node(id).applied;
}
const DurableDisk& ScriptedNetwork::disk(NodeId id) const {
  return node(id).disk;
}
const MemoryLog& ScriptedNetwork::storage_log(NodeId id) const {
  return node(id).storage;
}
const std::vector<BarrierResult>& ScriptedNetwork::barriers(NodeId id) const {
  return node(id).barrier_results;
}

std::optional<BarrierResult> ScriptedNetwork::barrier(NodeId id, std::uint64_t barrier_id) const {
  for (const auto& r : node(id).barrier_results) {
    if (r.id == barrier_id) return r;
  }
  return std::nullopt;
}

RecordingTracer& ScriptedNetwork::tracer(NodeId id) {
  return node(id).tracer;
}
std::size_t ScriptedNetwork::snapshots_installed(NodeId id) const {
  return node(id).snapshots_installed;
}

std::optional<NodeId> ScriptedNetwork::leader() const {
  std::optional<NodeId> best;
  std::uint64_t best_epoch = 0;
  for (NodeId id : ids_) {
    const Node& n = node(id);
    if (!n.up) continue;
    BroadcastStatus s = n.plugin->status();
    if (s.role != Role::leader || !s.can_propose) continue;
    if (!best || s.epoch > best_epoch) {
      best = id;
      best_epoch = s.epoch;
    }
  }
  return best;
}

// ---- time and messages -------------------------------------------------------------------

void ScriptedNetwork::tick(NodeId id) {
  Node& n = node(id);
  if (n.up) {
    n.plugin->tick();
    pump(n);
  }
  after_step("tick", id);
}

void ScriptedNetwork::peer_disconnected(NodeId id, NodeId peer) {
  Node& n = node(id);
  if (n.up) {
    n.plugin->peer_disconnected(peer);
    pump(n);
  }
  after_step("peer_disconnected", id);
}

void ScriptedNetwork::tick_all() {
  for (NodeId id : ids_) {
    Node& n = node(id);
    if (!n.up) continue;
    n.plugin->tick();
    pump(n);
  }
  after_step("tick_all", 0);
}

std::vector<std::uint64_t> ScriptedNetwork::messages(NodeId from, NodeId to) const {
  std::vector<std::uint64_t> out;
  for (const auto& e : flight_) {
    if ((from == 0 || e.from == from) && (to == 0 || e.to == to)) out.push_back(e.id);
  }
  return out;
}

std::vector<std::uint64_t> ScriptedNetwork::messages_where(
    const std::function<bool(const Envelope&)>& pred) const {
  std::vector<std::uint64_t> out;
  for (const auto& e : flight_) {
    if (pred(e)) out.push_back(e.id);
  }
  return out;
}

const Envelope* ScriptedNetwork::find(std::uint64_t id) const {
  for (const auto& e : flight_) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

bool ScriptedNetwork::deliver(std::uint64_t id) {
  auto it =
      std::find_if(flight_.begin(), flight_.end(), [&](const Envelope& e) { return e.id == id; });
  if (it == flight_.end())
    throw std::logic_error("ScriptedNetwork::deliver: no message " + std::to_string(id));
  Envelope e = std::move(*it);
  flight_.erase(it);
  Node& n = node(e.to);
  bool delivered = n.up && link_up(e.from, e.to);
  if (delivered) {
    n.plugin->step(PeerMessage{e.from, e.to, std::move(e.payload)});
    pump(n);
  }
  after_step("deliver", e.to);
  return delivered;
}

void ScriptedNetwork::drop(std::uint64_t id) {
  auto it =
      std::find_if(flight_.begin(), flight_.end(), [&](const Envelope& e) { return e.id == id; });
  if (it == flight_.end())
    throw std::logic_error("ScriptedNetwork::drop: no message " + std::to_string(id));
  flight_.erase(it);
}

std::uint64_t ScriptedNetwork::duplicate(std::uint64_t id) {
  const Envelope* e = find(id);
  if (!e) throw std::logic_error("ScriptedNetwork::duplicate: no message " + std::to_string(id));
  Envelope copy = *e;
  copy.id = next_message_id_++;
  flight_.push_back(copy);
  return copy.id;
}

bool ScriptedNetwork::deliver_next(NodeId from, NodeId to) {
  for (const auto& e : flight_) {
    if (e.from == from && e.to == to) {
      deliver(e.id);
      return true;
    }
  }
  return false;
}

std::size_t ScriptedNetwork::deliver_all(std::size_t max) {
  std::size_t count = 0;
  while (!flight_.empty() && count < max) {
    deliver(flight_.front().id);
    count++;
  }
  return count;
}

std::size_t ScriptedNetwork::drop_all(NodeId from, NodeId to) {
  std::size_t before = flight_.size();
  flight_.erase(std::remove_if(flight_.begin(), flight_.end(),
                               [&](const Envelope& e) {
                                 return (from == 0 || e.from == from) && (to == 0 || e.to == to);
                               }),
                flight_.end());
  return before - flight_.size();
}

// ---- links -------------------------------------------------------------------------------

void ScriptedNetwork::block(NodeId from, NodeId to) {
  blocked_.insert({from, to});
}
void ScriptedNetwork::unblock(NodeId from, NodeId to) {
  blocked_.erase({from, to});
}

void ScriptedNetwork::isolate(NodeId id) {
  for (NodeId other : ids_) {
    if (other == id) continue;
    block(id, other);
    block(other, id);
  }
}

void ScriptedNetwork::partition(const std::vector<std::vector<NodeId>>& groups) {
  std::map<NodeId, std::size_t> group_of;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (NodeId id : groups[g])
      group_of[id] = g + 1;
  }
  for (NodeId a : ids_) {
    for (NodeId b : ids_) {
      if (a == b) continue;
      auto ga = group_of.count(a) ? group_of[a] : 0;
      auto gb = group_of.count(b) ? group_of[b] : 0;
      if (ga == 0 || gb == 0 || ga != gb) block(a, b);
    }
  }
}

void ScriptedNetwork::heal() {
  blocked_.clear();
}

bool ScriptedNetwork::link_up(NodeId from, NodeId to) const {
  return !blocked_.count({from, to});
}

// ---- persistence and faults --------------------------------------------------------------

void ScriptedNetwork::set_auto_persist(NodeId id, bool on) {
  Node& n = node(id);
  n.auto_persist = on;
  if (on && n.up) {
    pump(n);
    after_step("auto_persist", id);
  }
}

void ScriptedNetwork::set_auto_persist_all(bool on) {
  for (NodeId id : ids_)
    set_auto_persist(id, on);
}

std::size_t ScriptedNetwork::pending_persist(NodeId id) const {
  return node(id).pending.size();
}

void ScriptedNetwork::complete_persist(NodeId id, std::size_t batches) {
  Node& n = node(id);
  for (std::size_t i = 0; i < batches && n.up && !n.pending.empty(); ++i) {
    complete_one(n);
    drain_ready(n);
  }
  if (n.up) pump(n);
  after_step("complete_persist", id);
}

void ScriptedNetwork::crash(NodeId id) {
  Node& n = node(id);
  if (!n.up) return;
  n.last_status = n.plugin->status();
  n.plugin.reset();
  n.pending.clear();
  n.applied.clear();
  n.up = false;
  after_step("crash", id);
}

void ScriptedNetwork::restart(NodeId id) {
  Node& n = node(id);
  if (n.up) return;
  boot(n);
  after_step("restart", id);
}

// ---- client operations -------------------------------------------------------------------

ProposeResult ScriptedNetwork::propose(NodeId id, const std::vector<Bytes>& txns) {
  Node& n = node(id);
  ProposeResult r;
  if (n.up) {
    r = n.plugin->propose(txns);
    pump(n);
  }
  after_step("propose", id);
  return r;
}

void ScriptedNetwork::request_barrier(NodeId id, std::uint64_t barrier_id, BarrierKind kind) {
  Node& n = node(id);
  if (n.up) {
    if (!n.barriers_asked.insert(barrier_id).second) {
      throw std::logic_error("ScriptedNetwork: barrier id reused");
    }
    n.plugin->request_barrier(barrier_id, kind);
    pump(n);
  }
  after_step("request_barrier", id);
}

void ScriptedNetwork::compact(NodeId id) {
  Node& n = node(id);
  if (!n.up) return;
  std::size_t guard = 0;
  while (!n.pending.empty()) {
    if (++guard > options_.max_readies_per_step) violation("compact: node never quiesces");
    complete_one(n);
    drain_ready(n);
  }
  Snapshot snap = n.source.take_snapshot();
  LogIndex disk_base = n.disk.snapshot ? n.disk.snapshot->last_index : 0;
  if (snap.last_index == 0 || snap.last_index <= disk_base) {
    after_step("compact", id);
    return;
  }
  if (snap.last_index > n.storage.last_index()) {
    violation("node " + std::to_string(id) + " applied index " + std::to_string(snap.last_index) +
              " beyond its log " + std::to_string(n.storage.last_index()));
  }
  n.disk.entries.erase(
      std::remove_if(n.disk.entries.begin(), n.disk.entries.end(),
                     [&](const LogEntry& e) { return e.index <= snap.last_index; }),
      n.disk.entries.end());
  n.disk.snapshot = snap;
  if (snap.last_index > n.storage.base_index()) n.storage.compact(snap.last_index);
  Snapshot meta = snap;
  meta.data.clear();
  n.plugin->compacted(meta);
  pump(n);
  after_step("compact", id);
}

// ---- driving -----------------------------------------------------------------------------

void ScriptedNetwork::round() {
  deliver_all();
  tick_all();
}

bool ScriptedNetwork::run_until(const std::function<bool()>& pred, std::size_t max_rounds) {
  for (std::size_t i = 0; i < max_rounds; ++i) {
    if (pred()) return true;
    round();
  }
  return pred();
}

}  // namespace quorumlab::consensus::testing
