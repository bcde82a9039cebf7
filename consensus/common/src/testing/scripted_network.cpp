#include "quorumlab/consensus/testing/scripted_network.hpp"

#include <algorithm>
#include <sstream>

#include "quorumlab/log.hpp"
#include "quorumlab/replica/ready_executor.hpp"
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

/// The node's storage: the project's in-memory disk model, plus the storage view (everything
/// written, durable or not) and the storage-contract checks.
class ScriptedNetwork::ViewStorage final : public Storage {
 public:
  ViewStorage(ScriptedNetwork& net, ScriptedNetwork::Node& n, DurableDisk& disk)
      : net_(net), n_(n), disk_(disk, [] {}) {}
  replica::MemoryDisk& disk() { return disk_; }

  StorageRecovery recover() override { return disk_.recover(); }
  void append(const std::vector<LogEntry>& entries) override;
  void truncate_after(LogIndex index) override;
  void save_hard_state(const HardState& state) override { disk_.save_hard_state(state); }
  std::uint64_t flush() override { return disk_.flush(); }
  std::uint64_t durable_ticket() const override { return disk_.durable_ticket(); }
  void set_wakeup(std::function<void()> wakeup) override { disk_.set_wakeup(std::move(wakeup)); }
  void save_snapshot(Snapshot snapshot) override;
  void install_snapshot(const Snapshot& snapshot) override;
  StorageStats stats() const override { return disk_.stats(); }

 private:
  ScriptedNetwork& net_;
  ScriptedNetwork::Node& n_;
  replica::MemoryDisk disk_;
};

/// The effects of a node's Readies (the executor does the rest), with the history checks.
class ScriptedNetwork::Host final : public replica::ReplicaHost {
 public:
  Host(ScriptedNetwork& net, ScriptedNetwork::Node& n) : net_(net), n_(n) {}
  void send(const PeerMessage& message) override;
  void restore_snapshot(const Snapshot& snapshot) override;
  void apply(const CommittedTxn& txn) override;
  void barrier_resolved(const BarrierResult& result) override;
  void status_changed(const BroadcastStatus& status) override;
  void contract_violation(const std::string& what) override;

 private:
  ScriptedNetwork& net_;
  ScriptedNetwork::Node& n_;
};

struct ScriptedNetwork::Node {
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
  MemoryLog storage;  ///< the storage view: everything written, durable or not
  std::unique_ptr<ViewStorage> store;
  std::unique_ptr<Host> host;
  std::unique_ptr<replica::ReadyExecutor> executor;
  std::vector<BarrierResult> barrier_results;
  std::set<std::uint64_t> barriers_asked;
  std::set<std::uint64_t> barriers_resolved;
  BroadcastStatus last_status;
  std::size_t snapshots_installed = 0;

  LogIndex applied_index() const { return applied.empty() ? 0 : applied.back().index; }
  Zxid applied_zxid() const { return applied.empty() ? 0 : applied.back().zxid; }
  std::string who() const { return "node " + std::to_string(id); }
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
  n.store = std::make_unique<ViewStorage>(*this, n, n.disk);
  n.host = std::make_unique<Host>(*this, n);
  n.executor = std::make_unique<replica::ReadyExecutor>(*n.plugin, *n.store, *n.host);

  // The state machine and the storage view come back from the disk.
  StorageRecovery recovered = n.store->recover();
  n.applied.clear();
  n.storage.reset(0, 0, 0);
  replica::AppliedPosition at;
  if (recovered.snapshot) {
    const Snapshot& s = *recovered.snapshot;
    n.applied = decode_applied(s.data);
    n.storage.reset(s.last_index, s.last_epoch, s.last_zxid);
    at = {s.last_index, s.last_epoch, s.last_zxid};
  }
  for (const auto& e : recovered.entries)
    n.storage.append(e);
  n.executor->reset(at, n.storage.last_index());
  n.barriers_asked.clear();
  n.barriers_resolved.clear();

  RecoveredLog rec;
  rec.hard_state = recovered.hard_state;
  rec.snapshot = recovered.snapshot;
  rec.entries = std::move(recovered.entries);
  n.up = true;
  n.plugin->restore(rec);
  pump(n);
}

// ---- executing Readies (replica::ReadyExecutor) ------------------------------------------

void ScriptedNetwork::pump(Node& n) {
  drain_ready(n);
  std::size_t guard = 0;
  while (n.up && n.auto_persist && n.store->disk().fsync_running()) {
    if (++guard > options_.max_readies_per_step)
      violation(n.who() + " never quiesces (persist loop)");
    complete_one(n);
    drain_ready(n);
  }
}

void ScriptedNetwork::drain_ready(Node& n) {
  if (n.up && !n.executor->drain(options_.max_readies_per_step)) {
    violation(n.who() + " never quiesces (has_ready stays true)");
  }
}

void ScriptedNetwork::complete_one(Node& n) {
  n.store->disk().fsync_done();
  n.executor->complete_persisted();
}

void ScriptedNetwork::ViewStorage::append(const std::vector<LogEntry>& entries) {
  for (const auto& e : entries) {
    if (e.index != n_.storage.last_index() + 1) {
      net_.violation(n_.who() + " appends index " + std::to_string(e.index) +
                     " after storage index " + std::to_string(n_.storage.last_index()) +
                     " (storage appends must be dense)");
    }
    n_.storage.append(e);
  }
  disk_.append(entries);
}

void ScriptedNetwork::ViewStorage::truncate_after(LogIndex index) {
  if (index < n_.storage.base_index()) {
    net_.violation(n_.who() + " truncates to " + std::to_string(index) + " below its snapshot at " +
                   std::to_string(n_.storage.base_index()));
  }
  n_.storage.truncate_after(index);
  disk_.truncate_after(index);
}

void ScriptedNetwork::ViewStorage::save_snapshot(Snapshot snapshot) {
  if (snapshot.last_index > n_.storage.last_index()) {
    net_.violation(n_.who() + " applied index " + std::to_string(snapshot.last_index) +
                   " beyond its log " + std::to_string(n_.storage.last_index()));
  }
  if (snapshot.last_index > n_.storage.base_index()) n_.storage.compact(snapshot.last_index);
  disk_.save_snapshot(std::move(snapshot));
}

void ScriptedNetwork::ViewStorage::install_snapshot(const Snapshot& snapshot) {
  n_.storage.reset(snapshot.last_index, snapshot.last_epoch, snapshot.last_zxid);
  disk_.install_snapshot(snapshot);
}

void ScriptedNetwork::Host::send(const PeerMessage& message) {
  net_.send(n_.id, message, "Ready");
}

void ScriptedNetwork::Host::restore_snapshot(const Snapshot& snapshot) {
  net_.install_snapshot(n_, snapshot);
}

void ScriptedNetwork::Host::apply(const CommittedTxn& txn) {
  net_.apply_committed(n_, txn);
}

void ScriptedNetwork::Host::barrier_resolved(const BarrierResult& r) {
  if (!n_.barriers_asked.count(r.id)) {
    net_.violation(n_.who() + " resolves barrier " + std::to_string(r.id) + " that was not asked");
  }
  if (!n_.barriers_resolved.insert(r.id).second) {
    net_.violation(n_.who() + " resolves barrier " + std::to_string(r.id) + " twice");
  }
  if (r.ok && r.index > 0) {
    auto it = net_.history_.find(r.index);
    if (it == net_.history_.end() || it->second.zxid != r.zxid) {
      net_.violation(n_.who() + " resolves barrier " + std::to_string(r.id) + " at index " +
                     std::to_string(r.index) + " zxid " + std::to_string(r.zxid) +
                     ", which is not a committed point");
    }
  }
  if (!r.ok && r.failure == BarrierFailure::none) {
    net_.violation(n_.who() + " fails barrier " + std::to_string(r.id) + " without a reason");
  }
  n_.barrier_results.push_back(r);
}

void ScriptedNetwork::Host::status_changed(const BroadcastStatus& status) {
  n_.last_status = status;
}

void ScriptedNetwork::Host::contract_violation(const std::string& what) {
  net_.violation(n_.who() + " Ready contract: " + what);
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
  const std::string who = n.who();
  // Dense indexes and increasing zxids are the executor's checks (contract_violation).
  auto z = n.storage.zxid_at(c.index);
  if (!z || *z != c.zxid || (n.storage.contains(c.index) && n.storage.at(c.index).data != c.data)) {
    violation(who + " commits index " + std::to_string(c.index) + " zxid " +
              std::to_string(c.zxid) + " that is not the entry in its own log");
  }
  if (*n.storage.epoch_at(c.index) != c.epoch) {
    violation(who + " commits index " + std::to_string(c.index) + " with epoch " +
              std::to_string(c.epoch) + " but its log entry has epoch " +
              std::to_string(*n.storage.epoch_at(c.index)));
  }
  AppliedTxn t{c.index, c.epoch, c.zxid, c.data};
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
       << " disk_last=" << n.disk.last_index()
       << " pending=" << (n.up ? n.executor->persist_waiting() : 0) << "\n";
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

std::uint64_t ScriptedNetwork::inject(NodeId from, NodeId to, Bytes payload) {
  flight_.push_back(Envelope{next_message_id_++, from, to, std::move(payload)});
  return flight_.back().id;
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
  const Node& n = node(id);
  return n.up ? n.executor->persist_waiting() : 0;
}

void ScriptedNetwork::complete_persist(NodeId id, std::size_t fsyncs) {
  Node& n = node(id);
  for (std::size_t i = 0; i < fsyncs && n.up && n.store->disk().fsync_running(); ++i) {
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
  Rng lose_all(0);
  n.store->disk().crash(lose_all, 0.0);  // every write not yet durable is lost
  n.executor.reset();
  n.host.reset();
  n.store.reset();
  n.plugin.reset();
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

TransferResult ScriptedNetwork::transfer_leadership(NodeId id, NodeId target) {
  Node& n = node(id);
  TransferResult r;
  r.detail = "node is down";
  if (n.up) {
    r = n.plugin->transfer_leadership(target);
    pump(n);
  }
  after_step("transfer_leadership", id);
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
  Snapshot snap = n.source.take_snapshot();
  LogIndex disk_base = n.disk.snapshot ? n.disk.snapshot->last_index : 0;
  if (snap.last_index == 0 || snap.last_index <= disk_base) {
    after_step("compact", id);
    return;
  }
  n.executor->compact(std::move(snap));
  // The kernel's snapshot is durable once the fsyncs before and with it complete.
  std::size_t guard = 0;
  while (n.up && n.store->disk().fsync_running()) {
    if (++guard > options_.max_readies_per_step) violation("compact: node never quiesces");
    complete_one(n);
    drain_ready(n);
  }
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
