// A simulated client: one ZooKeeper session at a time over the native protocol, with
// pipelining, watches, pings, request timeouts, reconnects (with SetWatches) and new sessions
// after expiry. It records the history and runs the checks that need the order of messages
// on its connection:
//   session_fifo       replies come in request order;
//   no_read_from_past  a read or sync reply, ping reply or connect response never carries a
//                      zxid lower than one the client saw before (the client always reconnects
//                      with its last seen zxid, so the check holds across sessions);
//   watch_before_data  after a watch is left on a key, a reply that shows a different state of
//                      the key never arrives before the notification.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "quorumlab/node/env.hpp"
#include "quorumlab/rng.hpp"
#include "quorumlab/sim/config.hpp"
#include "quorumlab/sim/history.hpp"
#include "quorumlab/sim/trace.hpp"

namespace quorumlab::sim {

using node::ConnId;

/// What a client needs from the simulator.
class ClientHost {
 public:
  virtual ~ClientHost() = default;
  virtual std::int64_t now_us() const = 0;
  /// Opens a connection to `node`; messages go through client_send.
  virtual ConnId open_conn(int client, NodeId node) = 0;
  virtual void client_send(ConnId conn, Bytes bytes) = 0;
  /// The client gives up a connection; nothing more is delivered on it.
  virtual void close_conn(ConnId conn) = 0;
  /// Wake the client at `at_us` with `generation`.
  virtual void set_client_timer(int client, std::int64_t at_us, std::uint64_t generation) = 0;
  virtual int replica_count() const = 0;
  virtual void client_violation(const std::string& property, const std::string& message) = 0;
  virtual void trace(TraceRecord r) = 0;
  virtual History& history() = 0;
};

class SimClient {
 public:
  SimClient(int index, const SimConfig& config, Rng rng, ClientHost& host);

  void start();
  void on_message(ConnId conn, const Bytes& bytes);
  void on_conn_closed(ConnId conn);
  void on_timer(std::uint64_t generation);
  /// The leader expired `session` (its closeSession was first applied at `at_us`). If it is
  /// this client's, from `at_us` plus the allowance on the client must not hear from a server
  /// on it (disconnected_before_expiry).
  void on_session_expired(SessionId session, std::int64_t at_us);

  /// Liveness phase: finish what is outstanding, start nothing new (pings continue).
  void stop_issuing();
  /// Issues one setData (version any) now, whether or not the client is issuing; false when it
  /// is not connected or has max_outstanding requests pending (scenarios' scripted writes).
  bool write_now();
  bool idle() const { return pending_.empty(); }
  bool connected() const { return state_ == State::connected; }
  /// The throughput workload: this client's keys are all created.
  bool bench_ready() const {
    return bench_next_create_ >= config_.throughput.keys && bench_creates_pending_ == 0;
  }
  /// A write invoked at or after `t_us` got a definite reply.
  bool progressed_since(std::int64_t t_us) const { return last_definite_write_invoke_us_ >= t_us; }
  /// The highest zxid of a successful write reply.
  Zxid max_acked_zxid() const { return max_acked_zxid_; }
  std::string describe() const;

 private:
  enum class State { disconnected, connecting, connected };
  enum class ReqKind { op, set_watches };
  struct Req {
    std::int32_t xid = 0;
    ReqKind kind = ReqKind::op;
    std::size_t op = 0;  ///< index into the history
    std::int64_t sent_us = 0;
  };
  struct Armed {
    bool exist_watch = false;  ///< left by exists on a missing node (SetWatches `exist` list)
    ZnodeState seen;
  };

  void connect();
  void lose_connection(const std::string& why);
  void send(Bytes bytes);
  void maybe_issue();
  void issue(OpKind kind);
  /// The throughput workload: create this client's share of the keys, then getData/setData.
  void issue_bench();
  /// Sends `op` (key, data, version and watch set) as a request and records it.
  void send_op(HistoryOp op);
  void send_set_watches();
  void send_ping();
  void arm_timer();
  void handle_connect_response(const Bytes& bytes);
  void handle_response(const Bytes& bytes);
  void handle_notification(const std::string& path);
  void check_zxid(Zxid zxid, const char* what);
  /// disconnected_before_expiry: `what` (a reply, a ping reply, a connect response) shows the
  /// client connected with a session the leader expired.
  void check_not_expired(const char* what);
  void complete_op(Req& req, const Bytes& bytes);
  void check_watch(const std::string& key, const ZnodeState& seen, const HistoryOp& op);

  int index_;
  const SimConfig& config_;
  Rng rng_;
  ClientHost& host_;

  State state_ = State::disconnected;
  ConnId conn_ = 0;
  NodeId node_ = 0;
  SessionId session_ = 0;
  Bytes passwd_;
  Zxid last_zxid_ = 0;  ///< highest zxid seen, across sessions
  std::int32_t next_xid_ = 1;
  std::deque<Req> pending_;
  std::map<std::string, Armed> armed_;
  std::map<std::string, std::int32_t> known_version_;  ///< for conditional writes
  bool issuing_ = true;
  std::uint64_t counter_ = 0;
  int bench_next_create_ = -1;  ///< throughput workload: next key index to create (-1: unset)
  std::string bench_value_;
  int bench_creates_pending_ = 0;

  std::int64_t next_op_us_ = 0;
  std::int64_t connect_deadline_us_ = 0;
  std::int64_t reconnect_at_us_ = 0;
  std::int64_t last_send_us_ = 0;
  std::int64_t last_recv_us_ = 0;
  std::int64_t timer_at_us_ = -1;
  std::uint64_t timer_generation_ = 0;

  std::int64_t last_definite_write_invoke_us_ = -1;
  Zxid max_acked_zxid_ = 0;
  std::uint64_t sessions_ = 0;
  std::uint64_t reconnects_ = 0;
  SessionId expired_session_ = 0;  ///< this client's session the leader expired, if any
  std::int64_t expired_at_us_ = 0;
};

}  // namespace quorumlab::sim
