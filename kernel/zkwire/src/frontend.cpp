#include "quorumlab/zkwire/frontend.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "quorumlab/log.hpp"

namespace quorumlab::zkwire {

namespace {

/// Connections accepted per loop turn, so a connection storm cannot starve the node.
constexpr int kAcceptBatchMax = 64;
/// Bytes read from one connection per loop turn.
constexpr std::size_t kReadBytesPerTurn = 256 * 1024;
/// Frames handled per connection per loop turn (the rest waits for the next turn).
constexpr int kFramesPerTurnMax = 1024;
/// Written-out bytes at the front of an output buffer that trigger a compaction.
constexpr std::size_t kOutputCompactBytes = 1u << 20;

std::shared_ptr<spdlog::logger> logger() {
  return log::get("zkwire");
}

/// "a.b.c.d:port" or "[v6]:port" for cons; `host_only` gets the address without the port
/// (the node derives the ip:<address> ACL id from it).
std::string address_of(const sockaddr_storage& sa, std::string* host_only) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (sa.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&sa);
    ::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    *host_only = buf;
    return std::string(buf) + ":" + std::to_string(ntohs(in->sin_port));
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&sa);
  ::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
  *host_only = buf;
  return "[" + std::string(buf) + "]:" + std::to_string(ntohs(in6->sin6_port));
}

int listen_on(const std::string& host, int port, int* bound_port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string where = host + ":" + std::to_string(port);
  const std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) {
    throw std::runtime_error("cannot listen for ZooKeeper clients on " + where + ": " +
                             ::gai_strerror(rc));
  }
  std::string error = "no address";
  int fd = -1;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 1024) == 0) break;
    error = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0)
    throw std::runtime_error("cannot listen for ZooKeeper clients on " + where + ": " + error);
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  *bound_port = sa.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&sa)->sin_port)
                                        : ntohs(reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port);
  return fd;
}

void add_stats(ConnStats* total, const ConnStats& s) {
  total->packets_received += s.packets_received;
  total->packets_sent += s.packets_sent;
  total->sum_latency_us += s.sum_latency_us;
  total->replies += s.replies;
  if (s.max_latency_us > total->max_latency_us) total->max_latency_us = s.max_latency_us;
  if (s.min_latency_us >= 0 &&
      (total->min_latency_us < 0 || s.min_latency_us < total->min_latency_us)) {
    total->min_latency_us = s.min_latency_us;
  }
}

}  // namespace

struct ZkFrontend::Conn {
  Conn(node::ConnId id_, int fd_, const FrontendOptions& o)
      : id(id_), fd(fd_), in(o.max_frame_bytes), tr(TranslatorLimits{o.max_frame_bytes, 10000}) {}

  node::ConnId id;
  int fd;
  std::string address;  ///< ip:port, for logs and cons
  std::string host;     ///< ip only, handed to the node
  FrameBuffer in;
  Translator tr;
  Bytes out;
  std::size_t out_pos = 0;
  bool checked_first_bytes = false;  ///< four-letter-word check done
  bool closing = false;              ///< close once `out` is written
  bool dead = false;                 ///< close now, dropping `out`
  bool peer_closed = false;          ///< the client closed its side
  bool closed_by_node = false;       ///< close_client was called: the node forgot it already

  std::size_t queued() const { return out.size() - out_pos; }
};

ZkFrontend::ZkFrontend(FrontendOptions options, InfoSource info)
    : options_(std::move(options)), info_(std::move(info)) {
  listen_fd_ = listen_on(options_.host, options_.port, &port_);
}

ZkFrontend::~ZkFrontend() {
  for (auto& [id, c] : conns_)
    ::close(c->fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::int64_t ZkFrontend::now_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               epoch_)
      .count();
}

FrontendInfo ZkFrontend::info() const {
  FrontendInfo f;
  f.port = port_;
  ConnStats total = retired_;
  for (const auto& [id, c] : conns_) {
    const ConnStats& s = c->tr.stats();
    add_stats(&total, s);
    ConnectionInfo ci;
    ci.address = c->address;
    ci.queued = c->tr.pending();
    ci.received = s.packets_received;
    ci.sent = s.packets_sent;
    ci.session_id = c->tr.session_id();
    ci.last_op = s.last_op;
    ci.timeout_ms = c->tr.timeout_ms();
    ci.last_cxid = s.last_cxid;
    ci.last_zxid = s.last_zxid;
    ci.last_latency_us = s.last_latency_us;
    ci.min_latency_us = s.min_latency_us < 0 ? 0 : s.min_latency_us;
    ci.max_latency_us = s.max_latency_us;
    ci.avg_latency_us = s.replies ? s.sum_latency_us / static_cast<std::int64_t>(s.replies) : 0;
    f.outstanding += c->tr.pending();
    f.connections.push_back(std::move(ci));
  }
  f.packets_received = total.packets_received;
  f.packets_sent = total.packets_sent;
  f.min_latency_us = total.min_latency_us < 0 ? 0 : total.min_latency_us;
  f.max_latency_us = total.max_latency_us;
  f.avg_latency_us =
      total.replies ? total.sum_latency_us / static_cast<std::int64_t>(total.replies) : 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++f.open_fds;
  }
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) f.max_fds = rl.rlim_cur;
  return f;
}

// ------------------------------------------------------------------ node -> client

void ZkFrontend::send_client(node::ConnId conn, Bytes bytes) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || it->second->dead) return;  // the client is gone already
  Conn& c = *it->second;
  Effects fx;
  c.tr.on_server_message(bytes.data(), bytes.size(), now_us(), &fx);
  apply(c, fx, nullptr);
}

void ZkFrontend::close_client(node::ConnId conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  it->second->closed_by_node = true;
  mark_closing(*it->second, "closed by the node");
}

// ------------------------------------------------------------------ the loop

bool ZkFrontend::wants_read(const Conn& c) const {
  return !c.closing && !c.dead && !c.peer_closed && c.tr.accepts_frames() &&
         c.queued() < options_.pause_read_output_bytes &&
         c.in.buffered() <= options_.max_frame_bytes + 4;
}

bool ZkFrontend::has_ready_input(const Conn& c) const {
  if (c.closing || c.dead || !c.tr.accepts_frames()) return false;
  if (c.queued() >= options_.pause_read_output_bytes || c.in.buffered() < 4) return false;
  if (!c.checked_first_bytes) return true;
  const std::int32_t len = load_be32(c.in.peek());
  return len < 0 || static_cast<std::size_t>(len) > options_.max_frame_bytes ||
         c.in.buffered() - 4 >= static_cast<std::size_t>(len);
}

bool ZkFrontend::add_poll_items(std::vector<zmq::pollitem_t>* items) {
  bool ready = false;
  items->push_back({nullptr, listen_fd_, ZMQ_POLLIN, 0});
  listener_polled_ = true;
  polled_.clear();
  for (const auto& [id, c] : conns_) {
    short events = 0;
    if (wants_read(*c)) events |= ZMQ_POLLIN;
    if (c->queued() > 0 && !c->dead) events |= ZMQ_POLLOUT;
    ready = ready || has_ready_input(*c) || c->dead || (c->closing && c->queued() == 0);
    if (events == 0) continue;
    items->push_back({nullptr, c->fd, events, 0});
    polled_.push_back(id);
  }
  return ready;
}

void ZkFrontend::on_poll(const zmq::pollitem_t* items, std::size_t count,
                         node::RuntimeHandler& handler) {
  for (node::ConnId id : closed_)
    handler.on_client_closed(id);
  closed_.clear();
  std::size_t first = 0;
  if (listener_polled_ && count > 0) {
    if (items[0].revents & ZMQ_POLLIN) accept_all();
    first = 1;
  }
  for (std::size_t i = first; i < count && i - first < polled_.size(); ++i) {
    auto it = conns_.find(polled_[i - first]);
    if (it == conns_.end()) continue;
    Conn& c = *it->second;
    if (items[i].revents & (ZMQ_POLLIN | ZMQ_POLLERR)) read_from(c);
    if (items[i].revents & ZMQ_POLLOUT) write_to(c);
  }
  polled_.clear();
  listener_polled_ = false;
  for (auto& [id, c] : conns_) {
    if (has_ready_input(*c)) handle_input(*c, handler);
    if (c->peer_closed && !c->closing && !c->dead) {
      // Requests already received were handed to the node (a closeSession among them takes
      // effect); their replies have nobody to go to.
      mark_closing(*c, "the client closed the connection");
      c->dead = true;
    }
  }
}

void ZkFrontend::flush() {
  for (auto it = conns_.begin(); it != conns_.end();) {
    Conn& c = *it->second;
    if (!c.dead && c.queued() > 0) write_to(c);
    if (c.dead || (c.closing && c.queued() == 0)) {
      it = std::next(it);
      destroy(std::prev(it));
      continue;
    }
    ++it;
  }
}

void ZkFrontend::accept_all() {
  for (int i = 0; i < kAcceptBatchMax; ++i) {
    sockaddr_storage sa{};
    socklen_t len = sizeof sa;
    int fd =
        ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
        logger()->warn("ZooKeeper port {}: accept failed: {}", port_, std::strerror(errno));
      }
      return;
    }
    std::string host;
    std::string address = address_of(sa, &host);
    if (conns_.size() >= options_.max_connections) {
      logger()->warn("ZooKeeper client {} refused: {} connections already (max_connections)",
                     address, conns_.size());
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const node::ConnId id = kConnIdBit | next_id_++;
    auto c = std::make_unique<Conn>(id, fd, options_);
    c->address = std::move(address);
    c->host = std::move(host);
    logger()->debug("ZooKeeper client {} connected (connection {:#x})", c->address, id);
    conns_.emplace(id, std::move(c));
  }
}

void ZkFrontend::read_from(Conn& c) {
  std::uint8_t buf[64 * 1024];
  std::size_t total = 0;
  while (total < kReadBytesPerTurn && wants_read(c)) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      c.in.append(buf, static_cast<std::size_t>(n));
      total += static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0) {
      c.peer_closed = true;
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      logger()->debug("ZooKeeper client {}: read failed: {}", c.address, std::strerror(errno));
      c.dead = true;
    }
    return;
  }
}

bool ZkFrontend::check_four_letter_word(Conn& c) {
  c.checked_first_bytes = true;
  const std::uint8_t* p = c.in.peek();
  if (is_telnet_close(p)) {
    mark_closing(c, "telnet close sequence");
    return true;
  }
  if (!is_four_letter_word(p)) return false;
  const std::string cmd(reinterpret_cast<const char*>(p), 4);
  c.in.consume(c.in.buffered());
  const std::string text = four_letter_reply(cmd, info_ ? info_() : ServerInfo{}, info());
  logger()->debug("four-letter word '{}' from {}", cmd, c.address);
  queue_output(c, reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  mark_closing(c, "four-letter word answered");
  return true;
}

void ZkFrontend::handle_input(Conn& c, node::RuntimeHandler& handler) {
  if (!c.checked_first_bytes && check_four_letter_word(c)) return;
  for (int i = 0; i < kFramesPerTurnMax && has_ready_input(c); ++i) {
    const std::uint8_t* payload = nullptr;
    std::size_t size = 0;
    std::int64_t bad = 0;
    switch (c.in.next(&payload, &size, &bad)) {
      case FrameBuffer::Status::kNeedMore:
        return;
      case FrameBuffer::Status::kBadLength:
        logger()->warn(
            "ZooKeeper client {}: frame length {} outside [0, {}] (jute.maxbuffer); "
            "closing the connection",
            c.address, bad, options_.max_frame_bytes);
        c.dead = true;
        return;
      case FrameBuffer::Status::kFrame: {
        Effects fx;
        c.tr.on_client_frame(payload, size, now_us(), &fx);
        apply(c, fx, &handler);
        break;
      }
    }
  }
}

void ZkFrontend::apply(Conn& c, Effects& fx, node::RuntimeHandler* handler) {
  if (!fx.to_client.empty()) queue_output(c, fx.to_client.data(), fx.to_client.size());
  if (handler) {
    for (const auto& msg : fx.to_node) {
      if (c.dead) break;
      handler->on_client_message(c.id, msg.data(), msg.size(), c.host);
    }
  }
  if (fx.close) mark_closing(c, fx.reason);
}

void ZkFrontend::queue_output(Conn& c, const std::uint8_t* data, std::size_t size) {
  if (c.dead) return;
  if (c.queued() + size > options_.max_output_bytes) {
    logger()->warn(
        "ZooKeeper client {} (session {:#x}) does not read its replies: {} bytes "
        "queued, above max_output_bytes {}; disconnecting it",
        c.address, c.tr.session_id(), c.queued() + size, options_.max_output_bytes);
    c.dead = true;
    c.out.clear();
    c.out_pos = 0;
    return;
  }
  c.out.insert(c.out.end(), data, data + size);
}

void ZkFrontend::write_to(Conn& c) {
  while (c.queued() > 0) {
    ssize_t n = ::send(c.fd, c.out.data() + c.out_pos, c.queued(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      c.out_pos += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    logger()->debug("ZooKeeper client {}: write failed: {}", c.address, std::strerror(errno));
    c.dead = true;
    return;
  }
  if (c.out_pos == c.out.size()) {
    c.out.clear();
    c.out_pos = 0;
  } else if (c.out_pos >= kOutputCompactBytes) {
    c.out.erase(c.out.begin(), c.out.begin() + static_cast<std::ptrdiff_t>(c.out_pos));
    c.out_pos = 0;
  }
}

void ZkFrontend::mark_closing(Conn& c, const std::string& reason) {
  if (c.closing || c.dead) return;
  c.closing = true;
  logger()->debug("ZooKeeper client {} (session {:#x}): closing: {}", c.address, c.tr.session_id(),
                  reason);
}

void ZkFrontend::destroy(std::map<node::ConnId, std::unique_ptr<Conn>>::iterator it) {
  add_stats(&retired_, it->second->tr.stats());
  if (!it->second->closed_by_node) closed_.push_back(it->first);  // told on the next on_poll
  ::close(it->second->fd);
  conns_.erase(it);
}

}  // namespace quorumlab::zkwire
