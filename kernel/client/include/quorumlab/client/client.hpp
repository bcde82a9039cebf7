// The native C++ client: one ZooKeeper-style session over the Cap'n Proto protocol
// (kernel/proto/client.capnp), with ZooKeeper's client semantics (reference §1.11-1.14, §2).
//
// Threads. Each Client owns two threads:
// - the I/O thread owns the ZeroMQ DEALER socket, the pending-request queue, the watch table and
//   the client timers (ping, read timeout, connect timeout). Callers hand it requests through a
//   thread-safe queue and an eventfd wakeup.
// - the event thread runs every user callback: operation callbacks, watchers and the session
//   callback, one at a time, in the order the I/O thread saw the messages that caused them.
//   So a watcher for a change runs before the callback of any later reply that shows the change.
//
// Three flavours of every operation:
// - `op(args)`: blocks and returns Result<T>. Never throws for ZooKeeper errors.
// - `op_async(args, callback)`: returns at once; the callback runs on the event thread.
// - `op_future(args)`: returns a std::future<Result<T>>, made ready from the event thread (after
//   every callback for earlier messages), or directly from the I/O thread when the call was made
//   on the event thread itself (so blocking calls inside callbacks do not deadlock).
//
// Session semantics (ZooKeeper's ClientCnxn):
// - Requests are pipelined: any number (up to Options::max_in_flight) are in flight, and replies
//   must come back in request order; a reply whose xid is not the head of the pending queue is a
//   protocol error and drops the connection.
// - On a connection loss every request in flight or not yet sent fails with CONNECTIONLOSS,
//   the session callback gets Disconnected, and the client reconnects to the next server of the
//   list with its session id, password and last seen zxid, then re-sends its credentials and its
//   watches (setWatches with relativeZxid = last seen zxid) before any queued request.
// - A server that refuses the connect (it is behind the client's last zxid) is skipped.
// - SESSIONEXPIRED on reconnect is final: the session callback gets Expired, watches are dropped
//   and every request fails with SESSIONEXPIRED.
// - Watches are kept client side by path, one entry per registration (no de-duplication);
//   remove_watches removes every watcher of the given type on a path.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "quorumlab/client/connect_string.hpp"
#include "quorumlab/client/errors.hpp"
#include "quorumlab/client/types.hpp"

namespace zmq {
class context_t;
}

namespace quorumlab::client {

/// The client's view of its session.
enum class State {
  kConnecting,  // no connection yet or reconnecting; requests are queued
  kConnected,   // handshake done; requests go out at once
  kClosed,      // close() or detach() finished; requests fail with SESSIONEXPIRED
  kExpired,     // the cluster expired the session; requests fail with SESSIONEXPIRED
  kAuthFailed,  // a credential was rejected; requests fail with AUTHFAILED
};
const char* to_string(State state);

struct Options {
  /// `host:port[,host:port...][/chroot]`.
  std::string connect;
  /// Requested session timeout; the server clamps it and the client adopts the negotiated value.
  std::chrono::milliseconds session_timeout{10000};
  /// Time allowed for one connect handshake; 0 = negotiated (or requested) timeout / hosts.
  std::chrono::milliseconds connect_timeout{0};
  /// Delay before retrying after a full pass over the host list failed; doubles per failed pass
  /// up to reconnect_delay_max.
  std::chrono::milliseconds reconnect_delay{50};
  std::chrono::milliseconds reconnect_delay_max{1000};
  /// Resume an existing session (both 0/empty for a new one). passwd holds 16 bytes.
  std::int64_t session_id = 0;
  std::string passwd;
  bool read_only = false;
  /// Bound on requests submitted and not yet completed. A call beyond it fails at once with
  /// THROTTLEDOP.
  std::size_t max_in_flight = 10000;
  /// Receives session events (type kNone): SyncConnected, Disconnected, Expired, AuthFailed,
  /// Closed. Runs on the event thread.
  Watcher session_watcher;
  /// ZeroMQ context to share between clients; a private one is made when null.
  std::shared_ptr<zmq::context_t> zmq_context;
};

class Client {
 public:
  /// Starts the threads and the first connect attempt; returns at once (see wait_connected).
  /// Throws std::invalid_argument for a malformed connection string.
  explicit Client(Options options);
  /// close() unless already closed, expired or detached, then stops both threads.
  /// Must not run on the event thread (that is, inside a callback).
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // ---- session -------------------------------------------------------------------------

  State state() const;
  /// Waits until the session is connected (true) or `timeout` passes / the session ends (false).
  bool wait_connected(std::chrono::milliseconds timeout) const;
  std::int64_t session_id() const;
  /// The 16-byte session password (to resume the session in another client).
  std::string session_passwd() const;
  std::chrono::milliseconds negotiated_timeout() const;
  /// The highest zxid seen in a reply (the client's position in the history).
  std::int64_t last_zxid() const;
  /// "host:port" of the server the client is connected or connecting to.
  std::string current_server() const;
  const ConnectString& connect_string() const;

  /// Ends the session: sends closeSession and waits up to `timeout` for the reply. Requests
  /// still in flight fail; the session callback gets Closed. Idempotent.
  Result<None> close(std::chrono::milliseconds timeout = std::chrono::milliseconds{5000});
  /// Stops talking to the servers without ending the session (the cluster will expire it unless
  /// another client resumes it with session_id() and session_passwd()). The session callback
  /// gets Closed; requests in flight fail with CONNECTIONLOSS.
  void detach();

  // ---- operations -----------------------------------------------------------------------
  // Paths are client paths (the chroot is added and stripped by the client). Invalid paths
  // fail with BADARGUMENTS without reaching the server.

  /// create (all modes; ttl_ms for the TTL modes). Result: the real path and the new Stat.
  Result<Created> create(const std::string& path, const std::string& data,
                         CreateMode mode = CreateMode::kPersistent,
                         const AclList& acl = open_acl_unsafe(), std::int64_t ttl_ms = 0);
  void create_async(const std::string& path, const std::string& data, CreateMode mode,
                    const AclList& acl, std::int64_t ttl_ms, Callback<Created> done);
  std::future<Result<Created>> create_future(const std::string& path, const std::string& data,
                                             CreateMode mode = CreateMode::kPersistent,
                                             const AclList& acl = open_acl_unsafe(),
                                             std::int64_t ttl_ms = 0);

  /// delete (version -1 = any).
  Result<None> remove(const std::string& path, std::int32_t version = -1);
  void remove_async(const std::string& path, std::int32_t version, Callback<None> done);
  std::future<Result<None>> remove_future(const std::string& path, std::int32_t version = -1);

  /// exists: NONODE when missing. A watcher is armed in both cases (data or exist watch).
  Result<Stat> exists(const std::string& path, Watcher watcher = {});
  void exists_async(const std::string& path, Callback<Stat> done, Watcher watcher = {});
  std::future<Result<Stat>> exists_future(const std::string& path, Watcher watcher = {});

  /// getData; the watcher is armed only when the node exists.
  Result<DataResult> get_data(const std::string& path, Watcher watcher = {});
  void get_data_async(const std::string& path, Callback<DataResult> done, Watcher watcher = {});
  std::future<Result<DataResult>> get_data_future(const std::string& path, Watcher watcher = {});

  /// setData (version -1 = any).
  Result<Stat> set_data(const std::string& path, const std::string& data,
                        std::int32_t version = -1);
  void set_data_async(const std::string& path, const std::string& data, std::int32_t version,
                      Callback<Stat> done);
  std::future<Result<Stat>> set_data_future(const std::string& path, const std::string& data,
                                            std::int32_t version = -1);

  Result<AclResult> get_acl(const std::string& path);
  void get_acl_async(const std::string& path, Callback<AclResult> done);
  std::future<Result<AclResult>> get_acl_future(const std::string& path);

  /// setACL (version = expected aversion, -1 = any).
  Result<Stat> set_acl(const std::string& path, const AclList& acl, std::int32_t version = -1);
  void set_acl_async(const std::string& path, const AclList& acl, std::int32_t version,
                     Callback<Stat> done);
  std::future<Result<Stat>> set_acl_future(const std::string& path, const AclList& acl,
                                           std::int32_t version = -1);

  /// getChildren with the parent's Stat; the watcher is armed only when the node exists.
  Result<ChildrenResult> get_children(const std::string& path, Watcher watcher = {});
  void get_children_async(const std::string& path, Callback<ChildrenResult> done,
                          Watcher watcher = {});
  std::future<Result<ChildrenResult>> get_children_future(const std::string& path,
                                                          Watcher watcher = {});

  /// sync_op: the server catches up with the leader before answering. Result: the path.
  Result<std::string> sync_op(const std::string& path);
  void sync_op_async(const std::string& path, Callback<std::string> done);
  std::future<Result<std::string>> sync_op_future(const std::string& path);

  /// check: fails with BADVERSION unless the node's version matches (-1 = any).
  Result<Stat> check(const std::string& path, std::int32_t version);
  void check_async(const std::string& path, std::int32_t version, Callback<Stat> done);
  std::future<Result<Stat>> check_future(const std::string& path, std::int32_t version);

  /// multi: all or nothing. err is the first failing op's code (OK when all succeeded); value
  /// holds every op's result either way. An empty list succeeds locally; mixing read ops in
  /// fails with BADARGUMENTS.
  Result<std::vector<OpResult>> multi(const std::vector<Op>& ops);
  void multi_async(const std::vector<Op>& ops, Callback<std::vector<OpResult>> done);
  std::future<Result<std::vector<OpResult>>> multi_future(const std::vector<Op>& ops);

  /// multiRead: get_data / get_children ops, each with its own result code (err stays OK).
  Result<std::vector<OpResult>> multi_read(const std::vector<Op>& ops);
  void multi_read_async(const std::vector<Op>& ops, Callback<std::vector<OpResult>> done);
  std::future<Result<std::vector<OpResult>>> multi_read_future(const std::vector<Op>& ops);

  /// checkWatches: NOWATCHER when this client holds no watcher of that type on the path
  /// (checked locally first, then on the server).
  Result<None> check_watches(const std::string& path, WatcherType type);
  void check_watches_async(const std::string& path, WatcherType type, Callback<None> done);
  std::future<Result<None>> check_watches_future(const std::string& path, WatcherType type);

  /// removeWatches: removes every watcher of that type on the path, here and on the server;
  /// each removed watcher gets a *WatchRemoved event. With `local`, the client-side watchers
  /// are removed even when the server cannot be reached.
  Result<None> remove_watches(const std::string& path, WatcherType type, bool local = false);
  void remove_watches_async(const std::string& path, WatcherType type, bool local,
                            Callback<None> done);
  std::future<Result<None>> remove_watches_future(const std::string& path, WatcherType type,
                                                  bool local = false);

  /// addWatch: a persistent (or persistent recursive) watch, kept until removed.
  Result<None> add_watch(const std::string& path, AddWatchMode mode, Watcher watcher);
  void add_watch_async(const std::string& path, AddWatchMode mode, Watcher watcher,
                       Callback<None> done);
  std::future<Result<None>> add_watch_future(const std::string& path, AddWatchMode mode,
                                             Watcher watcher);

  /// getEphemerals: this session's ephemeral nodes whose path starts with `prefix`.
  Result<std::vector<std::string>> get_ephemerals(const std::string& prefix = "/");
  void get_ephemerals_async(const std::string& prefix, Callback<std::vector<std::string>> done);
  std::future<Result<std::vector<std::string>>> get_ephemerals_future(
      const std::string& prefix = "/");

  /// getAllChildrenNumber: the number of all descendants of `path`.
  Result<std::int64_t> get_all_children_number(const std::string& path);
  void get_all_children_number_async(const std::string& path, Callback<std::int64_t> done);
  std::future<Result<std::int64_t>> get_all_children_number_future(const std::string& path);

  /// addAuth: adds a credential ("digest", "user:password") to the session. It is re-sent on
  /// every reconnect. AUTHFAILED ends the session (state kAuthFailed).
  Result<None> add_auth(const std::string& scheme, const std::string& auth);
  void add_auth_async(const std::string& scheme, const std::string& auth, Callback<None> done);
  std::future<Result<None>> add_auth_future(const std::string& scheme, const std::string& auth);

  /// whoAmI: the session's authenticated ids (scheme, user).
  Result<std::vector<Id>> who_am_i();
  void who_am_i_async(Callback<std::vector<Id>> done);
  std::future<Result<std::vector<Id>>> who_am_i_future();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace quorumlab::client
