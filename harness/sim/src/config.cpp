#include <sstream>
#include <stdexcept>

#include "quorumlab/sim/config.hpp"
#include "quorumlab/sim/event_queue.hpp"

namespace quorumlab::sim {

const char* to_string(EventKind k) {
  switch (k) {
    case EventKind::tick:
      return "tick";
    case EventKind::peer_deliver:
      return "peer_deliver";
    case EventKind::client_to_node:
      return "client_to_node";
    case EventKind::node_to_client:
      return "node_to_client";
    case EventKind::conn_closed:
      return "conn_closed";
    case EventKind::fsync_done:
      return "fsync_done";
    case EventKind::client_timer:
      return "client_timer";
    case EventKind::nemesis:
      return "nemesis";
    case EventKind::fault_end:
      return "fault_end";
    case EventKind::restart:
      return "restart";
    case EventKind::resume:
      return "resume";
    case EventKind::phase_liveness:
      return "phase_liveness";
    case EventKind::peer_down:
      return "peer_down";
    case EventKind::client_hangup:
      return "client_hangup";
    case EventKind::deadline:
      return "deadline";
    case EventKind::scenario:
      return "scenario";
    case EventKind::cpu_ready:
      return "cpu_ready";
  }
  return "?";
}

const std::vector<std::string>& fault_categories() {
  static const std::vector<std::string> all = {"loss", "partition", "client", "crash",
                                               "disk", "pause",     "clock"};
  return all;
}

namespace {

void enable(SimConfig& c, const std::string& category) {
  if (category == "loss") {
    c.network.peer_loss_chance = 0.02;
    c.network.peer_duplicate_chance = 0.02;
    c.network.peer_reorder_chance = 0.03;
  } else if (category == "partition") {
    c.partition.enabled = true;
  } else if (category == "client") {
    c.network.client_break_chance = 0.003;
  } else if (category == "crash") {
    c.crash.enabled = true;
    c.crash.unsynced_prefix_survives_chance = 0.3;
  } else if (category == "disk") {
    c.disk.slow_enabled = true;
  } else if (category == "pause") {
    c.pause.enabled = true;
  } else if (category == "clock") {
    c.clock.drift_ppm_max = 2000;
    c.clock.jumps_enabled = true;
  } else if (category == "transfer") {
    c.transfer.enabled = true;
  } else {
    std::string known;
    for (const auto& k : fault_categories())
      known += ", " + k;
    known += ", transfer";
    throw std::invalid_argument("unknown fault '" + category +
                                "'; use none, network, crash, all or a comma list of" +
                                known.substr(1));
  }
}

}  // namespace

void apply_fault_mix(SimConfig& c, const std::string& mix) {
  c.network.peer_loss_chance = c.network.peer_duplicate_chance = c.network.peer_reorder_chance = 0;
  c.network.client_break_chance = 0;
  c.partition.enabled = false;
  c.crash.enabled = false;
  c.crash.unsynced_prefix_survives_chance = 0;
  c.disk.slow_enabled = false;
  c.pause.enabled = false;
  c.transfer.enabled = false;
  c.clock.drift_ppm_max = 0;
  c.clock.jumps_enabled = false;
  std::stringstream ss(mix);
  std::string word;
  while (std::getline(ss, word, ',')) {
    if (word.empty() || word == "none") continue;
    if (word == "network") {
      for (const char* w : {"loss", "partition", "client"})
        enable(c, w);
    } else if (word == "crash") {
      for (const char* w : {"crash", "disk"})
        enable(c, w);
    } else if (word == "all") {
      for (const auto& w : fault_categories())
        enable(c, w);
    } else {
      enable(c, word);
    }
  }
  c.fault_mix = mix;
}

bool reads_are_linearizable(const SimConfig& c, ReadGuarantee guarantee) {
  // A single replica serves every read from the state every acknowledged write reached.
  // The simulator's clocks stay within the drift bound, so a lease's condition holds.
  return guarantee == ReadGuarantee::linearizable ||
         guarantee == ReadGuarantee::linearizable_if_clocks_bounded || c.replicas() == 1;
}

std::string SimConfig::to_text() const {
  std::ostringstream o;
  auto d = [&](const char* name, const DelayDist& x) {
    o << name << " = {min " << x.min_us << ", mean " << x.mean_us << ", max " << x.max_us
      << "} us\n";
  };
  o << "seed = " << seed << "\n"
    << "broadcast = " << broadcast << "\n";
  for (const auto& [k, v] : broadcast_params)
    o << "broadcast." << k << " = " << v << "\n";
  o << "nodes = " << nodes << "\n"
    << "observers = " << observers << "\n"
    << "read_policy = " << read_policy << "\n";
  for (const auto& [k, v] : read_policy_params)
    o << "read_policy." << k << " = " << v << "\n";
  if (check_reads_linearizable) o << "check_reads_linearizable = true\n";
  if (check_staleness_bound_ms)
    o << "check_staleness_bound_ms = " << *check_staleness_bound_ms << "\n";
  if (test.plugins_drift_bound_ppm > 0) {
    o << "test.plugins_drift_bound_ppm = " << test.plugins_drift_bound_ppm << "\n";
  }
  o << "tick_ms = " << tick_ms << "\n"
    << "snapshot_every_txns = " << snapshot_every_txns << "\n"
    << "duration_ms = " << duration_ms << "\n"
    << "max_steps = " << max_steps << "\n"
    << "liveness_timeout_ms = " << liveness_timeout_ms << "\n"
    << "expiry_grace_ms = " << expiry_grace_ms << "\n"
    << "fault_mix = " << fault_mix << "\n";
  d("network.peer_delay", network.peer_delay);
  d("network.client_delay", network.client_delay);
  o << "network.peer_loss_chance = " << network.peer_loss_chance << "\n"
    << "network.peer_duplicate_chance = " << network.peer_duplicate_chance << "\n"
    << "network.peer_reorder_chance = " << network.peer_reorder_chance << "\n"
    << "network.reorder_extra_us_max = " << network.reorder_extra_us_max << "\n"
    << "network.client_break_chance = " << network.client_break_chance << "\n"
    << "network.kernel_envelopes_fifo = " << network.kernel_envelopes_fifo << "\n"
    << "partition.enabled = " << partition.enabled << "\n"
    << "partition.duration_ms = [" << partition.duration_min_ms << ", " << partition.duration_max_ms
    << "]\n"
    << "partition.weights = symmetric " << partition.weight_symmetric << ", asymmetric "
    << partition.weight_asymmetric << ", isolate_leader " << partition.weight_isolate_leader
    << ", majority_minority " << partition.weight_majority_minority << ", client "
    << partition.weight_client << "\n"
    << "crash.enabled = " << crash.enabled << "\n"
    << "crash.downtime_ms = [" << crash.downtime_min_ms << ", " << crash.downtime_max_ms << "]\n"
    << "crash.unsynced_prefix_survives_chance = " << crash.unsynced_prefix_survives_chance << "\n";
  d("disk.fsync_delay", disk.fsync_delay);
  o << "disk.slow_enabled = " << disk.slow_enabled << "\n"
    << "disk.slow_factor = " << disk.slow_factor << "\n"
    << "disk.slow_duration_max_ms = " << disk.slow_duration_max_ms << "\n"
    << "pause.enabled = " << pause.enabled << "\n"
    << "pause.duration_ms = [" << pause.duration_min_ms << ", " << pause.duration_max_ms << "]\n"
    << "transfer.enabled = " << transfer.enabled << "\n"
    << "clock.drift_ppm_max = " << clock.drift_ppm_max << "\n"
    << "clock.jumps_enabled = " << clock.jumps_enabled << "\n"
    << "clock.jump_max_ms = " << clock.jump_max_ms << "\n"
    << "clock.tick_jitter_us = " << clock.tick_jitter_us << "\n"
    << "nemesis.interval_mean_ms = " << nemesis.interval_mean_ms << "\n"
    << "nemesis.max_down = " << nemesis.max_down << "\n"
    << "workload.clients = " << workload.clients << "\n"
    << "workload.keys = " << workload.keys << "\n"
    << "workload.max_outstanding = " << workload.max_outstanding << "\n"
    << "workload.think_mean_us = " << workload.think_mean_us << "\n"
    << "workload.weights = create " << workload.weight_create << ", set " << workload.weight_set
    << ", get " << workload.weight_get << ", exists " << workload.weight_exists << ", sync "
    << workload.weight_sync << ", delete " << workload.weight_delete << "\n"
    << "workload.watch_chance = " << workload.watch_chance << "\n"
    << "workload.conditional_chance = " << workload.conditional_chance << "\n"
    << "workload.session_timeout_ms = " << workload.session_timeout_ms << "\n"
    << "workload.request_timeout_ms = " << workload.request_timeout_ms << "\n"
    << "workload.connect_timeout_ms = " << workload.connect_timeout_ms << "\n";
  if (!scenario.name.empty()) {
    o << "scenario = " << scenario.name << "\n"
      << "scenario.trials = " << scenario.trials << "\n"
      << "scenario.settle_ms = " << scenario.settle_ms << "\n"
      << "scenario.crash_window_ms = " << scenario.crash_window_ms << "\n"
      << "scenario.trial_timeout_ms = " << scenario.trial_timeout_ms << "\n"
      << "scenario.crash_notifies_peers = " << scenario.crash_notifies_peers << "\n"
      << "scenario.diverge_logs = " << scenario.diverge_logs << "\n"
      << "scenario.partition_ms = " << scenario.partition_ms << "\n"
      << "scenario.heal_ms = " << scenario.heal_ms << "\n"
      << "scenario.unavailable_gap_ms = " << scenario.unavailable_gap_ms << "\n"
      << "scenario.baseline = " << scenario.baseline << "\n";
  }
  if (throughput.enabled) {
    o << "throughput.read_pct = " << throughput.read_pct << "\n"
      << "throughput.value_bytes = " << throughput.value_bytes << "\n"
      << "throughput.keys = " << throughput.keys << "\n"
      << "throughput.warmup_ms = " << throughput.warmup_ms << "\n"
      << "throughput.measure_ms = " << throughput.measure_ms << "\n";
  }
  if (perf.enabled) {
    for (const auto& [k, v] : perf.profile.items())
      o << "perf." << k << " = " << v << "\n";
  }
  if (test.any()) {
    o << "test.storage_ack_before_durable = " << test.storage_ack_before_durable << "\n"
      << "test.node_reads_skip_session_order = " << test.node_reads_skip_session_order << "\n"
      << "test.node_writes_skip_barrier_order = " << test.node_writes_skip_barrier_order << "\n"
      << "test.net_notifications_late = " << test.net_notifications_late << "\n"
      << "test.net_replies_reordered = " << test.net_replies_reordered << "\n"
      << "test.client_forgets_zxid_on_reconnect = " << test.client_forgets_zxid_on_reconnect << "\n"
      << "test.drop_ticks_while_paused = " << test.drop_ticks_while_paused << "\n"
      << "test.node_serves_without_quorum = " << test.node_serves_without_quorum << "\n";
  }
  if (!disabled_checks.empty()) {
    o << "disabled_checks =";
    for (const auto& p : disabled_checks)
      o << " " << p;
    o << "\n";
  }
  return o.str();
}

}  // namespace quorumlab::sim
