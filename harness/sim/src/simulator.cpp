// The event loop, the simulated replicas and connections, and the two phases of a run.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <variant>

#include <boost/dll/shared_library.hpp>

#include "quorumlab/node/capnp_util.hpp"
#include "quorumlab/proto/client.capnp.h"
#include "quorumlab/proto/peer.capnp.h"
#include "quorumlab/sm/txn.hpp"
#include "simulator_impl.hpp"

namespace quorumlab::sim {

namespace {

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%#" PRIx64, v);
  return buf;
}

/// Keeps every library of the plugin directory loaded for the life of the process, so that
/// the loader's repeated scans (one per plugin a node loads) only bump reference counts
/// instead of loading and relocating the unused plugins again for every node start.
void pin_plugins(const std::filesystem::path& dir) {
  static std::mutex mu;
  static std::map<std::string, std::vector<boost::dll::shared_library>> pinned;
  std::lock_guard<std::mutex> lock(mu);
  auto [it, inserted] = pinned.try_emplace(dir.string());
  if (!inserted) return;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".so") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    boost::dll::shared_library lib;
    boost::system::error_code ec;
    lib.load(boost::dll::fs::path(f.string()),
             boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
    if (!ec) it->second.push_back(std::move(lib));
  }
}

NodeConfig make_node_config(const SimConfig& c, NodeId id) {
  std::vector<std::string> o = {
      "id=" + std::to_string(id),
      "data_dir=/nonexistent/qlab-sim",  // SimStorage is injected: nothing is written
      "storage=memory",
      "broadcast=" + c.broadcast,
      "read_policy=" + c.read_policy,
      "tick_ms=" + std::to_string(c.tick_ms),
      "min_session_timeout_ms=100",
      "max_session_timeout_ms=60000",
      "snapshot_every_txns=" + std::to_string(c.snapshot_every_txns),
      // The plugins' drift bound is what the simulated clocks may drift (at least the default).
      "clock_drift_ppm=" +
          std::to_string(c.test.plugins_drift_bound_ppm > 0
                             ? c.test.plugins_drift_bound_ppm
                             : std::max<std::int64_t>(1000, c.clock.drift_ppm_max)),
  };
  if (c.replicas() > 1) {
    std::string peers;
    for (int i = 1; i <= c.replicas(); ++i) {
      if (i > 1) peers += ",";
      peers += std::to_string(i) + "@sim-" + std::to_string(i) + ":" + std::to_string(7100 + i);
      if (i > c.nodes) peers += ":observer";
    }
    o.push_back("peers=" + peers);
  }
  for (const auto& [k, v] : c.broadcast_params)
    o.push_back("broadcast." + k + "=" + v);
  for (const auto& [k, v] : c.read_policy_params)
    o.push_back("read_policy." + k + "=" + v);
  return load_config(std::nullopt, o);
}

bool is_broadcast(const Bytes& bytes) {
  try {
    CapnpReader reader(bytes.data(), bytes.size(), 1u << 26);
    return reader.root<proto::PeerEnvelope>().isBroadcast();
  } catch (const kj::Exception&) {
    return true;
  }
}

/// A getData request (the performance model charges the read's cost).
bool is_read_request(const Bytes& bytes) {
  try {
    CapnpReader reader(bytes.data(), bytes.size(), 1u << 26);
    auto m = reader.root<proto::ClientMessage>();
    return m.isRequest() && m.getRequest().getOp().isGetData();
  } catch (const kj::Exception&) {
    return false;
  }
}

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

std::int64_t ceil_us(std::int64_t ns) {
  return ns <= 0 ? 0 : (ns + 999) / 1000;
}

bool is_node_work(EventKind k) {
  return k == EventKind::tick || k == EventKind::peer_deliver || k == EventKind::client_to_node ||
         k == EventKind::fsync_done || k == EventKind::peer_down || k == EventKind::client_hangup;
}

bool is_notification(const Bytes& bytes) {
  try {
    CapnpReader reader(bytes.data(), bytes.size(), 1u << 26);
    return reader.root<proto::ServerMessage>().isNotification();
  } catch (const kj::Exception&) {
    return false;
  }
}

}  // namespace

// ------------------------------------------------------------------ SimTracer, SimNode

bool SimTracer::enabled() const {
  // Timing the node code for calibration: no plugin tracing (a server runs without it).
  return !sim_.measuring_host_cpu();
}

void SimTracer::record(const TraceEvent& event) {
  sim_.plugin_trace(node_, event);
}

SimNode::SimNode(Simulator& s, NodeId i, NodeConfig c)
    : sim(s), id(i), config(std::move(c)), tracer(s, i) {}

void SimNode::send_peer(NodeId to, Bytes bytes) {
  sim.node_send_peer(*this, to, std::move(bytes));
}
void SimNode::send_client(node::ConnId conn, Bytes bytes) {
  sim.node_send_client(*this, conn, std::move(bytes));
}
void SimNode::close_client(node::ConnId conn) {
  sim.node_close_client(*this, conn);
}

std::int64_t SimNode::local_us() const {
  const std::int64_t t = sim.now_us();
  return t + t * drift_ppm / 1'000'000 + mono_offset_us;
}

// ------------------------------------------------------------------ setup

Simulator::Simulator(const SimConfig& config)
    : config_(config),
      root_(config.seed),
      net_rng_(root_.fork(1)),
      nemesis_rng_(root_.fork(2)),
      disk_rng_(root_.fork(3)),
      trace_(config.trace_tail, config.trace_file),
      perf_(config.perf.enabled) {
  if (config_.replicas() < 1)
    throw std::invalid_argument("the simulation needs at least one replica");
  loader_ = std::make_unique<PluginLoader>(config_.plugin_dir.empty()
                                               ? PluginLoader::default_dir()
                                               : std::filesystem::path(config_.plugin_dir));
  pin_plugins(loader_->dir());
  scenario_rng_ = root_.fork(5);
  tick_rng_ = root_.fork(6);
  Rng clock_rng = root_.fork(4);
  for (int i = 1; i <= config_.replicas(); ++i) {
    auto n = std::make_unique<SimNode>(*this, static_cast<NodeId>(i),
                                       make_node_config(config_, static_cast<NodeId>(i)));
    const std::int64_t d = config_.clock.drift_ppm_max;
    n->drift_ppm = d > 0 ? clock_rng.uniform_range(-d, d) : 0;
    nodes_.push_back(std::move(n));
  }
  if (perf_) {  // one CPU per replica, or one shared by the whole simulated machine
    const auto& p = config_.perf.profile;
    for (auto& n : nodes_) {
      if (p.host_cores > 0 && !pools_.empty()) {
        pools_.front().members.push_back(n->id);
        continue;
      }
      CpuPool pool;
      pool.free_ns.assign(static_cast<std::size_t>(p.host_cores > 0 ? p.host_cores : p.cores), 0);
      pool.members.push_back(n->id);
      n->pool = pools_.size();
      pools_.push_back(std::move(pool));
    }
  }
  for (int i = 0; i < config_.workload.clients; ++i) {
    clients_.push_back(std::make_unique<SimClient>(
        i, config_, root_.fork(100 + static_cast<std::uint64_t>(i)), *this));
  }
}

Simulator::~Simulator() {
  for (auto& n : nodes_)
    n->node.reset();  // before the env and tracer they point to
}

void Simulator::start_node(SimNode& n) {
  ++n.incarnation;
  ++n.tick_chain;
  n.up = true;
  n.paused = false;
  n.held.clear();
  const std::uint32_t inc = n.incarnation;
  SimNode* np = &n;
  n.storage = std::make_shared<SimStorage>(
      n.disk,
      [this, np, inc] {
        push(Event{now_us_ + fsync_delay_us(*np), 0, EventKind::fsync_done, np->id, 0, inc, {}});
      },
      config_.test.storage_ack_before_durable);
  node::NodeOptions options;
  options.storage = n.storage;
  options.rng_seed = root_.fork(1000ULL * (n.id + 1) + inc).next_u64() | 1;
  options.on_applied = [this, np](const node::AppliedInfo& info) {
    if (np->on_cpu && info.data != nullptr) {
      const auto& p = config_.perf.profile;
      np->cpu_cost_ns += p.apply_txn_ns + p.log_append_ns +
                         (p.apply_byte_ns + p.log_byte_ns) * static_cast<double>(info.data->size());
    }
    if (config_.perf.measure_host_cpu) return;  // timing the node code: no checker in it
    if (auto v = replicas_.on_applied(np->id, np->incarnation, info, now_us_)) {
      fail(v->property, v->message);
    }
    note_first_apply(*np, info);
  };
  options.test_reads_skip_session_order = config_.test.node_reads_skip_session_order;
  options.test_writes_skip_barrier_order = config_.test.node_writes_skip_barrier_order;
  options.test_serve_without_quorum = config_.test.node_serves_without_quorum;
  trace({now_us_, "start", n.id, inc, n.disk.last_index(), 0, {}});
  with_node(n, "start", [&] {
    n.node = std::make_unique<node::Node>(n.config, *loader_, n, n.tracer, options);
    n.node->set_storage_waker([] {});  // the simulator wakes the node itself after fsync_done
    n.node->process();
  });
  n.ticks = 0;
  n.first_tick_us = now_us_ + 1;
  if (config_.clock.tick_jitter_us > 0) {  // a real process starts at any point of a tick
    n.first_tick_us += tick_rng_.uniform_range(0, tick_period_us(n) - 1);
  }
  schedule_tick(n, n.first_tick_us);
}

void Simulator::absorb_read_counters(const SimNode& n) {
  if (!n.node) return;
  for (const auto& [name, value] :
       node::read_counters(n.node->stats(), n.node->status(), config_.tick_ms))
    result_.read_counters[name] += value;
}

void Simulator::crash_node(SimNode& n, bool notify_peers) {
  const std::size_t lost = n.storage ? n.storage->volatile_ops() : 0;
  if (n.storage) n.storage->crash(disk_rng_, config_.crash.unsynced_prefix_survives_chance);
  absorb_read_counters(n);
  n.node.reset();
  n.storage.reset();
  n.up = false;
  n.paused = false;
  n.held.clear();
  ++n.tick_chain;
  for (auto& [id, c] : conns_) {
    if (c.node != n.id || !c.open) continue;
    break_conn(c, true);  // the client sees a reset
  }
  // The dead process's sockets close: peers that can still reach it see their TCP connection
  // drop, as the runtime's socket monitors report it.
  for (auto& other : nodes_) {
    if (!notify_peers) break;
    if (other->id == n.id || !other->up || blocked(n.id, other->id)) continue;
    push(Event{now_us_ + sample(config_.network.peer_delay, net_rng_),
               0,
               EventKind::peer_down,
               other->id,
               n.id,
               other->incarnation,
               {}});
  }
  ++result_.crashes;
  trace({now_us_, "crash", n.id, n.incarnation, lost, 0, "volatile ops " + std::to_string(lost)});
}

void Simulator::schedule_tick(SimNode& n, std::int64_t at_us) {
  n.next_tick_us = at_us;
  push(Event{at_us, 0, EventKind::tick, n.id, 0, n.tick_chain, {}});
}

std::int64_t Simulator::tick_period_us(const SimNode& n) const {
  // The node's clock runs drift_ppm fast or slow: its ticks come that much more or less often.
  return std::max<std::int64_t>(config_.tick_ms * 1000 * 1'000'000 / (1'000'000 + n.drift_ppm), 1);
}

std::int64_t Simulator::next_tick_period_us(const SimNode& n) {
  std::int64_t period = tick_period_us(n);
  if (const std::int64_t j = config_.clock.tick_jitter_us; j > 0) {
    period = std::max<std::int64_t>(1, period + tick_rng_.uniform_range(-j, j));
  }
  return period;
}

std::int64_t Simulator::sample(const DelayDist& d, Rng& rng) const {
  const double extra =
      rng.exponential(static_cast<double>(std::max<std::int64_t>(d.mean_us - d.min_us, 0)));
  const auto v = d.min_us + static_cast<std::int64_t>(extra);
  return std::clamp<std::int64_t>(v, d.min_us, std::max(d.min_us, d.max_us));
}

std::int64_t Simulator::fsync_delay_us(SimNode& n) {
  if (perf_) {  // latency plus the bytes this fsync writes at the disk's bandwidth
    const auto& p = config_.perf.profile;
    const double bytes = n.storage ? static_cast<double>(n.storage->inflight_bytes()) : 0.0;
    const double us = p.fsync_us + bytes / p.disk_bandwidth_mb_s;  // MB/s = bytes/us
    std::int64_t d = std::max<std::int64_t>(1, std::llround(us));
    if (now_us_ < n.slow_disk_until_us) d *= config_.disk.slow_factor;
    return d;
  }
  std::int64_t d = sample(config_.disk.fsync_delay, disk_rng_);
  if (now_us_ < n.slow_disk_until_us) d *= config_.disk.slow_factor;
  return std::max<std::int64_t>(d, 1);
}

// ------------------------------------------------------------------ the loop

RunResult Simulator::run() {
  for (auto& n : nodes_)
    start_node(*n);
  setting_up_ = false;
  for (auto& c : clients_)
    c->start();
  if (!config_.scenario.name.empty()) {
    scenario_start();  // scripted trials instead of the nemesis and the liveness phase
  }
  const bool any_nemesis =
      config_.scenario.name.empty() &&
      (config_.partition.enabled || config_.crash.enabled || config_.pause.enabled ||
       config_.clock.jumps_enabled || config_.disk.slow_enabled || config_.transfer.enabled);
  if (any_nemesis) {
    push(Event{static_cast<std::int64_t>(nemesis_rng_.exponential(
                   static_cast<double>(config_.nemesis.interval_mean_ms) * 1000)),
               0,
               EventKind::nemesis,
               0,
               0,
               0,
               {}});
  }
  if (config_.throughput.enabled) {
    // The measured window is scheduled once every client created its keys (after_event); the
    // run gives up if that has not happened within the liveness timeout.
    push(Event{config_.liveness_timeout_ms * 1000, 0, EventKind::deadline, 0, 0, 0, {}});
  } else if (config_.scenario.name.empty()) {  // a scenario ends the run itself
    push(Event{config_.duration_ms * 1000, 0, EventKind::phase_liveness, 0, 0, 0, {}});
  }
  after_event();
  while (!failure_ && phase_ != Phase::done && !queue_.empty()) {
    Event e = queue_.pop();
    now_us_ = e.at_us;
    ++steps_;
    dispatch(e);
    after_event();
    if (phase_ == Phase::safety && config_.max_steps != 0 && steps_ >= config_.max_steps) {
      begin_liveness();
    }
  }
  return finish();
}

template <typename F>
void Simulator::with_node(SimNode& n, const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    if (setting_up_) throw;  // a plugin or configuration error, not a finding
    fail("no_exception",
         "node " + std::to_string(n.id) + " threw during " + what + ": " + e.what());
  } catch (const kj::Exception& e) {
    fail("no_exception", "node " + std::to_string(n.id) + " threw during " + what + ": " +
                             e.getDescription().cStr());
  }
}

void Simulator::dispatch(Event& e) {
  if (perf_ && !cpu_dispatch_ && is_node_work(e.kind) && e.kind != EventKind::tick) {
    return perf_arrive(node(e.node), std::move(e));
  }
  switch (e.kind) {
    case EventKind::tick: {
      SimNode& n = node(e.node);
      if (!n.up || n.paused || e.id != n.tick_chain) return;
      if (perf_ && !cpu_dispatch_) {  // the next tick falls due on time; this one waits its turn
        ++n.ticks;
        schedule_tick(n, now_us_ + next_tick_period_us(n));
        return perf_arrive(n, std::move(e));
      }
      trace({now_us_, "tick", n.id, 0, 0, 0, {}});
      with_node(n, "tick", [&] {
        n.node->on_tick();
        if (!defer_process_) n.node->process();
      });
      if (!perf_) {
        ++n.ticks;
        schedule_tick(n, now_us_ + next_tick_period_us(n));
      }
      return;
    }
    case EventKind::peer_deliver: {
      SimNode& n = node(e.node);
      if (!n.up || blocked(e.aux, e.node)) {
        trace({now_us_, "drop", e.node, e.aux, e.payload.size(), hash_bytes(e.payload),
               "at delivery"});
        return;
      }
      if (n.paused) return n.held.push_back(std::move(e));
      return deliver_to_node(n, e);
    }
    case EventKind::client_to_node: {
      auto it = conns_.find(e.id);
      if (it == conns_.end() || !it->second.open) return;
      Conn& c = it->second;
      SimNode& n = node(c.node);
      if (!n.up || n.incarnation != c.incarnation) return break_conn(c, true);
      if (blocked(client_endpoint(c.client), c.node)) return break_conn(c, false);
      if (n.paused) return n.held.push_back(std::move(e));
      return deliver_to_node(n, e);
    }
    case EventKind::node_to_client: {
      auto it = conns_.find(e.id);
      if (it == conns_.end() || !it->second.open) return;
      Conn& c = it->second;
      if (blocked(c.node, client_endpoint(c.client))) return break_conn(c, false);
      trace({now_us_,
             "n>c",
             c.node,
             static_cast<std::uint64_t>(c.client),
             c.id,
             hash_bytes(e.payload),
             {}});
      clients_[static_cast<std::size_t>(c.client)]->on_message(c.id, e.payload);
      return;
    }
    case EventKind::conn_closed: {
      auto it = conns_.find(e.id);
      if (it == conns_.end()) return;
      const int client = it->second.client;
      conns_.erase(it);
      trace({now_us_, "conn_closed", 0, static_cast<std::uint64_t>(client), e.id, 0, {}});
      clients_[static_cast<std::size_t>(client)]->on_conn_closed(e.id);
      return;
    }
    case EventKind::fsync_done: {
      SimNode& n = node(e.node);
      if (!n.up || e.id != n.incarnation) return;
      if (n.paused) return n.held.push_back(std::move(e));
      trace({now_us_, "fsync_done", n.id, 0, 0, 0, {}});
      with_node(n, "fsync completion", [&] {
        n.storage->fsync_done();
        n.node->on_storage_wakeup();
        if (!defer_process_) n.node->process();
      });
      return;
    }
    case EventKind::client_timer:
      clients_[e.aux]->on_timer(e.id);
      return;
    case EventKind::nemesis:
      return nemesis();
    case EventKind::fault_end:
      return end_fault(e.id);
    case EventKind::restart: {
      SimNode& n = node(e.node);
      if (!n.up) start_node(n);
      return;
    }
    case EventKind::resume: {
      SimNode& n = node(e.node);
      if (!n.up || !n.paused) return;
      n.paused = false;
      ++n.tick_chain;
      trace({now_us_, "resume", n.id, n.held.size(), 0, 0, {}});
      // As the real runtime does after SIGCONT: every tick that fell due during the pause is
      // delivered now, before the messages held meanwhile (runtime_handler.hpp).
      std::uint64_t due = 0;
      const std::int64_t period = tick_period_us(n);
      std::int64_t next = n.next_tick_us;
      while (next <= now_us_) {
        ++due;
        next += period;
      }
      if (config_.test.drop_ticks_while_paused) {  // the old runtime: ticks restart from now
        due = 0;
        next = now_us_;
      }
      if (due > 0) {
        trace({now_us_, "ticks_missed", n.id, due, 0, 0, {}});
        with_node(n, "tick", [&] {
          for (std::uint64_t i = 0; i < due; ++i)
            n.node->on_tick();
          if (!defer_process_) n.node->process();
        });
        n.ticks += due;
      }
      if (!n.up) return;
      // Property elapsed_time_seen: after a stall the node has had a tick for every tick time
      // that passed since it started, so its elapsed ticks never under-count real time.
      // (A jittered tick may come up to tick_jitter_us late.)
      const std::int64_t passed =
          (now_us_ - n.first_tick_us) / (period + config_.clock.tick_jitter_us) + 1;
      if (static_cast<std::int64_t>(n.ticks) < passed) {
        fail("elapsed_time_seen",
             "node " + std::to_string(n.id) + " resumed at " + std::to_string(now_us_) +
                 " us having had " + std::to_string(n.ticks) + " ticks, but " +
                 std::to_string(passed) + " tick times have passed since it started");
      }
      schedule_tick(n, next);
      std::vector<Event> held = std::move(n.held);
      n.held.clear();
      for (auto& h : held)
        dispatch(h);
      return;
    }
    case EventKind::peer_down: {
      SimNode& n = node(e.node);
      if (!n.up || e.id != n.incarnation) return;
      if (n.paused) return n.held.push_back(std::move(e));
      trace({now_us_, "peer_down", n.id, e.aux, 0, 0, {}});
      with_node(n, "a peer disconnect", [&] {
        n.node->on_peer_disconnected(e.aux);
        if (!defer_process_) n.node->process();
      });
      return;
    }
    case EventKind::client_hangup: {
      SimNode& n = node(e.node);
      if (!n.up || e.aux != n.incarnation) return;
      if (n.paused) return n.held.push_back(std::move(e));
      trace({now_us_, "client_hangup", n.id, 0, e.id, 0, {}});
      with_node(n, "a client hang-up", [&] {
        n.node->on_client_closed(e.id);
        if (!defer_process_) n.node->process();
      });
      return;
    }
    case EventKind::phase_liveness:
      if (phase_ == Phase::safety && config_.throughput.enabled) {
        phase_ = Phase::done;  // the measured window is over
        trace({now_us_, "measured", 0, steps_, 0, 0, {}});
      } else if (phase_ == Phase::safety) {
        begin_liveness();
      }
      return;
    case EventKind::scenario:
      return scenario_step(e.aux, e.id);
    case EventKind::cpu_ready: {
      CpuPool& pool = pools_.at(e.aux);
      if (pool.wakeup_at_us == now_us_) pool.wakeup_at_us = -1;
      return serve_pool(e.aux);
    }
    case EventKind::deadline:
      if (phase_ == Phase::safety && config_.throughput.enabled) {
        fail("liveness", "the throughput workload's keys were not all created within " +
                             std::to_string(config_.liveness_timeout_ms) + " ms");
      } else if (phase_ != Phase::done && config_.disabled_checks.count("liveness") != 0) {
        phase_ = Phase::done;  // a self-test looking past a liveness failure
      } else if (phase_ != Phase::done) {
        fail("liveness", std::string(phase_ == Phase::liveness_progress
                                         ? "no progress: not every client completed a write "
                                         : "no convergence: the replicas did not reach the same "
                                           "applied zxid and digest ") +
                             "within " + std::to_string(config_.liveness_timeout_ms) +
                             " ms after every fault healed\n" + cluster_state());
      }
      return;
  }
}

void Simulator::deliver_to_node(SimNode& n, Event& e) {
  if (e.kind == EventKind::peer_deliver) {
    trace({now_us_, "deliver", n.id, e.aux, e.payload.size(), hash_bytes(e.payload), {}});
    with_node(n, "a peer message", [&] {
      n.node->on_peer_message(e.payload.data(), e.payload.size());
      if (!defer_process_) n.node->process();
    });
  } else {
    const Conn& c = conns_.at(e.id);
    trace({now_us_,
           "c>n",
           n.id,
           static_cast<std::uint64_t>(c.client),
           c.id,
           hash_bytes(e.payload),
           {}});
    const std::string address = "10.1.0." + std::to_string(c.client + 1) + ":5000";
    with_node(n, "a client message", [&] {
      n.node->on_client_message(e.id, e.payload.data(), e.payload.size(), address);
      if (!defer_process_) n.node->process();
    });
  }
}

void Simulator::after_event() {
  // Every replica, not only the ones this event touched: a plugin's state changes only on an
  // input, so this costs a little and relies on nothing.
  for (auto& np : nodes_) {
    SimNode& n = *np;
    const NodeId id = n.id;
    if (!n.up || !n.node) continue;
    std::string broken = n.node->check_broadcast_invariants();
    if (!broken.empty()) fail("broadcast_invariants", "node " + std::to_string(id) + ": " + broken);
    if (auto v = replicas_.on_status(id, n.node->status())) fail(v->property, v->message);
  }
  if (phase_ == Phase::liveness_progress || phase_ == Phase::liveness_drain) check_liveness();
  if (stage_ != Stage::off && stage_ != Stage::done && !failure_) scenario_after_event();
  if (config_.throughput.enabled && window_from_us_ < 0) {
    for (const auto& c : clients_) {
      if (!c->bench_ready()) return;
    }
    // Every key exists (as `qlab bench` creates them before it starts): warm up, then measure.
    window_from_us_ = now_us_ + config_.throughput.warmup_ms * 1000;
    trace({now_us_, "keys_created", 0, steps_, 0, 0, {}});
    push(Event{window_from_us_ + config_.throughput.measure_ms * 1000,
               0,
               EventKind::phase_liveness,
               0,
               0,
               0,
               {}});
  }
}

void Simulator::note_first_apply(const SimNode& n, const node::AppliedInfo& info) {
  if (info.data == nullptr || info.data->empty() || info.index <= first_applied_index_) return;
  first_applied_index_ = info.index;
  std::string error;
  auto txn = sm::decode(*info.data, &error);
  // An expiry is a closeSession the leader made itself (cxid 0); a client's close has its xid.
  if (!txn || txn->header.cxid != 0) return;
  const auto* close = std::get_if<sm::CloseSessionOp>(&txn->op);
  if (close == nullptr) return;
  // The replica that applies a txn first is its leader. A forward jump of the leader's
  // monotonic clock within the session's timeout made it expire the session that much early
  // (in simulated time): the clients are held to the time it would have expired without it.
  const std::int64_t window_us = std::int64_t{config_.workload.session_timeout_ms} * 1000 * 2;
  std::int64_t jumped_us = 0;
  for (const auto& [at, jump] : n.mono_jumps) {
    if (at > now_us_ - window_us) jumped_us += jump;
  }
  trace({now_us_, "expire", n.id, static_cast<std::uint64_t>(close->session_id), info.zxid, 0,
         "leader clock jumped " + std::to_string(jumped_us / 1000) + " ms"});
  for (auto& c : clients_)
    c->on_session_expired(close->session_id, now_us_ + jumped_us);
}

void Simulator::fail(const std::string& property, const std::string& message) {
  if (failure_ || config_.disabled_checks.count(property) != 0) return;
  failure_ = Violation{property, message};
  trace({now_us_, "VIOLATION", 0, 0, 0, 0, property});
}

void Simulator::trace(TraceRecord r) {
  if (config_.perf.measure_host_cpu) return;  // timing the node code: no trace in it
  trace_.record(std::move(r));
}

void Simulator::plugin_trace(NodeId node, const TraceEvent& e) {
  if (config_.perf.measure_host_cpu) return;
  std::string detail = "epoch " + std::to_string(e.epoch);
  if (!e.detail.empty()) detail += " " + e.detail;
  trace_.record({now_us_, to_string(e.kind), node, e.peer, e.zxid, 0, std::move(detail)});
}

void Simulator::client_violation(const std::string& property, const std::string& message) {
  fail(property, message);
}

// ------------------------------------------------------------------ performance model

void Simulator::perf_arrive(SimNode& n, Event e) {
  n.inbox.emplace_back(++arrivals_, std::move(e));
  serve_pool(n.pool);
}

double Simulator::arrival_cost_ns(const Event& e) const {
  const auto& p = config_.perf.profile;
  const auto bytes = static_cast<double>(e.payload.size());
  switch (e.kind) {
    case EventKind::tick:
      return p.tick_ns;
    case EventKind::peer_deliver:
      return p.transport_message_ns + p.peer_message_ns +
             (p.transport_byte_ns + p.peer_byte_ns) * bytes + p.peer_handling_ns;
    case EventKind::client_to_node:
      return p.transport_message_ns + p.client_message_ns +
             (p.transport_byte_ns + p.client_byte_ns) * bytes + p.request_ns +
             (is_read_request(e.payload) ? p.read_ns : 0.0);
    default:
      return 0;
  }
}

void Simulator::serve_pool(std::size_t index) {
  CpuPool& pool = pools_.at(index);
  while (true) {
    SimNode* next = nullptr;
    for (NodeId id : pool.members) {
      SimNode& n = node(id);
      if (!n.inbox.empty() &&
          (next == nullptr || n.inbox.front().first < next->inbox.front().first))
        next = &n;
    }
    if (next == nullptr) return;
    const auto core = static_cast<std::size_t>(
        std::min_element(pool.free_ns.begin(), pool.free_ns.end()) - pool.free_ns.begin());
    if (pool.free_ns[core] > now_us_ * 1000) {
      const std::int64_t at = ceil_us(pool.free_ns[core]);
      if (pool.wakeup_at_us < now_us_ || pool.wakeup_at_us > at) {
        pool.wakeup_at_us = at;
        push(Event{at, 0, EventKind::cpu_ready, 0, static_cast<std::uint32_t>(index), 0, {}});
      }
      return;
    }
    run_on_cpu(*next, core);
  }
}

void Simulator::run_on_cpu(SimNode& n, std::size_t core) {
  CpuPool& pool = pools_.at(n.pool);
  // One turn of the node's reactor, as the real runtime (zmq_runtime.cpp) runs it: every input
  // that is waiting (up to its drain limits), then one process(). Work-conserving in
  // nanoseconds: the core took the turn when both were there (the wakeup rounds up to the next
  // microsecond).
  const std::int64_t start_ns = std::max(pool.free_ns[core], n.inbox.front().second.at_us * 1000);
  n.on_cpu = true;
  // The reactor slept (and must be woken) when its work arrived after its last turn ended;
  // a busy reactor polls and finds the next inputs without sleeping.
  const bool woke = n.inbox.front().second.at_us * 1000 >= n.last_turn_end_ns;
  const double wakeup = woke ? config_.perf.profile.wakeup_ns : 0.0;
  n.cpu_cost_ns = config_.perf.profile.turn_ns + wakeup;
  cpu_dispatch_ = true;
  defer_process_ = true;
  constexpr std::size_t kTurnInputsMax = 4096;  // the runtime drains 2048 clients + 2048 peers
  const bool measure = config_.perf.measure_host_cpu;
  double measured_ns = 0;
  double clients = 0, peers = 0;
  n.turn_transport_ns = 0;
  for (std::size_t i = 0; i < kTurnInputsMax && !n.inbox.empty(); ++i) {
    Event e = std::move(n.inbox.front().second);
    n.inbox.pop_front();
    n.cpu_cost_ns += arrival_cost_ns(e);
    if (e.kind == EventKind::client_to_node) ++clients;
    if (e.kind == EventKind::peer_deliver) ++peers;
    if (e.kind == EventKind::client_to_node || e.kind == EventKind::peer_deliver) {
      const auto& p = config_.perf.profile;
      n.turn_transport_ns +=
          p.transport_message_ns + p.transport_byte_ns * static_cast<double>(e.payload.size());
    }
    const double t0 = measure ? thread_cpu_ns() : 0;
    dispatch(e);
    if (measure) measured_ns += thread_cpu_ns() - t0;
  }
  defer_process_ = false;
  const double t0 = measure ? thread_cpu_ns() : 0;
  if (n.up && n.node) with_node(n, "process", [&] { n.node->process(); });
  if (measure) {
    measured_ns += thread_cpu_ns() - t0;
    // The transport is not in the measured code (the simulator stands in for ZeroMQ).
    const auto& p = config_.perf.profile;
    const double transport_ns = n.turn_transport_ns;
    const double modelled = n.cpu_cost_ns - transport_ns - p.request_ns * clients -
                            p.peer_handling_ns * peers - p.turn_ns - wakeup;
    const double y = measured_ns - modelled;
    auto& f = host_cpu_;
    ++f.turns;
    f.client_requests += static_cast<std::uint64_t>(clients);
    f.peer_messages += static_cast<std::uint64_t>(peers);
    f.measured_ns += measured_ns;
    f.modelled_ns += modelled;
    const double x[3] = {clients, peers, 1.0};
    for (int i = 0; i < 3; ++i) {
      fit_xy_[i] += x[i] * y;
      for (int j = 0; j < 3; ++j)
        fit_xx_[i][j] += x[i] * x[j];
    }
  }
  cpu_dispatch_ = false;
  n.on_cpu = false;
  const std::int64_t end_ns = start_ns + std::llround(n.cpu_cost_ns);
  pool.free_ns[core] = end_ns;
  n.last_turn_end_ns = std::max(n.last_turn_end_ns, end_ns);
  if (config_.throughput.enabled && window_from_us_ >= 0) {
    const std::int64_t from_ns = window_from_us_ * 1000;
    const std::int64_t to_ns = from_ns + config_.throughput.measure_ms * 1'000'000;
    const std::int64_t busy = std::min(end_ns, to_ns) - std::max(start_ns, from_ns);
    if (busy > 0) n.cpu_busy_ns_measured += static_cast<double>(busy);
  }
  const std::int64_t release = std::max({ceil_us(end_ns), n.last_release_us, now_us_});
  n.last_release_us = release;
  std::vector<SimNode::OutMsg> out = std::move(n.outbox);
  n.outbox.clear();
  for (auto& m : out) {
    switch (m.kind) {
      case SimNode::OutMsg::Kind::peer:
        send_peer_at(n, m.to, std::move(m.bytes), release);
        break;
      case SimNode::OutMsg::Kind::client:
        send_client_at(n, m.conn, std::move(m.bytes), release);
        break;
      case SimNode::OutMsg::Kind::close:
        close_client_at(n, m.conn, release);
        break;
    }
  }
}

std::int64_t Simulator::link_arrival_us(std::uint32_t from, std::int64_t send_us, std::size_t bytes,
                                        bool client_link) {
  const auto& p = config_.perf.profile;
  // The sender's link to the switch: a replica's carries its peer messages and its replies to
  // clients, a client's its requests.
  const bool from_client = from >= client_endpoint(0);
  const double mbit_s = from_client ? p.client_link_bandwidth_mbit_s : p.link_bandwidth_mbit_s;
  const double latency_us = client_link ? p.client_link_latency_us : p.link_latency_us;
  // Mbit/s = bits per microsecond: bytes * 8 / mbit_s microseconds on the wire.
  const auto wire_ns = std::llround(static_cast<double>(bytes) * 8.0 * 1000.0 / mbit_s);
  auto& free = link_free_ns_[from];
  free = std::max(free, send_us * 1000) + wire_ns;
  return ceil_us(free) + std::llround(latency_us);
}

ThroughputResult Simulator::measure_throughput() const {
  ThroughputResult t;
  const std::int64_t from = window_from_us_ < 0 ? now_us_ + 1 : window_from_us_;
  const std::int64_t to = from + config_.throughput.measure_ms * 1000;
  t.seconds = static_cast<double>(config_.throughput.measure_ms) / 1000.0;
  std::vector<std::int64_t> lat;
  double sum = 0;
  for (const auto& op : history_.ops) {
    if (!op.completed() || op.complete_us < from || op.complete_us >= to) continue;
    if (op.kind != OpKind::get && op.kind != OpKind::set) continue;  // not the creates
    if (op.err != zerr::ok) {
      ++t.errors;
      continue;
    }
    ++(op.kind == OpKind::get ? t.reads : t.writes);
    lat.push_back(op.complete_us - op.invoke_us);
    sum += static_cast<double>(op.complete_us - op.invoke_us);
  }
  if (t.seconds > 0) {
    t.reads_per_s = static_cast<double>(t.reads) / t.seconds;
    t.writes_per_s = static_cast<double>(t.writes) / t.seconds;
    t.ops_per_s = t.reads_per_s + t.writes_per_s;
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double q) {
    if (lat.empty()) return 0.0;
    const auto i = static_cast<std::size_t>(q / 100.0 * static_cast<double>(lat.size() - 1) + 0.5);
    return static_cast<double>(lat[std::min(i, lat.size() - 1)]) / 1000.0;
  };
  t.latency_ms_p50 = pct(50);
  t.latency_ms_p90 = pct(90);
  t.latency_ms_p99 = pct(99);
  t.latency_ms_mean = lat.empty() ? 0.0 : sum / static_cast<double>(lat.size()) / 1000.0;
  if (perf_) {
    for (const auto& n : nodes_) {
      const double cores = static_cast<double>(pools_.at(n->pool).free_ns.size());
      t.cpu_utilization.push_back(n->cpu_busy_ns_measured /
                                  (static_cast<double>(to - from) * 1000.0 * cores));
    }
  }
  return t;
}

// ------------------------------------------------------------------ network

bool Simulator::blocked(std::uint32_t from, std::uint32_t to) const {
  return !blocked_.empty() && blocked_.count({from, to}) != 0;
}

void Simulator::charge_send(SimNode& from, std::size_t bytes, double message_ns, double byte_ns) {
  const auto& p = config_.perf.profile;
  const double size = static_cast<double>(bytes);
  const double transport = p.transport_message_ns + p.transport_byte_ns * size;
  from.turn_transport_ns += transport;
  from.cpu_cost_ns += transport + message_ns + byte_ns * size;
}

void Simulator::node_send_peer(SimNode& from, NodeId to, Bytes bytes) {
  if (from.on_cpu) {  // leaves when the work that sends it completes
    const auto& p = config_.perf.profile;
    charge_send(from, bytes.size(), p.peer_message_ns, p.peer_byte_ns);
    from.outbox.push_back({SimNode::OutMsg::Kind::peer, to, 0, std::move(bytes)});
    return;
  }
  send_peer_at(from, to, std::move(bytes), now_us_);
}

void Simulator::send_peer_at(SimNode& from, NodeId to, Bytes bytes, std::int64_t t_us) {
  if (to == 0 || to > nodes_.size() || to == from.id) return;
  ++result_.peer_messages;
  result_.peer_bytes += bytes.size();
  if (blocked(from.id, to)) return;
  const auto& k = config_.network;
  if (network_faults_on_ && net_rng_.chance(k.peer_loss_chance)) {
    trace({now_us_, "lose", to, from.id, bytes.size(), hash_bytes(bytes), {}});
    return;
  }
  const bool may_mangle = network_faults_on_ && (!k.kernel_envelopes_fifo || is_broadcast(bytes));
  const int copies = may_mangle && net_rng_.chance(k.peer_duplicate_chance) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    std::int64_t at = perf_ ? link_arrival_us(from.id, t_us, bytes.size(), false)
                            : now_us_ + sample(k.peer_delay, net_rng_);
    if (may_mangle && net_rng_.chance(k.peer_reorder_chance)) {
      at += net_rng_.uniform_range(0, k.reorder_extra_us_max);
    } else {
      auto& last = last_peer_delivery_us_[{from.id, to}];
      at = std::max(at, last);
      last = at;
    }
    push(Event{at, 0, EventKind::peer_deliver, to, from.id, 0,
               i + 1 < copies ? bytes : std::move(bytes)});
  }
}

ConnId Simulator::open_conn(int client, NodeId node_id) {
  Conn c;
  c.id = next_conn_++;
  c.client = client;
  c.node = node_id;
  SimNode& n = node(node_id);
  c.incarnation = n.incarnation;
  auto& slot = conns_[c.id] = c;
  if (!n.up) break_conn(slot, true);  // connection refused
  return c.id;
}

void Simulator::client_send(ConnId conn, Bytes bytes) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || !it->second.open) return;
  Conn& c = it->second;
  if (blocked(client_endpoint(c.client), c.node)) return break_conn(c, false);
  if (network_faults_on_ && net_rng_.chance(config_.network.client_break_chance)) {
    return break_conn(c, true);
  }
  std::int64_t send_us = now_us_;
  if (perf_ && config_.perf.profile.host_cores > 0) {
    // The load generator runs on the same machine: its work per request takes a core.
    CpuPool& pool = pools_.front();
    auto core = std::min_element(pool.free_ns.begin(), pool.free_ns.end());
    *core = std::max(*core, now_us_ * 1000) + std::llround(config_.perf.profile.client_op_ns);
    send_us = ceil_us(*core);
  }
  const std::int64_t at =
      std::max(perf_ ? link_arrival_us(client_endpoint(c.client), send_us, bytes.size(), true)
                     : now_us_ + sample(config_.network.client_delay, net_rng_),
               c.last_to_node_us);
  c.last_to_node_us = at;
  push(Event{at, 0, EventKind::client_to_node, c.node, 0, c.id, std::move(bytes)});
}

void Simulator::close_conn(ConnId conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  // The node learns of the close after the requests already on their way.
  if (c.open && !c.server_closed) {
    const std::int64_t at =
        std::max(now_us_ + sample(config_.network.client_delay, net_rng_), c.last_to_node_us);
    push(Event{at, 0, EventKind::client_hangup, c.node, c.incarnation, c.id, {}});
  }
  conns_.erase(it);
}

void Simulator::node_send_client(SimNode& from, ConnId conn, Bytes bytes) {
  if (from.on_cpu) {  // leaves when the work that sends it completes
    const auto& p = config_.perf.profile;
    charge_send(from, bytes.size(), p.client_message_ns, p.client_byte_ns);
    from.outbox.push_back({SimNode::OutMsg::Kind::client, 0, conn, std::move(bytes)});
    return;
  }
  send_client_at(from, conn, std::move(bytes), now_us_);
}

void Simulator::send_client_at(SimNode& from, ConnId conn, Bytes bytes, std::int64_t t_us) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  if (!c.open || c.server_closed || c.node != from.id || c.incarnation != from.incarnation) return;
  if (blocked(from.id, client_endpoint(c.client))) return break_conn(c, false);
  if (network_faults_on_ && net_rng_.chance(config_.network.client_break_chance)) {
    return break_conn(c, true);
  }
  std::int64_t at = std::max(perf_ ? link_arrival_us(from.id, t_us, bytes.size(), true)
                                   : now_us_ + sample(config_.network.client_delay, net_rng_),
                             c.last_to_client_us);
  if (config_.test.net_notifications_late && is_notification(bytes)) {
    at += 50'000;  // test-only fault: leaves FIFO order, later replies overtake it
  } else if (config_.test.net_replies_reordered && !is_notification(bytes)) {
    at += net_rng_.uniform_range(0, 20'000);  // test-only fault: replies leave FIFO order
  } else {
    c.last_to_client_us = at;
  }
  push(Event{at, 0, EventKind::node_to_client, c.node, 0, c.id, std::move(bytes)});
}

void Simulator::node_close_client(SimNode& from, ConnId conn) {
  if (from.on_cpu) {
    from.outbox.push_back({SimNode::OutMsg::Kind::close, 0, conn, {}});
    return;
  }
  close_client_at(from, conn, now_us_);
}

void Simulator::close_client_at(SimNode& from, ConnId conn, std::int64_t t_us) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  if (!c.open || c.server_closed || c.node != from.id) return;
  c.server_closed = true;
  const std::int64_t at = std::max(perf_ ? link_arrival_us(from.id, t_us, 0, true)
                                         : now_us_ + sample(config_.network.client_delay, net_rng_),
                                   c.last_to_client_us);
  c.last_to_client_us = at;
  push(Event{at, 0, EventKind::conn_closed, c.node, 0, c.id, {}});
}

void Simulator::break_conn(Conn& c, bool tell_client) {
  if (!c.open) return;
  c.open = false;
  trace({now_us_, "conn_break", c.node, static_cast<std::uint64_t>(c.client), c.id, 0,
         tell_client ? "reset" : "silent"});
  if (tell_client) {  // a reset: both ends see it
    push(Event{now_us_ + sample(config_.network.client_delay, net_rng_),
               0,
               EventKind::conn_closed,
               c.node,
               0,
               c.id,
               {}});
    if (!c.server_closed) {
      push(Event{
          std::max(now_us_ + sample(config_.network.client_delay, net_rng_), c.last_to_node_us),
          0,
          EventKind::client_hangup,
          c.node,
          c.incarnation,
          c.id,
          {}});
    }
  }
}

void Simulator::set_client_timer(int client, std::int64_t at_us, std::uint64_t generation) {
  push(Event{
      at_us, 0, EventKind::client_timer, 0, static_cast<std::uint32_t>(client), generation, {}});
}

// ------------------------------------------------------------------ phases

void Simulator::begin_liveness() {
  phase_ = Phase::liveness_progress;
  heal_us_ = now_us_;
  network_faults_on_ = false;
  trace({now_us_, "heal", 0, steps_, 0, 0, "safety phase over: every fault heals"});
  heal_everything();
  push(Event{now_us_ + config_.liveness_timeout_ms * 1000, 0, EventKind::deadline, 0, 0, 0, {}});
}

void Simulator::check_liveness() {
  if (phase_ == Phase::liveness_progress) {
    for (const auto& c : clients_) {
      if (!c->progressed_since(heal_us_)) return;
    }
    phase_ = Phase::liveness_drain;
    trace({now_us_, "progress", 0, 0, 0, 0, "every client completed a write; workload stops"});
    for (auto& c : clients_)
      c->stop_issuing();
  }
  if (phase_ != Phase::liveness_drain) return;
  Zxid acked = 0;
  for (const auto& c : clients_) {
    if (!c->idle()) return;
    acked = std::max(acked, c->max_acked_zxid());
  }
  const SimNode& first = *nodes_.front();
  if (!first.up || !first.node) return;
  const Zxid applied = first.node->applied_zxid();
  const std::uint64_t digest = first.node->digest();
  if (applied < acked) return;
  for (const auto& n : nodes_) {
    if (!n->up || n->paused || !n->node || !n->node->idle()) return;
    if (n->node->applied_zxid() != applied || n->node->digest() != digest) return;
  }
  phase_ = Phase::done;
  trace({now_us_, "converged", 0, applied, digest, 0, {}});
}

std::string Simulator::cluster_state() const {
  std::string out;
  for (const auto& n : nodes_) {
    out += "  node " + std::to_string(n->id) + ": ";
    if (!n->up || !n->node) {
      out += "down\n";
      continue;
    }
    const BroadcastStatus s = n->node->status();
    out += std::string(n->paused ? "paused, " : "") + to_string(s.role) + " epoch " +
           std::to_string(s.epoch) + " leader " + std::to_string(s.leader) + ", committed " +
           hex(s.last_committed_zxid) + ", applied " + hex(n->node->applied_zxid()) + ", digest " +
           hex(n->node->digest()) + (n->node->idle() ? ", idle" : ", busy") +
           (s.can_propose ? ", can propose" : "") + "\n";
  }
  for (const auto& c : clients_)
    out += "  " + c->describe() + "\n";
  return out;
}

RunResult Simulator::finish() {
  RunResult& r = result_;
  r.seed = config_.seed;
  r.events = steps_;
  r.sim_time_us = now_us_;
  r.leaders = replicas_.leaders_seen();
  r.final_zxid = replicas_.max_applied_zxid();
  for (const auto& op : history_.ops) {
    ++r.ops;
    if (!op.completed())
      ++r.ops_no_reply;
    else if (op.err == zerr::ok)
      ++r.ops_ok;
  }
  if (!failure_ && phase_ != Phase::done) {
    failure_ = Violation{"liveness", "the event queue ran dry before the run finished"};
  }
  if (config_.throughput.enabled) r.throughput = measure_throughput();
  if (config_.perf.measure_host_cpu) {
    HostCpuFit f = host_cpu_;
    // Gaussian elimination with partial pivoting on the 3x3 normal equations.
    double a[3][4];
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j)
        a[i][j] = fit_xx_[i][j];
      a[i][3] = fit_xy_[i];
    }
    bool solved = true;
    for (int c = 0; c < 3 && solved; ++c) {
      int pivot = c;
      for (int i = c + 1; i < 3; ++i) {
        if (std::abs(a[i][c]) > std::abs(a[pivot][c])) pivot = i;
      }
      if (std::abs(a[pivot][c]) < 1e-9) {
        solved = false;
        break;
      }
      std::swap(a[c], a[pivot]);
      for (int i = 0; i < 3; ++i) {
        if (i == c) continue;
        const double k = a[i][c] / a[c][c];
        for (int j = c; j < 4; ++j)
          a[i][j] -= k * a[c][j];
      }
    }
    if (solved) {
      f.request_ns = std::max(0.0, a[0][3] / a[0][0]);
      f.peer_handling_ns = std::max(0.0, a[1][3] / a[1][1]);
      f.turn_ns = std::max(0.0, a[2][3] / a[2][2]);
    }
    r.host_cpu = f;
  }
  for (const auto& n : nodes_)
    absorb_read_counters(*n);
  for (const auto& n : nodes_) {
    if (n->node) {
      r.staleness_bound_ms = n->node->read_policy().staleness_bound_ms();
      break;
    }
  }
  // The throughput workload measures; the checking workloads check the history.
  if (!failure_ && !config_.throughput.enabled) {
    HistoryCheckOptions options;
    options.linearizable_reads = reads_are_linearizable(
        config_, loader_->describe(PluginKind::read_policy, config_.read_policy).read_guarantee);
    options.staleness_bound_ms = r.staleness_bound_ms;
    if (config_.check_reads_linearizable) options.linearizable_reads = true;
    if (config_.check_staleness_bound_ms)
      options.staleness_bound_ms = config_.check_staleness_bound_ms;
    options.disabled = config_.disabled_checks;
    HistoryCheckResult h = check_history(history_, replicas_, options);
    r.stale = h.stale;
    r.session_order_anomalies = h.session_order_anomalies;
    r.session_order_example = h.session_order_example;
    r.linearizability = h.linearizability;
    if (h.violation) failure_ = h.violation;
  }
  r.ok = !failure_;
  if (failure_) {
    r.property = failure_->property;
    r.message = failure_->message;
  }
  r.trace_digest = trace_.digest();
  r.trace_tail = trace_.tail();
  r.history = std::move(history_);  // the run is over: the caller gets the history, no copy
  return std::move(result_);
}

// ------------------------------------------------------------------ entry points

RunResult run_simulation(const SimConfig& config) {
  Simulator sim(config);
  return sim.run();
}

std::string format_failure(const SimConfig& config, const RunResult& r) {
  std::string out;
  out += "SIMULATION FAILED: property '" + r.property + "' violated\n";
  out += "  seed:         " + std::to_string(r.seed) + "\n";
  out += "  git revision: " + std::string(git_revision()) + "\n";
  char line[200];
  std::snprintf(line, sizeof line,
                "  at:           %.6f s simulated, event %" PRIu64 ", trace digest %016" PRIx64
                "\n",
                static_cast<double>(r.sim_time_us) / 1e6, r.events, r.trace_digest);
  out += line;
  out += "  reproduce:    qlab sim --broadcast " + config.broadcast + " --nodes " +
         std::to_string(config.nodes) + " --observers " + std::to_string(config.observers) +
         " --read-policy " + config.read_policy + " --faults " + config.fault_mix + " --seed " +
         std::to_string(r.seed) + " --duration-ms " + std::to_string(config.duration_ms) +
         (config.max_steps ? " --steps " + std::to_string(config.max_steps) : std::string()) +
         (config.workload.session_timeout_ms != WorkloadKnobs{}.session_timeout_ms
              ? " --session-timeout-ms " + std::to_string(config.workload.session_timeout_ms)
              : std::string());
  if (config.tick_ms != SimConfig{}.tick_ms) out += " --tick-ms " + std::to_string(config.tick_ms);
  if (config.clock.tick_jitter_us != 0) {
    out += " --tick-jitter-us " + std::to_string(config.clock.tick_jitter_us);
  }
  if (config.workload.clients != WorkloadKnobs{}.clients) {
    out += " --clients " + std::to_string(config.workload.clients);
  }
  const auto delay = [](const DelayDist& d) {
    return std::to_string(d.min_us) + "," + std::to_string(d.mean_us) + "," +
           std::to_string(d.max_us);
  };
  out += " --peer-delay-us " + delay(config.network.peer_delay) + " --fsync-delay-us " +
         delay(config.disk.fsync_delay);
  if (const auto& k = config.scenario; !k.name.empty()) {
    out += " --scenario " + k.name + " --trials " + std::to_string(k.trials) + " --settle-ms " +
           std::to_string(k.settle_ms) + " --crash-window-ms " + std::to_string(k.crash_window_ms) +
           " --trial-timeout-ms " + std::to_string(k.trial_timeout_ms) + " --partition-ms " +
           std::to_string(k.partition_ms) + " --heal-ms " + std::to_string(k.heal_ms) +
           (k.crash_notifies_peers ? " --crash-notifies-peers" : "") +
           (k.diverge_logs ? " --diverge-logs" : "") +
           (k.baseline ? " (the no-fault baseline run)" : "");
  }
  for (const auto& [k, v] : config.broadcast_params)
    out += " --broadcast-param " + k + "=" + v;
  for (const auto& [k, v] : config.read_policy_params)
    out += " --read-policy-param " + k + "=" + v;
  for (const auto& p : config.disabled_checks)
    out += " --skip-check " + p;
  if (config.check_reads_linearizable) out += " --check-linearizable-reads";
  if (config.check_staleness_bound_ms) {
    out += " --check-staleness-bound-ms " + std::to_string(*config.check_staleness_bound_ms);
  }
  out += "\n";
  out += "\n" + r.message + "\n";
  out += "\nresolved config:\n" + config.to_text();
  out += "\nlast " + std::to_string(r.trace_tail.size()) + " trace events:\n";
  for (const auto& t : r.trace_tail)
    out += "  " + t + "\n";
  return out;
}

}  // namespace quorumlab::sim
