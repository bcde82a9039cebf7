// A local cluster of real `qlab server` processes on loopback, and the status probe.
//
// State lives in DIR/cluster.json (ports, pids, the server arguments) so that separate
// `qlab cluster` invocations can manage the same cluster. Servers run in their own session
// (setsid) with output in DIR/n<ID>.log and data in DIR/n<ID>/.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "quorumlab/node/env.hpp"
#include "quorumlab/types.hpp"

namespace quorumlab::cluster {

/// What a server reports about itself (see ServerStatus in client.capnp).
struct ServerStatus {
  NodeId server_id = 0;
  std::string role;
  NodeId leader = 0;
  std::uint64_t epoch = 0;
  Zxid applied_zxid = 0;
  Zxid committed_zxid = 0;
  std::uint64_t digest = 0;
  std::uint64_t znode_count = 0;
  std::uint64_t session_count = 0;
  std::uint64_t connection_count = 0;
  std::uint64_t txns_applied = 0;
  std::uint64_t fsyncs = 0;
  bool can_propose = false;
  std::string sub_state;    ///< the broadcast plugin's own state
  std::uint64_t ticks = 0;  ///< ticks the node received since it started
  /// The read path's counters (node::read_counters), in the server's order.
  std::vector<std::pair<std::string, std::uint64_t>> counters;
  /// The fault rules in force on the server (its NetRules: peer links, disk delay, clock skew,
  /// cut client links).
  node::FaultRules net_rules;
};

/// Asks the server at host:port for its status. nullopt if it does not answer in time.
std::optional<ServerStatus> probe(const std::string& host, int port,
                                  std::chrono::milliseconds timeout);

/// A server's answer to a leadership transfer request (see TransferReply in client.capnp).
struct TransferReply {
  NodeId server_id = 0;
  std::string status;  ///< started, unsupported, not leader, not a voter, already leader
  NodeId leader = 0;
  std::string message;
};

/// Asks the server at host:port to hand its leadership to `target`. nullopt if it does not
/// answer in time.
std::optional<TransferReply> request_transfer(const std::string& host, int port, NodeId target,
                                              std::chrono::milliseconds timeout);

/// Replaces every fault rule of the server at host:port; "" when it took them, else why not
/// (throws std::runtime_error when it does not answer in time).
std::string set_net_rules(const std::string& host, int port, const node::FaultRules& rules,
                          std::chrono::milliseconds timeout);

struct NodeSpec {
  NodeId id = 0;
  bool observer = false;
  int client_port = 0;
  int peer_port = 0;
  int zk_port = -1;
  pid_t pid = 0;
};

struct ClusterSpec {
  std::filesystem::path dir;
  std::filesystem::path qlab;  ///< the qlab executable that starts servers
  std::vector<NodeSpec> nodes;
  std::vector<std::string> server_args;  ///< extra arguments for every server
};

/// Where every node of a cluster is: all answered a status probe within `timeout`, all at
/// the same applied zxid, and all with the same tree digest; `text` lists each node
/// ("node 1 at 0x100000004 digest 0x...;" or "node 2 does not answer;").
struct ReplicaPositions {
  bool all_answered = true;
  bool same_zxid = true;
  bool same_digest = true;
  Zxid zxid = 0;             ///< the first answering node's
  std::uint64_t digest = 0;  ///< the first answering node's
  std::string text;
  bool converged() const { return all_answered && same_zxid && same_digest; }
};
ReplicaPositions replica_positions(const ClusterSpec& spec, std::chrono::milliseconds timeout);

/// Process state of a node as seen from outside.
enum class ProcState { running, paused, down };
ProcState proc_state(pid_t pid);

/// Picks `n` distinct free TCP ports on loopback, outside the kernel's ephemeral port range
/// (ephemeral_port_range()), so that outgoing connections cannot take a stopped node's port
/// before it restarts, and not handed out by this function in the last 6 hours (claims are
/// files in TMPDIR/quorumlab-ports), so that another cluster cannot either.
std::vector<int> free_ports(std::size_t n);
/// The kernel's range for outgoing connections' local ports (net.ipv4.ip_local_port_range).
std::pair<int, int> ephemeral_port_range();

/// Creates the spec (ports chosen) for `voters` + `observers` nodes in `dir`.
ClusterSpec plan(const std::filesystem::path& dir, const std::filesystem::path& qlab,
                 std::size_t voters, std::size_t observers, std::vector<std::string> server_args,
                 bool zk_ports);

void save(const ClusterSpec& spec);
/// Reads DIR/cluster.json; throws std::runtime_error naming the file if missing or invalid.
ClusterSpec load(const std::filesystem::path& dir);

/// What `qlab cluster start` (and `qlab soak`) start.
struct LaunchOptions {
  std::filesystem::path dir;
  std::filesystem::path qlab;  ///< the qlab executable that starts servers
  std::size_t voters = 3;
  std::size_t observers = 0;
  std::string broadcast = "zab";
  std::string storage = "wal";
  std::string read_policy = "local";
  std::vector<std::string> sets;  ///< --set KEY=VALUE for every server
  bool zk_ports = true;           ///< ZooKeeper wire ports beside the native ones
  std::chrono::milliseconds timeout{30000};
};

/// Refuses a broadcast/read-policy pair the servers would refuse (with their reason, before
/// any process starts) and a directory where a cluster still runs; plans the cluster, starts
/// every node and waits for a leader (`progress` gets a line per step). Returns the spec, and
/// the leader in `*leader` when given.
ClusterSpec launch(const LaunchOptions& options,
                   const std::function<void(const std::string&)>& progress,
                   NodeId* leader = nullptr);

/// Starts node `id` (detached, own session) and records its pid. Waits until the server
/// prints its ready line or exits (error with the tail of its log) or `timeout` passes.
void start_node(ClusterSpec& spec, NodeId id, std::chrono::milliseconds timeout);

/// Waits until a leader that can propose is known to every running voter. Returns its id.
/// Throws std::runtime_error (with every node's status) on timeout.
NodeId wait_for_leader(const ClusterSpec& spec, std::chrono::milliseconds timeout);

/// What transfer_leadership observed.
struct TransferOutcome {
  NodeId old_leader = 0;
  NodeId new_leader = 0;
  std::uint64_t term = 0;  ///< the new leader's term/epoch
  double ms = 0;           ///< from the request to the target leading and able to propose
  bool already = false;    ///< the target already led: nothing was done
};

/// Hands the leadership of the running cluster to voter `target` (Raft thesis 3.10) and waits
/// until the target leads and can propose. Throws std::runtime_error with one line when the
/// protocol does not support it, the target is not a voter, or the transfer did not complete
/// (the leader gave it up, or `timeout` passed).
TransferOutcome transfer_leadership(const ClusterSpec& spec, NodeId target,
                                    std::chrono::milliseconds timeout);

/// Sends `signal` to node `id`. For SIGKILL/SIGTERM waits until the process is gone, for
/// SIGSTOP until it is stopped.
void signal_node(ClusterSpec& spec, NodeId id, int signal);

/// The fault rules of every node, by node id (a node missing: no rules).
using NetRuleSet = std::map<NodeId, node::FaultRules>;

/// The rules of a partition. "1,2/3": groups separated by '/', and two nodes talk only if a
/// group holds both ("1,2/2,3" is a bridge: 2 talks to both sides, 1 and 3 not to each other);
/// every node of the cluster must be in a group. "1,2>3": one way, what 1 and 2 send to 3 is
/// lost (3 still reaches them). Only link rules. Throws std::invalid_argument naming what is
/// wrong.
NetRuleSet partition_rules(const ClusterSpec& spec, const std::string& groups);

/// `current` with node `id`'s links in both directions set to drop `drop_pct` percent and
/// delay `delay_ms` (+ up to `jitter_ms`); a link's other fields are kept.
NetRuleSet link_rules(const ClusterSpec& spec, NetRuleSet current, NodeId id,
                      std::optional<std::uint32_t> drop_pct, std::optional<std::uint32_t> delay_ms,
                      std::optional<std::uint32_t> jitter_ms);

/// `current` with node `id`'s own faults changed where given: disk delay (ms, 0 ..
/// node::kMaxFaultDelayMs), clock skew (ppm, within +/- node::kMaxClockSkewPpm), cut client
/// links. Throws std::invalid_argument naming an unknown node or a value out of range.
NetRuleSet node_rules(const ClusterSpec& spec, NetRuleSet current, NodeId id,
                      std::optional<std::int64_t> disk_delay_ms,
                      std::optional<std::int64_t> clock_skew_ppm, std::optional<bool> clients_cut);

/// The rules in force on every running node (its status), by id; nodes without rules are left
/// out.
NetRuleSet current_net_rules(const ClusterSpec& spec);

/// Gives every node its rules (nodes missing from `rules` get none): each running node is asked
/// over its client port. Throws std::runtime_error naming a node that refused or did not
/// answer.
void apply_net_rules(const ClusterSpec& spec, const NetRuleSet& rules,
                     std::chrono::milliseconds timeout);

/// What `qlab cluster partition|heal|delay|drop` does: "partition" replaces the link rules by
/// partition_rules (`groups`), keeping the nodes' own faults (node_rules); "heal" removes
/// every rule (also disk delays, clock skews, cut client links); "delay" and "drop" change
/// node `id`'s links in the rules in force (link_rules). Returns the number of link rules in
/// force afterwards. Throws std::invalid_argument or std::runtime_error naming the problem.
std::size_t change_network(const ClusterSpec& spec, const std::string& what,
                           const std::string& groups, NodeId id,
                           std::optional<std::uint32_t> drop_pct,
                           std::optional<std::uint32_t> delay_ms,
                           std::optional<std::uint32_t> jitter_ms,
                           std::chrono::milliseconds timeout);

/// What `qlab cluster slow-disk|clock|cut-clients` does: node_rules on the rules in force,
/// applied. Returns node `id`'s rules in force afterwards. Throws std::invalid_argument or
/// std::runtime_error naming the problem.
node::FaultRules change_node_faults(const ClusterSpec& spec, NodeId id,
                                    std::optional<std::int64_t> disk_delay_ms,
                                    std::optional<std::int64_t> clock_skew_ppm,
                                    std::optional<bool> clients_cut,
                                    std::chrono::milliseconds timeout);

/// "127.0.0.1:p1,127.0.0.1:p2,..." for the native protocol (or the ZooKeeper ports).
std::string connect_string(const ClusterSpec& spec, bool zookeeper = false);

NodeSpec& node(ClusterSpec& spec, NodeId id);

}  // namespace quorumlab::cluster
