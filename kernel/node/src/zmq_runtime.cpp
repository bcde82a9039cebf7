#include "quorumlab/node/zmq_runtime.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "quorumlab/log.hpp"

namespace quorumlab::node {

namespace {

/// Upper bound on messages taken from one socket per loop turn, so one busy socket cannot
/// starve ticks, storage completions or the other socket.
constexpr int kDrainBatchMax = 2048;

int bound_port(zmq::socket_t& s) {
  std::string ep = s.get(zmq::sockopt::last_endpoint);
  return std::stoi(ep.substr(ep.rfind(':') + 1));
}

void bind_or_throw(zmq::socket_t& s, const std::string& endpoint, const char* what) {
  try {
    s.bind(endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error(std::string("cannot listen for ") + what + " on " + endpoint + ": " +
                             e.what());
  }
}

std::string endpoint(const std::string& host, std::int64_t port) {
  return "tcp://" + host + ":" + (port == 0 ? std::string("*") : std::to_string(port));
}

}  // namespace

ZmqRuntime::ZmqRuntime(const NodeConfig& config)
    : tick_ms_(config.settings.get_int("tick_ms")),
      max_message_bytes_(static_cast<std::size_t>(config.settings.get_int("max_data_bytes")) * 2 +
                         (1 << 16)),
      context_(1),
      clients_(context_, zmq::socket_type::router),
      peers_in_(context_, zmq::socket_type::router) {
  const std::string host = config.settings.get_string("host");
  for (auto* s : {&clients_, &peers_in_}) {
    s->set(zmq::sockopt::linger, 0);
    s->set(zmq::sockopt::sndhwm, 0);
    s->set(zmq::sockopt::rcvhwm, 0);
    // Oversized frames are cut by ZeroMQ (the sender is disconnected) before they use memory.
    s->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_message_bytes_));
  }
  bind_or_throw(clients_, endpoint(host, config.settings.get_int("client_port")), "clients");
  client_port_ = bound_port(clients_);

  std::int64_t peer_port = config.settings.get_int("peer_port");
  for (const auto& p : config.peers) {
    if (p.id == config.id() && peer_port == 0) peer_port = p.port;
  }
  if (!config.peers.empty() || peer_port != 0) {
    bind_or_throw(peers_in_, endpoint(host, peer_port), "peers");
    peer_port_ = bound_port(peers_in_);
  }
  for (const auto& p : config.peers) {
    if (p.id == config.id()) continue;
    zmq::socket_t s(context_, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::sndhwm, 100000);
    s.set(zmq::sockopt::immediate, 1);  // do not queue for a peer that is down
    s.set(zmq::sockopt::reconnect_ivl, 20);
    s.set(zmq::sockopt::reconnect_ivl_max, 200);
    const std::string monitor_ep = "inproc://ql-peer-monitor-" +
                                   std::to_string(reinterpret_cast<std::uintptr_t>(this)) + "-" +
                                   std::to_string(p.id);
    if (zmq_socket_monitor(s.handle(), monitor_ep.c_str(), ZMQ_EVENT_DISCONNECTED) != 0) {
      throw std::runtime_error("cannot monitor the socket to peer " + std::to_string(p.id) + ": " +
                               zmq_strerror(zmq_errno()));
    }
    zmq::socket_t events(context_, zmq::socket_type::pair);
    events.set(zmq::sockopt::linger, 0);
    events.connect(monitor_ep);
    monitors_.push_back({p.id, std::move(events)});
    s.connect("tcp://" + p.host + ":" + std::to_string(p.port));
    peers_out_.emplace(p.id, std::move(s));
  }
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error("eventfd failed");
}

ZmqRuntime::~ZmqRuntime() {
  for (auto& [id, s] : peers_out_)
    zmq_socket_monitor(s.handle(), nullptr, 0);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

std::function<void()> ZmqRuntime::waker() {
  int fd = wake_fd_;
  return [fd] {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
  };
}

namespace {

std::int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

std::int64_t steady_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

std::int64_t system_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

// Inside `run` the clocks are read once per loop turn: a turn handles thousands of messages in
// well under a millisecond, and the node asks for the time on every request.
std::int64_t ZmqRuntime::now_ms() {
  return turn_now_ms_ != 0 ? turn_now_ms_ : steady_ms();
}

std::int64_t ZmqRuntime::wall_ms() {
  return turn_wall_ms_ != 0 ? turn_wall_ms_ : system_ms();
}

void ZmqRuntime::send_peer(NodeId to, Bytes bytes) {
  if (!rules_.empty()) {
    auto r = rules_.find(to);
    if (r != rules_.end()) {
      auto next = [this] {  // xorshift64: a drop or a jitter draw
        rule_rng_ ^= rule_rng_ << 13;
        rule_rng_ ^= rule_rng_ >> 7;
        rule_rng_ ^= rule_rng_ << 17;
        return rule_rng_;
      };
      const NetRule& rule = r->second;
      if (rule.drop_pct >= 100 || (rule.drop_pct > 0 && next() % 100 < rule.drop_pct)) return;
      if (rule.delay_ms > 0 || rule.jitter_ms > 0) {
        std::int64_t at =
            now_ms() + rule.delay_ms +
            (rule.jitter_ms ? static_cast<std::int64_t>(next() % (rule.jitter_ms + 1)) : 0);
        auto& last = last_release_ms_[to];
        at = std::max(at, last);  // FIFO per peer, as the TCP connection underneath
        last = at;
        // held_ is kept sorted by release time (stable for equal times).
        auto pos = std::upper_bound(held_.begin(), held_.end(), at,
                                    [](std::int64_t t, const Held& h) { return t < h.at_ms; });
        held_.insert(pos, Held{at, to, std::move(bytes)});
        return;
      }
    }
  }
  send_now(to, bytes);
}

void ZmqRuntime::send_now(NodeId to, const Bytes& bytes) {
  auto it = peers_out_.find(to);
  if (it == peers_out_.end()) return;
  zmq::message_t msg(bytes.data(), bytes.size());
  // Best effort: with `immediate`, a message for a peer that is down is dropped here.
  (void)it->second.send(msg, zmq::send_flags::dontwait);
}

std::int64_t ZmqRuntime::release_held(std::int64_t now) {
  while (!held_.empty() && held_.front().at_ms <= now) {
    send_now(held_.front().to, held_.front().bytes);
    held_.pop_front();
  }
  return held_.empty() ? -1 : held_.front().at_ms - now;
}

std::string ZmqRuntime::set_fault_rules(const FaultRules& rules) {
  for (const auto& r : rules.links) {
    if (peers_out_.count(r.peer) == 0) {
      return "no peer " + std::to_string(r.peer) + " in this server's configuration";
    }
    if (r.drop_pct > 100) return "drop percentage above 100 for peer " + std::to_string(r.peer);
    if (r.delay_ms > kMaxFaultDelayMs || r.jitter_ms > kMaxFaultDelayMs) {
      return "delay or jitter above " + std::to_string(kMaxFaultDelayMs) + " ms for peer " +
             std::to_string(r.peer);
    }
  }
  if (rules.disk_delay_ms > kMaxFaultDelayMs) {
    return "disk delay " + std::to_string(rules.disk_delay_ms) + " ms above " +
           std::to_string(kMaxFaultDelayMs) + " ms";
  }
  if (rules.clock_skew_ppm > kMaxClockSkewPpm || rules.clock_skew_ppm < -kMaxClockSkewPpm) {
    return "clock skew " + std::to_string(rules.clock_skew_ppm) + " ppm outside -" +
           std::to_string(kMaxClockSkewPpm) + " .. " + std::to_string(kMaxClockSkewPpm);
  }
  rules_.clear();
  for (const auto& r : rules.links)
    rules_[r.peer] = r;
  // Messages held under the old rules go out at their times; no link rules send them now.
  if (rules_.empty()) release_held(std::numeric_limits<std::int64_t>::max());
  if (rules.clock_skew_ppm != other_rules_.clock_skew_ppm) {
    const std::int64_t now = steady_us();
    anchor_tick_us_ = tick_clock_us(now);
    anchor_real_us_ = now;
  }
  other_rules_ = rules;
  other_rules_.links.clear();
  return "";
}

FaultRules ZmqRuntime::fault_rules() const {
  FaultRules out = other_rules_;
  for (const auto& [peer, r] : rules_)
    out.links.push_back(r);
  std::sort(out.links.begin(), out.links.end(),
            [](const NetRule& a, const NetRule& b) { return a.peer < b.peer; });
  return out;
}

std::int64_t ZmqRuntime::tick_clock_us(std::int64_t real_us) const {
  return anchor_tick_us_ +
         (real_us - anchor_real_us_) * (1000000 + other_rules_.clock_skew_ppm) / 1000000;
}

void ZmqRuntime::send_client(ConnId conn, Bytes bytes) {
  if (frontend_ && frontend_->owns(conn)) return frontend_->send_client(conn, std::move(bytes));
  auto it = route_by_conn_.find(conn);
  if (it == route_by_conn_.end()) return;
  zmq::message_t route(it->second.data(), it->second.size());
  zmq::message_t msg(bytes.data(), bytes.size());
  (void)clients_.send(route, zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  (void)clients_.send(msg, zmq::send_flags::dontwait);
}

void ZmqRuntime::close_client(ConnId conn) {
  if (frontend_ && frontend_->owns(conn)) return frontend_->close_client(conn);
  auto it = route_by_conn_.find(conn);
  if (it == route_by_conn_.end()) return;
  conn_by_route_.erase(it->second);
  route_by_conn_.erase(it);
}

void ZmqRuntime::drain_clients(RuntimeHandler& handler) {
  for (int i = 0; i < kDrainBatchMax; ++i) {
    zmq::message_t route, msg;
    if (!clients_.recv(route, zmq::recv_flags::dontwait)) return;
    if (!route.more() || !clients_.recv(msg, zmq::recv_flags::dontwait)) continue;
    while (msg.more()) {  // a well-behaved client sends one frame; drop extra frames
      zmq::message_t extra;
      if (!clients_.recv(extra, zmq::recv_flags::dontwait)) break;
      msg.move(extra);
    }
    std::string key(static_cast<const char*>(route.data()), route.size());
    auto [it, inserted] = conn_by_route_.try_emplace(key, next_conn_);
    if (inserted) route_by_conn_[next_conn_++] = key;
    const char* addr = nullptr;
    try {
      addr = msg.gets("Peer-Address");
    } catch (const zmq::error_t&) {
    }
    handler.on_client_message(it->second, static_cast<const std::uint8_t*>(msg.data()), msg.size(),
                              addr ? addr : "");
  }
}

void ZmqRuntime::drain_peers(RuntimeHandler& handler) {
  for (int i = 0; i < kDrainBatchMax; ++i) {
    zmq::message_t route, msg;
    if (!peers_in_.recv(route, zmq::recv_flags::dontwait)) return;
    if (!route.more() || !peers_in_.recv(msg, zmq::recv_flags::dontwait)) continue;
    handler.on_peer_message(static_cast<const std::uint8_t*>(msg.data()), msg.size());
  }
}

void ZmqRuntime::drain_monitor(std::size_t i, RuntimeHandler& handler) {
  for (int n = 0; n < kDrainBatchMax; ++n) {
    // A monitor event is two frames: (uint16 event, uint32 value) in host order, then the
    // endpoint.
    zmq::message_t head, address;
    if (!monitors_[i].events.recv(head, zmq::recv_flags::dontwait)) return;
    if (head.more()) (void)monitors_[i].events.recv(address, zmq::recv_flags::dontwait);
    if (head.size() < sizeof(std::uint16_t)) continue;
    std::uint16_t event = 0;
    std::memcpy(&event, head.data(), sizeof event);
    if (event == ZMQ_EVENT_DISCONNECTED) handler.on_peer_disconnected(monitors_[i].id);
  }
}

void ZmqRuntime::run(RuntimeHandler& handler, const std::atomic<bool>& stop) {
  std::vector<zmq::pollitem_t> items = {
      {clients_.handle(), 0, ZMQ_POLLIN, 0},
      {peers_in_.handle(), 0, ZMQ_POLLIN, 0},
      {nullptr, wake_fd_, ZMQ_POLLIN, 0},
  };
  for (auto& m : monitors_)
    items.push_back({m.events.handle(), 0, ZMQ_POLLIN, 0});
  const std::size_t own_items = items.size();
  // Ticks follow the tick clock (real time scaled by the clock skew fault, tick_clock_us), in
  // microseconds so that a skew of a few percent changes the rate of 10 ms ticks.
  const std::int64_t tick_us = tick_ms_ * 1000;
  std::int64_t next_tick = tick_clock_us(steady_us()) + tick_us;
  while (!stop.load(std::memory_order_relaxed)) {
    // Real time until the tick clock reaches the next tick, rounded up to whole ms.
    const std::int64_t ahead_us = std::max<std::int64_t>(0, next_tick - tick_clock_us(steady_us()));
    std::int64_t wait = (ahead_us * 1000000 / (1000000 + other_rules_.clock_skew_ppm) + 999) / 1000;
    if (!held_.empty()) {
      const std::int64_t until_held = release_held(steady_ms());
      if (until_held >= 0) wait = std::min(wait, until_held);
    }
    items.resize(own_items);
    if (frontend_ && frontend_->add_poll_items(&items)) wait = 0;
    try {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(wait));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
    const std::int64_t real_us = steady_us();
    turn_now_ms_ = real_us / 1000;
    turn_wall_ms_ = system_ms();
    // Every tick that fell due is delivered before the inputs of this turn, also the ones due
    // while the process was stopped: a plugin's elapsed time never under-counts real time
    // (runtime_handler.hpp), unless a clock skew fault slows the tick clock: that is the fault.
    // The burst is as long as the stall; the plugins react to its first ticks (a zab leader
    // steps down within sync_limit of them) and stop sending.
    for (std::int64_t due = ticks_due(tick_clock_us(real_us), next_tick, tick_us); due > 0; --due)
      handler.on_tick();
    if (items[0].revents & ZMQ_POLLIN) drain_clients(handler);
    if (items[1].revents & ZMQ_POLLIN) drain_peers(handler);
    if (items[2].revents & ZMQ_POLLIN) {
      std::uint64_t n;
      [[maybe_unused]] auto r = ::read(wake_fd_, &n, sizeof n);
      handler.on_storage_wakeup();
    }
    for (std::size_t i = 0; i < monitors_.size(); ++i) {
      if (items[3 + i].revents & ZMQ_POLLIN) drain_monitor(i, handler);
    }
    if (frontend_) frontend_->on_poll(items.data() + own_items, items.size() - own_items, handler);
    handler.process();
    if (frontend_) frontend_->flush();
  }
  turn_now_ms_ = turn_wall_ms_ = 0;
}

}  // namespace quorumlab::node
