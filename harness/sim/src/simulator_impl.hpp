// The simulator's internals: simulated replicas (NodeEnv), connections, faults and the event
// loop. See simulator.hpp for what a run is.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "client.hpp"
#include "quorumlab/node/node.hpp"
#include "quorumlab/sim/event_queue.hpp"
#include "quorumlab/sim/sim_storage.hpp"
#include "quorumlab/sim/simulator.hpp"

namespace quorumlab::sim {

class Simulator;

/// Plugin trace events of one replica, into the simulator's trace.
class SimTracer final : public Tracer {
 public:
  SimTracer(Simulator& sim, NodeId node) : sim_(sim), node_(node) {}
  bool enabled() const override;
  void record(const TraceEvent& event) override;

 private:
  Simulator& sim_;
  NodeId node_;
};

/// One replica: the production Node on simulated transport, clocks and disk.
class SimNode final : public node::NodeEnv {
 public:
  SimNode(Simulator& sim, NodeId id, NodeConfig config);

  // NodeEnv
  void send_peer(NodeId to, Bytes bytes) override;
  void send_client(node::ConnId conn, Bytes bytes) override;
  void close_client(node::ConnId conn) override;
  std::int64_t now_ms() override { return local_us() / 1000; }
  std::int64_t wall_ms() override { return kWallBaseMs + (local_us() + wall_offset_us) / 1000; }

  /// Local monotonic time: simulated time scaled by the drift, plus forward jumps.
  std::int64_t local_us() const;

  static constexpr std::int64_t kWallBaseMs = 1'700'000'000'000;

  Simulator& sim;
  const NodeId id;
  const NodeConfig config;
  SimTracer tracer;
  SimDisk disk;
  std::shared_ptr<SimStorage> storage;
  std::unique_ptr<node::Node> node;
  std::uint32_t incarnation = 0;
  bool up = false;
  bool paused = false;
  std::uint64_t tick_chain = 0;    ///< tick events of older chains are ignored
  std::int64_t first_tick_us = 0;  ///< simulated time the incarnation's first tick fell due
  std::int64_t next_tick_us = 0;   ///< simulated time the next tick falls due
  std::uint64_t ticks = 0;         ///< ticks delivered to this incarnation
  std::int64_t drift_ppm = 0;
  std::int64_t mono_offset_us = 0;
  std::int64_t wall_offset_us = 0;
  /// Forward jumps of the monotonic clock: (simulated time, jump), for the allowance of
  /// disconnected_before_expiry (a leader whose clock jumps expires sessions early).
  std::vector<std::pair<std::int64_t, std::int64_t>> mono_jumps;
  std::int64_t slow_disk_until_us = 0;
  std::vector<Event> held;  ///< deliveries that arrived while paused

  // The performance model (SimConfig::perf): work waits in `inbox` for a core of the node's
  // CPU pool; while it runs (`on_cpu`) its cost accumulates and what it sends waits in
  // `outbox` until it completes.
  struct OutMsg {
    enum class Kind : std::uint8_t { peer, client, close } kind = Kind::peer;
    NodeId to = 0;
    node::ConnId conn = 0;
    Bytes bytes;
  };
  std::deque<std::pair<std::uint64_t, Event>> inbox;  ///< (arrival number, work)
  std::vector<OutMsg> outbox;
  bool on_cpu = false;
  double cpu_cost_ns = 0;
  std::int64_t last_release_us = 0;  ///< work completes (sends) in the order it started
  std::int64_t last_turn_end_ns = 0;
  double turn_transport_ns = 0;  ///< the transport's share of cpu_cost_ns
  std::size_t pool = 0;
  double cpu_busy_ns_measured = 0;  ///< CPU time within the throughput workload's window
};

/// A client connection (TCP-like: FIFO both ways; broken for good once anything is lost).
struct Conn {
  node::ConnId id = 0;
  int client = 0;
  NodeId node = 0;
  std::uint32_t incarnation = 0;
  bool open = true;            ///< false: nothing more is delivered either way
  bool server_closed = false;  ///< the node called close_client
  std::int64_t last_to_node_us = 0;
  std::int64_t last_to_client_us = 0;
};

/// A partition the nemesis injected and will heal. (Crashes, pauses and slow disks end through
/// their own events: restart, resume, and the disk's slow-until time.)
struct ActiveFault {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> blocked;  ///< (from, to) endpoints
  std::string description;
};

class Simulator final : public ClientHost {
 public:
  explicit Simulator(const SimConfig& config);
  ~Simulator() override;

  RunResult run();

  // ClientHost
  std::int64_t now_us() const override { return now_us_; }
  ConnId open_conn(int client, NodeId node) override;
  void client_send(ConnId conn, Bytes bytes) override;
  void close_conn(ConnId conn) override;
  void set_client_timer(int client, std::int64_t at_us, std::uint64_t generation) override;
  int replica_count() const override { return static_cast<int>(nodes_.size()); }
  void client_violation(const std::string& property, const std::string& message) override;
  void trace(TraceRecord r) override;
  History& history() override { return history_; }

  // Called by SimNode / SimTracer.
  void node_send_peer(SimNode& from, NodeId to, Bytes bytes);
  void node_send_client(SimNode& from, ConnId conn, Bytes bytes);
  void node_close_client(SimNode& from, ConnId conn);
  bool perf_on() const { return perf_; }
  bool measuring_host_cpu() const { return config_.perf.measure_host_cpu; }
  void plugin_trace(NodeId node, const TraceEvent& e);

 private:
  // Setup and the loop (simulator.cpp).
  void start_node(SimNode& n);
  /// `notify_peers`: the peers that can reach it see the connection drop (peer_down).
  void crash_node(SimNode& n, bool notify_peers = true);
  /// Adds the node's read counters to the result (before a crash loses them, and at the end).
  void absorb_read_counters(const SimNode& n);
  void schedule_tick(SimNode& n, std::int64_t at_us);
  /// Simulated time between two ticks of `n` (its clock drifts).
  std::int64_t tick_period_us(const SimNode& n) const;
  /// The time to the node's next tick: its period, moved by up to clock.tick_jitter_us.
  std::int64_t next_tick_period_us(const SimNode& n);
  /// Performance model: the CPU a send costs the node's current turn (transport per message
  /// and byte, plus the encoding's `message_ns` and `byte_ns`).
  void charge_send(SimNode& from, std::size_t bytes, double message_ns, double byte_ns);
  void dispatch(Event& e);
  void deliver_to_node(SimNode& n, Event& e);
  void after_event();
  /// The first apply of a committed entry anywhere: tells the clients of a session the leader
  /// expired (disconnected_before_expiry).
  void note_first_apply(const SimNode& n, const node::AppliedInfo& info);
  void fail(const std::string& property, const std::string& message);
  // The performance model (simulator.cpp).
  struct CpuPool {
    std::vector<std::int64_t> free_ns;  ///< when each core is free, simulated ns
    std::vector<NodeId> members;
    std::int64_t wakeup_at_us = -1;  ///< a cpu_ready event pending at this time
  };
  /// Node work that arrived: it waits for a core.
  void perf_arrive(SimNode& n, Event e);
  void serve_pool(std::size_t pool);
  void run_on_cpu(SimNode& n, std::size_t core);
  /// The cost of receiving `e` (before what its handling sends and applies).
  double arrival_cost_ns(const Event& e) const;
  /// When a message of `bytes` that endpoint `from` sends at `send_us` arrives: transmitted in
  /// FIFO order on the sender's link to the switch at its bandwidth, then the latency of a peer
  /// or a client connection.
  std::int64_t link_arrival_us(std::uint32_t from, std::int64_t send_us, std::size_t bytes,
                               bool client_link);
  void send_peer_at(SimNode& from, NodeId to, Bytes bytes, std::int64_t t_us);
  void send_client_at(SimNode& from, ConnId conn, Bytes bytes, std::int64_t t_us);
  void close_client_at(SimNode& from, ConnId conn, std::int64_t t_us);
  ThroughputResult measure_throughput() const;
  template <typename F>
  void with_node(SimNode& n, const char* what, F&& f);
  void push(Event e) { queue_.push(std::move(e)); }
  std::int64_t sample(const DelayDist& d, Rng& rng) const;
  std::int64_t fsync_delay_us(SimNode& n);
  SimNode& node(NodeId id) { return *nodes_[id - 1]; }
  static std::uint32_t client_endpoint(int client) {
    return 1000u + static_cast<std::uint32_t>(client);
  }
  bool blocked(std::uint32_t from, std::uint32_t to) const;
  void break_conn(Conn& c, bool tell_client);
  RunResult finish();

  // Phases (simulator.cpp).
  void begin_liveness();
  void check_liveness();
  std::string cluster_state() const;

  // Measurement scenarios (scenarios.cpp; ScenarioKnobs).
  void scenario_start();
  void scenario_step(std::uint32_t kind, std::uint64_t generation);
  /// After every event: settles, notices a new leader, counts leader changes.
  void scenario_after_event();
  bool settled(NodeId* leader) const;
  void scenario_schedule(std::uint32_t kind, std::int64_t at_us);
  void scenario_next_trial();
  /// leader-crash: uniform in [0, crash_window_ms) (default the heartbeat interval).
  std::int64_t crash_offset_us();
  /// diverge_logs: the leader reaches every follower again.
  void end_stale_block();
  void scenario_finish();

  // Faults (faults.cpp).
  void nemesis();
  void inject_partition();
  void inject_crash();
  void inject_pause();
  void inject_clock_jump();
  void inject_slow_disk();
  void inject_transfer();
  void end_fault(std::uint64_t id);
  void heal_everything();
  NodeId current_leader() const;
  int down_count() const;
  std::vector<NodeId> up_nodes() const;

  const SimConfig config_;
  Rng root_;
  Rng net_rng_, nemesis_rng_, disk_rng_;
  std::unique_ptr<PluginLoader> loader_;
  EventQueue queue_;
  std::int64_t now_us_ = 0;
  std::uint64_t steps_ = 0;
  SimTrace trace_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::vector<std::unique_ptr<SimClient>> clients_;
  std::map<ConnId, Conn> conns_;
  ConnId next_conn_ = 1;
  std::map<std::pair<std::uint32_t, std::uint32_t>, int> blocked_;
  std::map<std::pair<NodeId, NodeId>, std::int64_t> last_peer_delivery_us_;
  const bool perf_;
  bool cpu_dispatch_ = false;   ///< dispatching work that holds a core
  bool defer_process_ = false;  ///< a reactor turn: inputs first, then one process()
  std::vector<CpuPool> pools_;
  std::uint64_t arrivals_ = 0;
  std::map<std::uint32_t, std::int64_t> link_free_ns_;
  std::int64_t window_from_us_ = -1;  ///< throughput workload: the measured window's start  ///<
                                      ///< when each endpoint's link is free
  // measure_host_cpu: the normal equations of the least-squares fit y = a x1 + b x2 + c
  // (x1 = client requests, x2 = peer messages of a turn, y = measured - modelled ns).
  HostCpuFit host_cpu_;
  double fit_xx_[3][3] = {};
  double fit_xy_[3] = {};
  std::map<std::uint64_t, ActiveFault> faults_;
  std::uint64_t next_fault_id_ = 1;
  bool network_faults_on_ = true;
  bool setting_up_ = true;  ///< the first start of the replicas: errors are setup errors

  enum class Phase { safety, liveness_progress, liveness_drain, done };
  Phase phase_ = Phase::safety;
  std::int64_t heal_us_ = 0;

  // Scenario state (scenarios.cpp).
  enum class Stage { off, settling, writing, waiting, electing, rounds, done };
  Stage stage_ = Stage::off;
  Rng scenario_rng_;
  Rng tick_rng_;                    ///< ClockKnobs::tick_jitter_us
  std::uint64_t scenario_gen_ = 0;  ///< steps of older generations are ignored
  int trial_ = 0;
  NodeId crashed_ = 0;
  std::uint64_t crashed_epoch_ = 0;
  std::int64_t crash_us_ = 0;
  bool elected_ = false;
  std::int64_t window_start_us_ = 0;
  std::uint64_t start_epoch_ = 0;
  std::pair<NodeId, std::uint64_t> serving_leader_{0, 0};
  std::uint64_t partition_fault_ = 0;
  LogIndex write_from_index_ = 0;  ///< diverge_logs: the leader's last index before the write
  std::uint64_t stale_fault_ = 0;  ///< diverge_logs: the block from the leader to the stale

  ReplicaChecker replicas_;
  LogIndex first_applied_index_ = 0;  ///< highest index note_first_apply saw
  History history_;
  std::optional<Violation> failure_;
  RunResult result_;
};

}  // namespace quorumlab::sim
