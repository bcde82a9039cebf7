// The I/O thread: connection handshake, pipelined requests, notifications, client timers and
// reconnects, after ZooKeeper's ClientCnxn (reference §1.12, §2.3-2.5).
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "client_impl.hpp"
#include "quorumlab/log.hpp"

namespace quorumlab::client::detail {

namespace {

ConnectString parse_or_throw(const std::string& text) {
  std::string error;
  auto cs = ConnectString::parse(text, &error);
  if (!cs) throw std::invalid_argument("bad connection string '" + text + "': " + error);
  return *cs;
}

std::shared_ptr<spdlog::logger> logger() {
  static auto l = log::get("client");
  return l;
}

template <class Rep, class Period>
int to_ms_ceil(std::chrono::duration<Rep, Period> d) {
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(d).count();
  return static_cast<int>(std::clamp<decltype(ms)>(ms, 0, 1 << 30));
}

}  // namespace

// ---- construction, submission, published state ------------------------------------------

ClientCore::ClientCore(Options options)
    : options_(std::move(options)), cs_(parse_or_throw(options_.connect)) {
  if (options_.session_timeout.count() <= 0) {
    throw std::invalid_argument("session timeout must be positive");
  }
  ctx_ = options_.zmq_context ? options_.zmq_context : std::make_shared<zmq::context_t>(1);
  session_id_ = options_.session_id;
  passwd_ = options_.passwd;
  if (session_id_ != 0 && passwd_.size() != 16) {
    throw std::invalid_argument("resuming a session needs its 16-byte password");
  }
  published_session_id_ = session_id_;
  published_passwd_ = passwd_;
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  io_thread_ = std::thread([this] { io_main(); });
}

ClientCore::~ClientCore() {
  shutdown();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void ClientCore::shutdown() {
  stop_.store(true);
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
  if (io_thread_.joinable()) io_thread_.join();
  events_.stop_and_join();
}

void ClientCore::finish_locally(Request& r, Error err) {
  if (r.counted) {
    in_flight_.fetch_sub(1);
    r.counted = false;
  }
  if (!r.completion) return;
  r.completion->finish(err, nullptr);
  if (r.completion->direct()) {
    r.completion->run();
  } else {
    events_.post(std::move(r.completion));
  }
}

void ClientCore::submit(Request r) {
  bool ending = r.kind == OpKind::kClose || r.kind == OpKind::kDetach;
  if (r.completion && !ending) {
    if (in_flight_.fetch_add(1) >= options_.max_in_flight) {
      in_flight_.fetch_sub(1);
      return finish_locally(r, Error::THROTTLEDOP);
    }
    r.counted = true;
  }
  // Submissions made by callbacks are signalled once per event batch (or every
  // kMaxDeferredWakes), not one eventfd write each; a blocking call signals at once.
  bool defer = events_.on_loop_thread() && !(r.completion && r.completion->direct());
  bool was_empty = false;
  {
    std::unique_lock<std::mutex> lock(submit_mu_);
    if (!accepting_) {
      lock.unlock();
      // The client is shutting down: close/detach have nothing left to do.
      return finish_locally(r, ending ? Error::OK : Error::SESSIONEXPIRED);
    }
    was_empty = submitted_.empty();
    submitted_.push_back(std::move(r));
  }
  if (defer) {
    if (++deferred_wakes_ >= kMaxDeferredWakes) wake_io();
  } else if (was_empty) {
    wake_io();
  }
}

void ClientCore::wake_io() {
  if (events_.on_loop_thread()) deferred_wakes_ = 0;
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
}

void ClientCore::after_event_batch() {
  if (deferred_wakes_ > 0) wake_io();
}

State ClientCore::state() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return state_;
}

bool ClientCore::wait_connected(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(state_mu_);
  state_cv_.wait_for(lock, timeout, [this] {
    return state_ == State::kConnected || state_ == State::kClosed || state_ == State::kExpired ||
           state_ == State::kAuthFailed;
  });
  return state_ == State::kConnected;
}

std::int64_t ClientCore::session_id() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return published_session_id_;
}

std::string ClientCore::session_passwd() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return published_passwd_;
}

std::chrono::milliseconds ClientCore::negotiated_timeout() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return std::chrono::milliseconds(published_timeout_ms_);
}

std::string ClientCore::current_server() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return published_server_;
}

void ClientCore::publish(State state) {
  io_state_ = state;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    state_ = state;
    published_session_id_ = session_id_;
    published_passwd_ = passwd_;
    published_timeout_ms_ = negotiated_timeout_ms_;
    published_server_ = cs_.hosts[host_index_].to_string();
  }
  state_cv_.notify_all();
}

// ---- the loop ----------------------------------------------------------------------------

void ClientCore::io_main() {
  start_connect();
  while (!stop_.load()) {
    auto now = Clock::now();
    run_timers(now);
    flush_events();
    std::uint64_t gen = conn_gen_;
    zmq_pollitem_t items[3];
    int n = 0;
    items[n++] = zmq_pollitem_t{nullptr, wake_fd_, ZMQ_POLLIN, 0};
    if (socket_) items[n++] = zmq_pollitem_t{socket_->handle(), 0, ZMQ_POLLIN, 0};
    if (monitor_) items[n++] = zmq_pollitem_t{monitor_->handle(), 0, ZMQ_POLLIN, 0};
    int rc = zmq_poll(items, n, poll_timeout_ms(Clock::now()));
    if (rc < 0) {
      if (zmq_errno() == EINTR) continue;
      logger()->error("client poll failed: {}", zmq_strerror(zmq_errno()));
      break;
    }
    if (items[0].revents & ZMQ_POLLIN) drain_submissions();
    if (n > 1 && gen == conn_gen_ && (items[1].revents & ZMQ_POLLIN)) read_socket();
    if (n > 2 && gen == conn_gen_ && (items[2].revents & ZMQ_POLLIN)) read_monitor();
  }
  // Stopping: nothing more is accepted; everything left fails.
  std::vector<Request> left;
  {
    std::lock_guard<std::mutex> lock(submit_mu_);
    accepting_ = false;
    left.swap(submitted_);
  }
  Error err = io_state_ == State::kAuthFailed ? Error::AUTHFAILED
              : io_state_ == State::kConnected || io_state_ == State::kConnecting
                  ? Error::CONNECTIONLOSS
                  : Error::SESSIONEXPIRED;
  for (auto& r : left)
    complete(r, err);
  fail_all(err);
  close_socket();
  flush_events();
}

void ClientCore::drain_submissions() {
  std::uint64_t count = 0;
  [[maybe_unused]] auto n = ::read(wake_fd_, &count, sizeof(count));  // read before taking
  {
    std::lock_guard<std::mutex> lock(submit_mu_);
    draining_.swap(submitted_);  // both keep their capacity
  }
  for (auto& r : draining_)
    dispatch(std::move(r));
  draining_.clear();
}

void ClientCore::dispatch(Request r) {
  if (r.kind == OpKind::kClose) return begin_close(std::move(r));
  if (r.kind == OpKind::kDetach) return detach(std::move(r));
  if (!r.has_payload) return complete(r, r.local_error);
  bool terminal = io_state_ == State::kClosed || io_state_ == State::kExpired ||
                  io_state_ == State::kAuthFailed;
  if (terminal || closing_) {
    return complete(r, io_state_ == State::kAuthFailed ? Error::AUTHFAILED : Error::SESSIONEXPIRED);
  }
  if ((r.kind == OpKind::kCheckWatches || r.kind == OpKind::kRemoveWatches) &&
      !watches_.contains(r.path, r.watcher_type)) {
    return complete(r, Error::NOWATCHER);
  }
  if (r.kind == OpKind::kRemoveWatches && r.local && conn_ != Conn::kConnected) {
    // local: the client-side watchers go even though no server can be told.
    for (auto& f : watches_.remove(r.path, r.watcher_type)) {
      fire(std::move(f.watchers), std::move(f.event));
    }
    return complete(r, Error::OK);
  }
  if (conn_ == Conn::kConnected) {
    send_request(std::move(r));
  } else {
    unsent_.push_back(std::move(r));
  }
}

void ClientCore::read_socket() {
  std::uint64_t gen = conn_gen_;
  for (std::size_t i = 0; i < kMaxMessagesPerPoll && socket_ && gen == conn_gen_; ++i) {
    zmq::message_t msg;
    auto got = socket_->recv(msg, zmq::recv_flags::dontwait);
    if (!got) break;
    last_recv_ = Clock::now();
    handle_message(msg);
  }
}

void ClientCore::read_monitor() {
  std::uint64_t gen = conn_gen_;
  while (monitor_ && gen == conn_gen_) {
    zmq::message_t head;
    if (!monitor_->recv(head, zmq::recv_flags::dontwait)) break;
    zmq::message_t address;
    if (head.more()) (void)monitor_->recv(address);
    if (head.size() < sizeof(std::uint16_t)) continue;
    std::uint16_t event = 0;
    std::memcpy(&event, head.data(), sizeof(event));
    if (event == ZMQ_EVENT_DISCONNECTED && conn_ != Conn::kIdle) {
      connection_lost("server closed the connection");
    } else if (event == ZMQ_EVENT_CONNECT_RETRIED && conn_ == Conn::kHandshake) {
      connection_lost("connection refused");
    }
  }
}

void ClientCore::handle_message(const zmq::message_t& msg) {
  try {
    Incoming in(msg);
    auto sm = in.root<proto::ServerMessage>();
    switch (sm.which()) {
      case proto::ServerMessage::CONNECT_RESPONSE:
        on_connect_response(sm.getConnectResponse());
        break;
      case proto::ServerMessage::RESPONSE:
        on_response(sm.getResponse());
        break;
      case proto::ServerMessage::NOTIFICATION:
        on_notification(sm.getNotification());
        break;
      case proto::ServerMessage::CLOSING:
        on_closing(to_std(sm.getClosing()));
        break;
      default:
        connection_lost("protocol error: unknown server message");
    }
  } catch (const kj::Exception& e) {
    connection_lost(std::string("protocol error: ") + e.getDescription().cStr());
  } catch (const std::exception& e) {
    connection_lost(std::string("protocol error: ") + e.what());
  }
}

// ---- handshake ---------------------------------------------------------------------------

std::chrono::milliseconds ClientCore::connect_timeout() const {
  if (options_.connect_timeout.count() > 0) return options_.connect_timeout;
  auto base = negotiated_timeout_ms_ > 0 ? std::chrono::milliseconds(negotiated_timeout_ms_)
                                         : options_.session_timeout;
  return std::max(std::chrono::milliseconds(1), base / static_cast<std::int64_t>(cs_.hosts.size()));
}

void ClientCore::start_connect() {
  close_socket();
  const HostPort& host = cs_.hosts[host_index_];
  socket_ = std::make_unique<zmq::socket_t>(*ctx_, zmq::socket_type::dealer);
  socket_->set(zmq::sockopt::linger, 0);
  socket_->set(zmq::sockopt::sndhwm,
               static_cast<int>(std::min<std::size_t>(options_.max_in_flight + 1024, 1 << 30)));
  socket_->set(zmq::sockopt::rcvhwm, 0);
  std::string monitor_endpoint = "inproc://ql-client-monitor-" +
                                 std::to_string(reinterpret_cast<std::uintptr_t>(this)) + "-" +
                                 std::to_string(conn_gen_);
  if (zmq_socket_monitor(socket_->handle(), monitor_endpoint.c_str(),
                         ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECT_RETRIED) == 0) {
    monitor_ = std::make_unique<zmq::socket_t>(*ctx_, zmq::socket_type::pair);
    monitor_->set(zmq::sockopt::linger, 0);
    monitor_->connect(monitor_endpoint);
  }
  socket_->connect(host.endpoint());

  auto msg = new_message(64);
  auto connect = msg->initRoot<proto::ClientMessage>().initConnect();
  connect.setProtocolVersion(1);
  connect.setLastZxidSeen(last_zxid_seen_.load());
  connect.setTimeoutMs(static_cast<std::int32_t>(options_.session_timeout.count()));
  connect.setSessionId(session_id_);
  std::string passwd = session_id_ != 0 ? passwd_ : std::string(16, '\0');
  connect.setPasswd(bytes(passwd));
  connect.setReadOnly(options_.read_only);

  auto now = Clock::now();
  conn_ = Conn::kHandshake;
  connect_deadline_ = now + connect_timeout();
  last_recv_ = now;
  send(serialize(*msg));
  publish(io_state_);
  logger()->debug("client: connecting to {} (session 0x{:x})", host.to_string(), session_id_);
}

void ClientCore::on_connect_response(proto::ConnectResponse::Reader r) {
  if (conn_ != Conn::kHandshake) return connection_lost("protocol error: unexpected connect reply");
  auto err = static_cast<Error>(r.getErr());
  if (err == Error::SESSIONEXPIRED || (err == Error::OK && r.getTimeoutMs() <= 0)) return expire();
  if (err != Error::OK) {
    return connection_lost("server refused the connection: " + to_std(r.getMessage()) + " (" +
                           error_name(err) + ")");
  }
  if (r.getSessionId() == 0 || (session_id_ != 0 && r.getSessionId() != session_id_)) {
    return connection_lost("protocol error: connect reply for another session");
  }
  session_id_ = r.getSessionId();
  if (r.getPasswd().size() > 0) passwd_ = to_std(r.getPasswd());
  negotiated_timeout_ms_ = r.getTimeoutMs();
  read_timeout_ = std::chrono::milliseconds(negotiated_timeout_ms_ * 2 / 3);
  ping_interval_ = std::min(kMaxPingInterval, read_timeout_ / 2);
  conn_ = Conn::kConnected;
  attempts_in_pass_ = 0;
  failed_passes_ = 0;
  publish(State::kConnected);
  session_event(KeeperState::kSyncConnected);
  logger()->debug("client: session 0x{:x} connected to {}, timeout {} ms", session_id_,
                  cs_.hosts[host_index_].to_string(), negotiated_timeout_ms_);
  send_session_setup();
}

/// After the handshake, in ZooKeeper's order (reference §2.3): credentials, watches, then the
/// requests queued while disconnected.
void ClientCore::send_session_setup() {
  for (const auto& [scheme, auth] : credentials_) {
    Request r;
    r.kind = OpKind::kAddAuth;
    RequestWriter w(scheme.size() + auth.size());
    auto op = w.op().initAddAuth();
    op.setScheme(text(scheme));
    op.setAuth(bytes(auth));
    r.payload = w.seal();
    r.has_payload = true;
    send_request(std::move(r));
  }
  if (!watches_.empty()) {
    auto lists = watches_.lists();
    const std::vector<std::string>* sources[5] = {&lists.data, &lists.exist, &lists.child,
                                                  &lists.persistent, &lists.persistent_recursive};
    std::vector<std::string> chunk[5];
    std::size_t chunk_bytes = 0;
    auto emit = [&] {
      Request r;
      r.kind = OpKind::kSetWatches;
      RequestWriter w(chunk_bytes + 5 * 8);
      auto sw = w.op().initSetWatches();
      sw.setRelativeZxid(last_zxid_seen_.load());
      using Init = capnp::List<capnp::Text>::Builder (proto::SetWatches::Builder::*)(unsigned);
      const Init inits[5] = {
          &proto::SetWatches::Builder::initData, &proto::SetWatches::Builder::initExist,
          &proto::SetWatches::Builder::initChild, &proto::SetWatches::Builder::initPersistent,
          &proto::SetWatches::Builder::initPersistentRecursive};
      for (int k = 0; k < 5; ++k) {
        auto list = (sw.*inits[k])(static_cast<unsigned>(chunk[k].size()));
        for (unsigned i = 0; i < chunk[k].size(); ++i)
          list.set(i, text(chunk[k][i]));
        chunk[k].clear();
      }
      chunk_bytes = 0;
      r.payload = w.seal();
      r.has_payload = true;
      send_request(std::move(r));
    };
    for (int k = 0; k < 5; ++k) {
      for (const auto& path : *sources[k]) {
        std::string server_path = cs_.to_server(path);
        if (chunk_bytes + server_path.size() > kSetWatchesMaxPathBytes && chunk_bytes > 0) emit();
        chunk_bytes += server_path.size() + 8;
        chunk[k].push_back(std::move(server_path));
      }
    }
    if (chunk_bytes > 0) emit();
  }
  while (!unsent_.empty() && conn_ == Conn::kConnected) {
    Request r = std::move(unsent_.front());
    unsent_.pop_front();
    send_request(std::move(r));
  }
}

// ---- replies and notifications -------------------------------------------------------------

void ClientCore::on_response(proto::Response::Reader r) {
  std::int32_t xid = r.getXid();
  if (xid == kPingXid) return;
  if (conn_ != Conn::kConnected) return connection_lost("protocol error: reply before connect");
  if (pending_.empty() || pending_.front().xid != xid) {
    return connection_lost(
        "protocol error: xid out of order: got " + std::to_string(xid) + ", expected " +
        (pending_.empty() ? std::string("none") : std::to_string(pending_.front().xid)));
  }
  Request p = std::move(pending_.front());
  pending_.pop_front();
  std::int64_t zxid = r.getZxid();
  if (zxid > last_zxid_seen_.load(std::memory_order_relaxed)) {
    last_zxid_seen_.store(zxid, std::memory_order_relaxed);
  }
  auto err = static_cast<Error>(r.getErr());
  register_watch(p, err);
  complete(p, err, &r);
  if (p.kind == OpKind::kClose) return finish_close(Error::OK);
  if (p.kind == OpKind::kAddAuth && err == Error::AUTHFAILED) return auth_failed();
}

void ClientCore::register_watch(const Request& r, Error err) {
  switch (r.kind) {
    case OpKind::kExists:
      if (!r.watcher) return;
      if (err == Error::OK) watches_.add(WatchKind::kData, r.path, r.watcher);
      if (err == Error::NONODE) watches_.add(WatchKind::kExist, r.path, r.watcher);
      return;
    case OpKind::kGetData:
      if (r.watcher && err == Error::OK) watches_.add(WatchKind::kData, r.path, r.watcher);
      return;
    case OpKind::kGetChildren:
      if (r.watcher && err == Error::OK) watches_.add(WatchKind::kChild, r.path, r.watcher);
      return;
    case OpKind::kAddWatch:
      if (r.watcher && err == Error::OK) {
        watches_.add(r.add_watch_mode == AddWatchMode::kPersistentRecursive
                         ? WatchKind::kPersistentRecursive
                         : WatchKind::kPersistent,
                     r.path, r.watcher);
      }
      return;
    case OpKind::kRemoveWatches:
      if (err == Error::OK || r.local) {
        for (auto& f : watches_.remove(r.path, r.watcher_type)) {
          fire(std::move(f.watchers), std::move(f.event));
        }
      }
      return;
    default:
      return;
  }
}

void ClientCore::on_notification(proto::Notification::Reader n) {
  if (conn_ != Conn::kConnected) return;
  std::string server_path = to_std(n.getPath());
  WatchedEvent ev;
  ev.type = static_cast<EventType>(n.getType());
  ev.state = KeeperState::kSyncConnected;
  ev.path = cs_.to_client(server_path);
  ev.zxid = n.getZxid();
  if (!cs_.contains(server_path)) {
    logger()->warn("client: notification for {} outside the chroot {}", server_path, cs_.chroot);
  }
  auto watchers = watches_.materialize(ev.type, ev.path);
  fire(std::move(watchers), std::move(ev));
}

void ClientCore::on_closing(const std::string& reason) {
  if (closing_) return finish_close(Error::OK);
  connection_lost("server closed the session's connection: " + reason);
}

// ---- sending -------------------------------------------------------------------------------

std::int32_t ClientCore::next_xid() {
  xid_ = xid_ == std::numeric_limits<std::int32_t>::max() ? 1 : xid_ + 1;
  return xid_;
}

bool ClientCore::send(zmq::message_t msg) {
  if (!socket_) return false;
  auto sent = socket_->send(msg, zmq::send_flags::dontwait);
  if (!sent) {
    connection_lost("send queue full");
    return false;
  }
  last_send_ = Clock::now();
  return true;
}

void ClientCore::send_request(Request r) {
  if (conn_ != Conn::kConnected) return complete(r, Error::CONNECTIONLOSS);  // lost meanwhile
  if (r.kind == OpKind::kAddAuth && r.completion) credentials_.emplace_back(r.scheme, r.auth);
  r.xid = next_xid();
  patch_xid(r.payload.bytes, r.payload.xid_offset, r.xid);
  zmq::message_t msg = std::move(r.payload.bytes);
  pending_.push_back(std::move(r));
  send(std::move(msg));  // on failure the connection is dropped and pending_ failed
}

void ClientCore::send_ping() {
  capnp::MallocMessageBuilder msg(16);
  auto req = msg.initRoot<proto::ClientMessage>().initRequest();
  req.setXid(kPingXid);
  req.initOp().setPing();
  send(serialize(msg));
}

// ---- timers ----------------------------------------------------------------------------------

void ClientCore::run_timers(Clock::time_point now) {
  if (closing_) {
    if (now >= close_deadline_) finish_close(Error::OPERATIONTIMEOUT);
    return;
  }
  switch (conn_) {
    case Conn::kIdle:
      if (io_state_ == State::kConnecting && now >= reconnect_at_) start_connect();
      return;
    case Conn::kHandshake:
      if (now >= connect_deadline_) connection_lost("connect timeout");
      return;
    case Conn::kConnected:
      if (now - last_recv_ >= read_timeout_) {
        connection_lost("read timeout: nothing heard for " +
                        std::to_string(to_ms_ceil(now - last_recv_)) + " ms");
      } else if (now - last_send_ >= ping_interval_) {
        send_ping();
      }
      return;
  }
}

int ClientCore::poll_timeout_ms(Clock::time_point now) const {
  Clock::time_point due;
  if (closing_) {
    due = close_deadline_;
  } else {
    switch (conn_) {
      case Conn::kIdle:
        if (io_state_ != State::kConnecting) return -1;
        due = reconnect_at_;
        break;
      case Conn::kHandshake:
        due = connect_deadline_;
        break;
      case Conn::kConnected:
        due = std::min(last_recv_ + read_timeout_, last_send_ + ping_interval_);
        break;
    }
  }
  return due <= now ? 0 : to_ms_ceil(due - now);
}

// ---- completion and failure ----------------------------------------------------------------

void ClientCore::complete(Request& r, Error err, const proto::Response::Reader* response) {
  if (r.counted) {
    in_flight_.fetch_sub(1);
    r.counted = false;
  }
  if (!r.completion) return;
  r.completion->finish(err, response);
  if (r.completion->direct()) {
    r.completion->run();  // a future awaited on the event thread: it cannot wait for that thread
  } else {
    batch_.push_back(std::move(r.completion));
  }
}

void ClientCore::fail_all(Error err) {
  // Pending requests first: they were submitted before anything still unsent.
  std::deque<Request> pending;
  pending.swap(pending_);
  for (auto& r : pending)
    complete(r, err);
  std::deque<Request> unsent;
  unsent.swap(unsent_);
  for (auto& r : unsent)
    complete(r, err);
}

void ClientCore::close_socket() {
  if (socket_ && monitor_) zmq_socket_monitor(socket_->handle(), nullptr, 0);
  monitor_.reset();
  socket_.reset();
  ++conn_gen_;
  conn_ = Conn::kIdle;
}

void ClientCore::connection_lost(const std::string& reason) {
  bool was_connected = conn_ == Conn::kConnected;
  logger()->debug("client: connection to {} lost: {}", cs_.hosts[host_index_].to_string(), reason);
  close_socket();
  if (closing_) return finish_close(Error::CONNECTIONLOSS);
  fail_all(Error::CONNECTIONLOSS);
  if (io_state_ != State::kConnected && io_state_ != State::kConnecting) return;
  if (was_connected) session_event(KeeperState::kDisconnected);
  // Next server; after a whole pass without a session, back off (doubling, bounded).
  host_index_ = (host_index_ + 1) % cs_.hosts.size();
  auto now = Clock::now();
  reconnect_at_ = now;
  if (!was_connected && ++attempts_in_pass_ >= cs_.hosts.size()) {
    attempts_in_pass_ = 0;
    std::chrono::milliseconds delay =
        options_.reconnect_delay * (std::int64_t{1} << std::min<std::size_t>(failed_passes_, 16));
    reconnect_at_ = now + std::min(delay, options_.reconnect_delay_max);
    ++failed_passes_;
  }
  publish(State::kConnecting);
}

void ClientCore::begin_close(Request r) {
  bool terminal = io_state_ == State::kClosed || io_state_ == State::kExpired ||
                  io_state_ == State::kAuthFailed;
  if (terminal || closing_) return complete(r, Error::OK);
  if (conn_ != Conn::kConnected) {
    // Nobody to tell: the session (if there is one) stays until the cluster expires it.
    Error err = session_id_ == 0 ? Error::OK : Error::CONNECTIONLOSS;
    complete(r, err);
    return terminate(State::kClosed, Error::SESSIONEXPIRED, KeeperState::kClosed);
  }
  closing_ = true;
  close_deadline_ = Clock::now() + r.timeout;
  RequestWriter w(0);
  w.op().setCloseSession();
  r.payload = w.seal();
  r.has_payload = true;
  send_request(std::move(r));
}

void ClientCore::finish_close(Error close_err) {
  for (auto& r : pending_) {
    complete(r, r.kind == OpKind::kClose ? close_err : Error::CONNECTIONLOSS);
  }
  pending_.clear();
  closing_ = false;
  terminate(State::kClosed, Error::SESSIONEXPIRED, KeeperState::kClosed);
}

void ClientCore::detach(Request r) {
  bool terminal = io_state_ == State::kClosed || io_state_ == State::kExpired ||
                  io_state_ == State::kAuthFailed;
  if (!terminal) {
    fail_all(Error::CONNECTIONLOSS);
    terminate(State::kClosed, Error::SESSIONEXPIRED, KeeperState::kClosed);
  }
  complete(r, Error::OK);
}

void ClientCore::expire() {
  logger()->debug("client: session 0x{:x} expired", session_id_);
  terminate(State::kExpired, Error::SESSIONEXPIRED, KeeperState::kExpired);
}

void ClientCore::auth_failed() {
  terminate(State::kAuthFailed, Error::AUTHFAILED, KeeperState::kAuthFailed);
}

void ClientCore::terminate(State final_state, Error pending_err, KeeperState event) {
  close_socket();
  fail_all(pending_err);
  watches_.clear();
  closing_ = false;
  publish(final_state);
  session_event(event);
}

// ---- event-thread hand-off -------------------------------------------------------------------

void ClientCore::session_event(KeeperState state) {
  if (!options_.session_watcher) return;
  batch_.push_back(std::make_unique<FunctionTask>([w = options_.session_watcher, state] {
    w(WatchedEvent{EventType::kNone, state, "", -1});
  }));
}

void ClientCore::fire(std::vector<Watcher> watchers, WatchedEvent event) {
  if (watchers.empty()) return;
  batch_.push_back(
      std::make_unique<FunctionTask>([ws = std::move(watchers), ev = std::move(event)] {
        for (const auto& w : ws) {
          if (w) w(ev);
        }
      }));
}

void ClientCore::flush_events() {
  events_.post_all(batch_);
}

}  // namespace quorumlab::client::detail
