// The nemesis: faults applied to a running local cluster on a seeded schedule (issue 19), as
// Jepsen's nemesis does to a real cluster. Each interval one fault from the mix starts on
// nodes drawn from the seed and ends half an interval later; at the end every fault is healed
// (killed nodes restarted, paused ones resumed, every fault rule removed: links, disk delays,
// clock skews, cut client links), also when an error stops the run.
//
// Clock skew and the drift bound: a server's lease and bounded-staleness read policies trust
// its ticks to be within PluginContext::clock_drift_ppm (the `clock_drift_ppm` setting) of
// real time. The `clock` fault makes one server's ticks run 5-30% fast or slow, far beyond any
// sane bound: a leader whose clock runs slow keeps serving from its lease after it really
// expired, a follower whose clock runs fast times out and helps elect a new leader while the
// old one still trusts its lease, and under `bounded` a follower whose clock runs slow
// believes itself fresher than it is. Reads under `lease` and `bounded` may then legitimately
// return stale data, without any bug: that is the point of the experiment (linearizable
// policies such as `read-index` must stay correct). Keep skews within the bound to test a
// correct deployment.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cluster.hpp"

namespace quorumlab::cluster {

/// The faults a nemesis can apply: kill (kill -9, then restart), pause (SIGSTOP, then SIGCONT),
/// partition (a random shape: an isolated node, the isolated leader, a bridge, a one-way cut;
/// then heal), delay (100-300 ms on one node's links), drop (a share of one node's messages),
/// disk (a slow disk: 50-200 ms added to each fsync of one node's storage; a storage plugin
/// without it, such as `memory`, refuses and the run stops, healed), clock (one node's
/// tick clock skewed by +/- 50000-300000 ppm, beyond the drift bound: see above), clients (one
/// node's client links cut, so its clients move to other servers).
const std::vector<std::string>& nemesis_faults();

/// "kill,pause,partition" as a list of faults; throws std::invalid_argument naming an unknown
/// fault and the known ones, or an empty mix.
std::vector<std::string> parse_mix(const std::string& text);

/// One fault of a schedule file (`qlab nemesis --schedule FILE`, load_schedule()).
struct ScheduledFault {
  double at_s = 0;                   ///< seconds from the start
  std::optional<double> duration_s;  ///< then it is undone; none: until the end of the run
  std::string fault;                 ///< one of nemesis_faults()
  std::string node = "leader";       ///< "leader", "follower" or a node id (what the fault hits)
  std::string shape;                 ///< partition: groups as `qlab cluster partition` takes them
                                     ///< ("1,2/3", "1,2/2,3", "1>2,3"); empty: `node` alone
  std::uint32_t ms = 0;              ///< delay: ms; disk: ms per fsync
  std::uint32_t jitter_ms = 0;       ///< delay
  std::uint32_t pct = 0;             ///< drop
  std::int64_t ppm = 0;              ///< clock
};

/// Reads a schedule, a TOML file of [[fault]] tables with the fields of ScheduledFault
/// (at, duration, fault, node, shape, ms, jitter, pct, ppm), e.g.
///   [[fault]]
///   at = 2.0
///   fault = "partition"
///   shape = "1,2/3"
///   duration = 3.0
/// Throws std::invalid_argument naming the file, the entry and the field for anything wrong
/// (an unknown key or fault, a missing value, a negative time).
std::vector<ScheduledFault> load_schedule(const std::string& path);

struct NemesisOptions {
  std::vector<std::string> mix = {"kill", "pause", "partition"};
  /// When not empty the faults of this schedule run instead of the seeded mix (`mix` and
  /// `interval` are then unused; `duration` still ends the run, healing what is left).
  std::vector<ScheduledFault> schedule;
  std::chrono::milliseconds interval{5000};  ///< a fault starts every interval
  std::chrono::milliseconds duration{60000};
  std::uint64_t seed = 1;
  std::chrono::milliseconds timeout{30000};  ///< per restart and per rules request
};

struct NemesisEvent {
  double t_s = 0;      ///< seconds since the start
  std::string what;    ///< kill, restart, pause, resume, partition, heal, delay, drop, disk,
                       ///< clock, clients
  std::string detail;  ///< the nodes or the shape
};

/// Checks the mix or the schedule (std::invalid_argument naming an unknown fault and the known
/// ones, a bad node or partition shape), runs it and returns what it did. `progress` gets one
/// line per event.
std::vector<NemesisEvent> run_nemesis(ClusterSpec& spec, const NemesisOptions& options,
                                      const std::function<void(const NemesisEvent&)>& progress);

}  // namespace quorumlab::cluster
