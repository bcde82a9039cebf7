// Client::Impl: the I/O thread's session state machine and the hand-off to the event thread.
// See design.md in this folder for the connection state diagram.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "codec.hpp"
#include "event_loop.hpp"
#include "quorumlab/client/client.hpp"
#include "watch_table.hpp"

namespace quorumlab::client::detail {

using Clock = std::chrono::steady_clock;

/// Special xids (reference §2.4). Every other request carries a positive, increasing xid.
constexpr std::int32_t kPingXid = -2;

/// Bounds with names (style lesson 7).
constexpr std::size_t kMaxMessagesPerPoll = 4096;            // reads before re-checking timers
constexpr std::size_t kSetWatchesMaxPathBytes = 128 * 1024;  // per setWatches message (as Java)
constexpr auto kMaxPingInterval = std::chrono::milliseconds(10000);
constexpr std::size_t kMaxDeferredWakes = 64;  // event-thread submissions per I/O wakeup

enum class OpKind {
  kCreate,
  kDelete,
  kExists,
  kGetData,
  kSetData,
  kGetAcl,
  kSetAcl,
  kGetChildren,
  kSyncOp,
  kCheck,
  kMulti,
  kMultiRead,
  kCheckWatches,
  kRemoveWatches,
  kAddWatch,
  kGetEphemerals,
  kGetAllChildrenNumber,
  kAddAuth,
  kWhoAmI,
  kClose,
  kDetach,
  kSetWatches,  // internal, after a reconnect
};

/// How a request's reply reaches its caller. finish() runs on the I/O thread and decodes the
/// reply into the result (response is null when the request failed without one); run() then
/// hands the result to the caller: on the event thread, or at once on the I/O thread when
/// direct() (a future awaited on the event thread itself, which cannot wait for that thread).
class Completion : public Task {
 public:
  explicit Completion(bool direct) : direct_(direct) {}
  virtual void finish(Error err, const proto::Response::Reader* response) = 0;
  bool direct() const { return direct_; }

 private:
  bool direct_;
};

template <class T>
using Decoder = std::function<Result<T>(Error, const proto::Response::Reader*)>;

template <class T>
class TypedCompletion final : public Completion {
 public:
  TypedCompletion(Decoder<T> decode, Callback<T> done, bool direct)
      : Completion(direct), decode_(std::move(decode)), done_(std::move(done)) {}

  void finish(Error err, const proto::Response::Reader* response) override {
    try {
      result_ = decode_(err, response);
    } catch (const std::exception&) {
      result_ = Result<T>{Error::MARSHALLINGERROR, T{}};
    } catch (const kj::Exception&) {
      result_ = Result<T>{Error::MARSHALLINGERROR, T{}};
    }
    if (response != nullptr) result_.zxid = response->getZxid();
  }
  void run() override {
    if (done_) done_(std::move(result_));
  }

 private:
  Decoder<T> decode_;
  Callback<T> done_;
  Result<T> result_;
};

/// One request from submission to completion. Owned by the submit queue, then by the I/O
/// thread's unsent or pending queue.
struct Request {
  OpKind kind = OpKind::kCheck;
  bool has_payload = false;  // false: complete with local_error without sending
  SealedRequest payload;     // the serialized request; its xid is patched when sent
  Error local_error = Error::OK;
  std::unique_ptr<Completion> completion;  // null for internal requests
  bool counted = false;                    // counts against Options::max_in_flight
  std::int32_t xid = 0;
  // Watch bookkeeping, in client paths.
  std::string path;
  Watcher watcher;
  WatcherType watcher_type = WatcherType::kAny;
  AddWatchMode add_watch_mode = AddWatchMode::kPersistent;
  bool local = false;
  // addAuth credential; close timeout.
  std::string scheme, auth;
  std::chrono::milliseconds timeout{0};
};

class ClientCore {
 public:
  explicit ClientCore(Options options);
  ~ClientCore();

  /// Thread-safe: hands a request to the I/O thread (or fails it at once when the client is
  /// stopping or over its in-flight bound).
  void submit(Request request);
  bool on_event_thread() const { return events_.on_loop_thread(); }
  const ConnectString& connect_string() const { return cs_; }
  const Options& options() const { return options_; }

  State state() const;
  bool wait_connected(std::chrono::milliseconds timeout) const;
  std::int64_t session_id() const;
  std::string session_passwd() const;
  std::chrono::milliseconds negotiated_timeout() const;
  std::int64_t last_zxid() const { return last_zxid_seen_.load(std::memory_order_relaxed); }
  std::string current_server() const;
  /// Stops the I/O thread (failing what is left) and then the event thread.
  void shutdown();

 private:
  enum class Conn { kIdle, kHandshake, kConnected };

  // ---- I/O thread ----
  void io_main();
  void drain_submissions();
  void dispatch(Request r);
  void read_socket();
  void read_monitor();
  void handle_message(const zmq::message_t& msg);
  void on_connect_response(proto::ConnectResponse::Reader r);
  void on_response(proto::Response::Reader r);
  void on_notification(proto::Notification::Reader n);
  void on_closing(const std::string& reason);
  void run_timers(Clock::time_point now);
  int poll_timeout_ms(Clock::time_point now) const;

  void start_connect();
  void send_request(Request r);
  void send_ping();
  bool send(zmq::message_t msg);
  void send_session_setup();
  void register_watch(const Request& r, Error err);
  void complete(Request& r, Error err, const proto::Response::Reader* response = nullptr);
  void fail_all(Error err);
  void connection_lost(const std::string& reason);
  void close_socket();
  void begin_close(Request r);
  void finish_close(Error close_err);
  void detach(Request r);
  void expire();
  void auth_failed();
  void terminate(State final_state, Error pending_err, KeeperState event);
  void session_event(KeeperState state);
  void fire(std::vector<Watcher> watchers, WatchedEvent event);
  void publish(State state);
  void flush_events();
  void wake_io();
  void after_event_batch();
  void finish_locally(Request& r, Error err);
  std::int32_t next_xid();
  std::chrono::milliseconds connect_timeout() const;

  const Options options_;
  const ConnectString cs_;
  std::shared_ptr<zmq::context_t> ctx_;

  // Submission side (any thread).
  std::mutex submit_mu_;
  std::vector<Request> submitted_;
  bool accepting_ = true;
  int wake_fd_ = -1;
  std::size_t deferred_wakes_ = 0;  // event thread only: submissions not yet signalled
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<bool> stop_{false};

  // Published session view (any thread).
  mutable std::mutex state_mu_;
  mutable std::condition_variable state_cv_;
  State state_ = State::kConnecting;
  std::int64_t published_session_id_ = 0;
  std::string published_passwd_;
  std::int32_t published_timeout_ms_ = 0;
  std::string published_server_;
  std::atomic<std::int64_t> last_zxid_seen_{0};

  // I/O thread only.
  std::unique_ptr<zmq::socket_t> socket_;
  std::unique_ptr<zmq::socket_t> monitor_;
  std::uint64_t conn_gen_ = 0;  // changes whenever socket_ is replaced or closed
  Conn conn_ = Conn::kIdle;
  State io_state_ = State::kConnecting;
  bool closing_ = false;
  Clock::time_point close_deadline_{};
  std::size_t host_index_ = 0;
  std::size_t attempts_in_pass_ = 0;
  std::size_t failed_passes_ = 0;
  Clock::time_point reconnect_at_{};
  Clock::time_point connect_deadline_{};
  Clock::time_point last_send_{};
  Clock::time_point last_recv_{};
  std::chrono::milliseconds read_timeout_{0};
  std::chrono::milliseconds ping_interval_{0};
  std::int64_t session_id_ = 0;
  std::string passwd_;
  std::int32_t negotiated_timeout_ms_ = 0;
  std::int32_t xid_ = 0;
  std::deque<Request> pending_;  // sent, awaiting a reply, in xid order
  std::deque<Request> unsent_;   // submitted while not connected
  std::vector<std::pair<std::string, std::string>> credentials_;
  WatchTable watches_;
  std::vector<EventLoop::TaskPtr> batch_;  // event-thread tasks produced by this loop iteration
  std::vector<Request> draining_;          // the submit queue's spare buffer (capacity reused)

  EventLoop events_{[this] { after_event_batch(); }};
  std::thread io_thread_;
};

}  // namespace quorumlab::client::detail
