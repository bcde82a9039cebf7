#include "client.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "quorumlab/node/capnp_util.hpp"
#include "quorumlab/proto/client.capnp.h"

namespace quorumlab::sim {

namespace {

constexpr std::int32_t kPingXid = -2;
constexpr std::int32_t kSessionExpired = -112;
constexpr std::int64_t kNever = HistoryOp::kNoReply;
constexpr std::int64_t kReconnectBackoffMinUs = 5000;
constexpr std::int64_t kReconnectBackoffMaxUs = 60000;

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%#" PRIx64, v);
  return buf;
}

ZnodeState from_stat(proto::Stat::Reader s, std::string data) {
  return ZnodeState{true, std::move(data), s.getVersion(), static_cast<Zxid>(s.getMzxid()),
                    static_cast<Zxid>(s.getCzxid())};
}

/// Same version of a znode (data is not compared: exists replies carry none).
bool same_version(const ZnodeState& a, const ZnodeState& b) {
  return a.exists == b.exists && (!a.exists || (a.mzxid == b.mzxid && a.czxid == b.czxid));
}

kj::ArrayPtr<const capnp::byte> bytes_of(const std::string& s) {
  return kj::arrayPtr(reinterpret_cast<const capnp::byte*>(s.data()), s.size());
}

}  // namespace

SimClient::SimClient(int index, const SimConfig& config, Rng rng, ClientHost& host)
    : index_(index), config_(config), rng_(rng), host_(host), passwd_(16, 0) {}

void SimClient::start() {
  next_op_us_ = host_.now_us();
  connect();
  arm_timer();
}

std::string SimClient::describe() const {
  static const char* names[] = {"disconnected", "connecting", "connected"};
  return "client " + std::to_string(index_) + ": " + names[static_cast<int>(state_)] +
         (node_ ? " to node " + std::to_string(node_) : std::string()) + ", session " +
         hex(static_cast<std::uint64_t>(session_)) + ", " + std::to_string(pending_.size()) +
         " pending, last zxid " + hex(last_zxid_) + ", " + std::to_string(sessions_) +
         " sessions, " + std::to_string(reconnects_) + " reconnects";
}

// ------------------------------------------------------------------ connection

void SimClient::connect() {
  if (config_.throughput.enabled) {  // sessions spread evenly over the replicas
    node_ = static_cast<NodeId>(index_ % host_.replica_count() + 1);
  } else {
    node_ =
        static_cast<NodeId>(rng_.uniform(static_cast<std::uint64_t>(host_.replica_count())) + 1);
  }
  conn_ = host_.open_conn(index_, node_);
  state_ = State::connecting;
  connect_deadline_us_ = host_.now_us() + config_.workload.connect_timeout_ms * 1000;
  const bool forget = config_.test.client_forgets_zxid_on_reconnect;
  capnp::MallocMessageBuilder m;
  auto c = m.initRoot<proto::ClientMessage>().initConnect();
  c.setProtocolVersion(1);
  c.setLastZxidSeen(static_cast<std::int64_t>(forget ? 0 : last_zxid_));
  c.setTimeoutMs(config_.workload.session_timeout_ms);
  c.setSessionId(session_);
  c.setPasswd(kj::arrayPtr(passwd_.data(), passwd_.size()));
  host_.trace({host_.now_us(), "connect", node_, static_cast<std::uint64_t>(index_), conn_, 0,
               "session " + hex(static_cast<std::uint64_t>(session_))});
  send(to_bytes(m));
}

void SimClient::lose_connection(const std::string& why) {
  host_.trace(
      {host_.now_us(), "disconnect", node_, static_cast<std::uint64_t>(index_), conn_, 0, why});
  if (conn_ != 0) host_.close_conn(conn_);
  conn_ = 0;
  pending_.clear();  // their history entries keep "no reply": outcome unknown
  state_ = State::disconnected;
  ++reconnects_;
  reconnect_at_us_ =
      host_.now_us() + rng_.uniform_range(kReconnectBackoffMinUs, kReconnectBackoffMaxUs);
}

void SimClient::send(Bytes bytes) {
  last_send_us_ = host_.now_us();
  host_.client_send(conn_, std::move(bytes));
}

void SimClient::on_conn_closed(ConnId conn) {
  if (conn != conn_ || state_ == State::disconnected) return;
  lose_connection("connection closed");
  arm_timer();
}

// ------------------------------------------------------------------ timer

void SimClient::on_timer(std::uint64_t generation) {
  if (generation != timer_generation_) return;  // superseded
  timer_at_us_ = -1;
  const std::int64_t now = host_.now_us();
  const std::int64_t timeout_us = std::int64_t{config_.workload.session_timeout_ms} * 1000;
  switch (state_) {
    case State::disconnected:
      if (now >= reconnect_at_us_) connect();
      break;
    case State::connecting:
      if (now >= connect_deadline_us_) lose_connection("connect timed out");
      break;
    case State::connected:
      if (!pending_.empty() &&
          now - pending_.front().sent_us >= config_.workload.request_timeout_ms * 1000) {
        lose_connection("request timed out");
      } else if (now - last_recv_us_ >= timeout_us * 2 / 3) {
        lose_connection("server silent");
      } else {
        if (now - last_send_us_ >= timeout_us / 3) send_ping();
        maybe_issue();
      }
      break;
  }
  arm_timer();
}

void SimClient::arm_timer() {
  std::int64_t at = kNever;
  const std::int64_t timeout_us = std::int64_t{config_.workload.session_timeout_ms} * 1000;
  switch (state_) {
    case State::disconnected:
      at = reconnect_at_us_;
      break;
    case State::connecting:
      at = connect_deadline_us_;
      break;
    case State::connected:
      at = std::min(last_send_us_ + timeout_us / 3, last_recv_us_ + timeout_us * 2 / 3);
      if (!pending_.empty()) {
        at = std::min(at, pending_.front().sent_us + config_.workload.request_timeout_ms * 1000);
      }
      if (issuing_ &&
          pending_.size() < static_cast<std::size_t>(config_.workload.max_outstanding)) {
        at = std::min(at, next_op_us_);
      }
      break;
  }
  at = std::max(at, host_.now_us());
  if (at == timer_at_us_) return;
  timer_at_us_ = at;
  host_.set_client_timer(index_, at, ++timer_generation_);
}

void SimClient::stop_issuing() {
  issuing_ = false;
  arm_timer();
}

bool SimClient::write_now() {
  if (state_ != State::connected) return false;
  if (pending_.size() >= static_cast<std::size_t>(config_.workload.max_outstanding)) return false;
  issue(OpKind::set);
  return true;
}

// ------------------------------------------------------------------ requests

void SimClient::maybe_issue() {
  if (state_ != State::connected || !issuing_) return;
  if (pending_.size() >= static_cast<std::size_t>(config_.workload.max_outstanding)) return;
  if (config_.throughput.enabled) {  // a closed loop: the window full at all times
    while (pending_.size() < static_cast<std::size_t>(config_.workload.max_outstanding))
      issue_bench();
    return;
  }
  const std::int64_t now = host_.now_us();
  if (now < next_op_us_) return;
  const auto& w = config_.workload;
  const int weights[] = {w.weight_create, w.weight_set,  w.weight_get,
                         w.weight_exists, w.weight_sync, w.weight_delete};
  const OpKind kinds[] = {OpKind::create, OpKind::set,  OpKind::get,
                          OpKind::exists, OpKind::sync, OpKind::remove};
  int total = 0;
  for (int x : weights)
    total += x;
  auto pick = static_cast<int>(rng_.uniform(static_cast<std::uint64_t>(std::max(total, 1))));
  std::size_t k = 0;
  while (k + 1 < std::size(weights) && pick >= weights[k])
    pick -= weights[k++];
  issue(kinds[k]);
  next_op_us_ =
      now + 1 + static_cast<std::int64_t>(rng_.exponential(static_cast<double>(w.think_mean_us)));
}

void SimClient::issue(OpKind kind) {
  const auto& w = config_.workload;
  HistoryOp op;
  op.id = host_.history().ops.size();
  op.client = index_;
  op.session = session_;
  op.kind = kind;
  op.key = "/k" + std::to_string(rng_.uniform(static_cast<std::uint64_t>(std::max(w.keys, 1))));
  op.invoke_us = host_.now_us();
  if (kind == OpKind::create || kind == OpKind::set) {
    op.data = "c" + std::to_string(index_) + "-" + std::to_string(++counter_);
  }
  if ((kind == OpKind::set || kind == OpKind::remove) && rng_.chance(w.conditional_chance)) {
    auto it = known_version_.find(op.key);
    if (it != known_version_.end()) op.version = it->second;
  }
  if (kind == OpKind::get || kind == OpKind::exists) op.watch = rng_.chance(w.watch_chance);
  send_op(std::move(op));
}

void SimClient::issue_bench() {
  const auto& t = config_.throughput;
  if (bench_next_create_ < 0) {
    bench_next_create_ = index_;
    bench_value_.assign(static_cast<std::size_t>(t.value_bytes), 'v');
  }
  auto key_name = [](int i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "/bench-key-%06d", i);
    return std::string(buf);
  };
  HistoryOp op;
  op.id = host_.history().ops.size();
  op.client = index_;
  op.session = session_;
  op.invoke_us = host_.now_us();
  if (bench_next_create_ < t.keys) {  // this client's share of the keys: i, i + clients, ...
    op.kind = OpKind::create;
    op.key = key_name(bench_next_create_);
    ++bench_creates_pending_;
    bench_next_create_ += std::max(config_.workload.clients, 1);
  } else {
    op.key = key_name(static_cast<int>(rng_.uniform(static_cast<std::uint64_t>(t.keys))));
    op.kind = static_cast<int>(rng_.uniform(100)) < t.read_pct ? OpKind::get : OpKind::set;
  }
  send_op(std::move(op));
}

void SimClient::send_op(HistoryOp op) {
  const OpKind kind = op.kind;
  // The throughput workload keeps its value out of the history (thousands of ops).
  const bool bench = config_.throughput.enabled;
  auto data_of = [&](const HistoryOp& o) { return bytes_of(bench ? bench_value_ : o.data); };
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<proto::ClientMessage>().initRequest();
  const std::int32_t xid = next_xid_++;
  r.setXid(xid);
  op.xid = xid;
  auto o = r.initOp();
  switch (kind) {
    case OpKind::create: {
      auto c = o.initCreate();
      c.setPath(op.key);
      c.setData(data_of(op));
      c.setMode(0);
      auto acl = c.initAcl(1);
      acl[0].setPerms(31);
      acl[0].initId().setScheme("world");
      acl[0].getId().setId("anyone");
      break;
    }
    case OpKind::set: {
      auto s = o.initSetData();
      s.setPath(op.key);
      s.setData(data_of(op));
      s.setVersion(op.version);
      break;
    }
    case OpKind::get: {
      auto g = o.initGetData();
      g.setPath(op.key);
      g.setWatch(op.watch);
      break;
    }
    case OpKind::exists: {
      auto e = o.initExists();
      e.setPath(op.key);
      e.setWatch(op.watch);
      break;
    }
    case OpKind::remove: {
      auto d = o.initDelete();
      d.setPath(op.key);
      d.setVersion(op.version);
      break;
    }
    case OpKind::sync:
      o.setSync(op.key);
      break;
  }
  pending_.push_back({xid, ReqKind::op, static_cast<std::size_t>(op.id), op.invoke_us});
  host_.trace({op.invoke_us, "invoke", node_, static_cast<std::uint64_t>(index_), op.id, 0,
               op.to_string()});
  host_.history().ops.push_back(std::move(op));
  send(to_bytes(m));
}

void SimClient::send_set_watches() {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<proto::ClientMessage>().initRequest();
  const std::int32_t xid = next_xid_++;
  r.setXid(xid);
  auto s = r.initOp().initSetWatches();
  s.setRelativeZxid(static_cast<std::int64_t>(last_zxid_));
  std::vector<std::string> data, exist;
  for (const auto& [key, a] : armed_)
    (a.exist_watch ? exist : data).push_back(key);
  auto dl = s.initData(static_cast<unsigned>(data.size()));
  for (unsigned i = 0; i < data.size(); ++i)
    dl.set(i, data[i]);
  auto el = s.initExist(static_cast<unsigned>(exist.size()));
  for (unsigned i = 0; i < exist.size(); ++i)
    el.set(i, exist[i]);
  pending_.push_back({xid, ReqKind::set_watches, 0, host_.now_us()});
  send(to_bytes(m));
}

void SimClient::send_ping() {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<proto::ClientMessage>().initRequest();
  r.setXid(kPingXid);
  r.initOp().setPing();
  send(to_bytes(m));
}

// ------------------------------------------------------------------ replies

void SimClient::on_message(ConnId conn, const Bytes& bytes) {
  if (conn != conn_ || state_ == State::disconnected) return;
  last_recv_us_ = host_.now_us();
  try {
    CapnpReader reader(bytes.data(), bytes.size(), 1u << 26);
    auto msg = reader.root<proto::ServerMessage>();
    switch (msg.which()) {
      case proto::ServerMessage::CONNECT_RESPONSE:
        handle_connect_response(bytes);
        break;
      case proto::ServerMessage::RESPONSE:
        handle_response(bytes);
        break;
      case proto::ServerMessage::NOTIFICATION: {
        auto n = msg.getNotification();
        host_.trace({host_.now_us(), "notification", node_, static_cast<std::uint64_t>(index_),
                     static_cast<std::uint64_t>(n.getZxid()), 0, n.getPath().cStr()});
        handle_notification(n.getPath().cStr());
        break;
      }
      case proto::ServerMessage::CLOSING:
        lose_connection(std::string("server closed the connection: ") + msg.getClosing().cStr());
        break;
      default:
        break;
    }
  } catch (const kj::Exception& e) {
    host_.client_violation("client_protocol",
                           "client " + std::to_string(index_) +
                               " got a malformed server message: " + e.getDescription().cStr());
  }
  arm_timer();
}

void SimClient::check_zxid(Zxid zxid, const char* what) {
  if (zxid < last_zxid_) {
    host_.client_violation("no_read_from_past", "client " + std::to_string(index_) + " (session " +
                                                    hex(static_cast<std::uint64_t>(session_)) +
                                                    ", node " + std::to_string(node_) + ") got a " +
                                                    what + " at zxid " + hex(zxid) +
                                                    " after it had seen zxid " + hex(last_zxid_));
  }
}

void SimClient::on_session_expired(SessionId session, std::int64_t at_us) {
  if (session == 0 || session != session_ || expired_session_ == session) return;
  expired_session_ = session;
  expired_at_us_ = at_us;
}

void SimClient::check_not_expired(const char* what) {
  if (session_ == 0 || session_ != expired_session_) return;
  const std::int64_t now = host_.now_us();
  // The leader measured the session timeout on its clock, the server its own notice of
  // leaving the quorum on its own: allow both clocks' drift over a session timeout.
  const std::int64_t drift_us = std::int64_t{config_.workload.session_timeout_ms} * 1000 * 2 *
                                config_.clock.drift_ppm_max / 1'000'000;
  const std::int64_t allowed_us = expired_at_us_ + config_.expiry_grace_ms * 1000 + drift_us;
  if (now <= allowed_us) return;
  host_.client_violation(
      "disconnected_before_expiry",
      "client " + std::to_string(index_) + " (session " +
          hex(static_cast<std::uint64_t>(session_)) + ", node " + std::to_string(node_) +
          ") got a " + what + " at " + std::to_string(now) + " us, " +
          std::to_string((now - expired_at_us_) / 1000) + " ms after its session expired (at " +
          std::to_string(expired_at_us_) +
          " us: the leader's closeSession first applied, plus forward jumps of the leader's "
          "clock within two session timeouts; allowed " +
          std::to_string((allowed_us - expired_at_us_) / 1000) +
          " ms): it saw itself connected with no Disconnected in between");
}

void SimClient::handle_connect_response(const Bytes& bytes) {
  if (state_ != State::connecting) {
    host_.client_violation("client_protocol", "client " + std::to_string(index_) +
                                                  " got a connect response while connected");
    return;
  }
  CapnpReader reader(bytes.data(), bytes.size(), 1u << 26);
  auto r = reader.root<proto::ServerMessage>().getConnectResponse();
  const std::int32_t err = r.getErr();
  if (err == 0) {
    if (r.getSessionId() != session_) {  // a new session: its watches start empty
      session_ = r.getSessionId();
      armed_.clear();
      ++sessions_;
    }
    auto pw = r.getPasswd();
    passwd_.assign(pw.begin(), pw.end());
    // The server's applied zxid is checked, not adopted: only replies advance what the
    // client has seen (notifications for later txns were never sent to it).
    check_zxid(static_cast<Zxid>(r.getLastZxid()), "connect response");
    check_not_expired("connect response");
    state_ = State::connected;
    last_recv_us_ = last_send_us_ = host_.now_us();
    host_.trace({host_.now_us(), "connected", node_, static_cast<std::uint64_t>(index_), conn_, 0,
                 "session " + hex(static_cast<std::uint64_t>(session_))});
    if (!armed_.empty()) send_set_watches();
    maybe_issue();
    return;
  }
  if (err == kSessionExpired) {
    host_.trace({host_.now_us(), "expired", node_, static_cast<std::uint64_t>(index_), conn_, 0,
                 "session " + hex(static_cast<std::uint64_t>(session_))});
    session_ = 0;
    std::fill(passwd_.begin(), passwd_.end(), 0);
    armed_.clear();
  }
  lose_connection("connect refused (err " + std::to_string(err) + "): " + r.getMessage().cStr());
  if (err == kSessionExpired) reconnect_at_us_ = host_.now_us();
}

void SimClient::handle_response(const Bytes& bytes) {
  CapnpReader reader(bytes.data(), bytes.size(), 1u << 26);
  auto r = reader.root<proto::ServerMessage>().getResponse();
  const std::int32_t xid = r.getXid();
  check_not_expired(xid == kPingXid ? "ping reply" : "reply");
  if (xid == kPingXid) {
    check_zxid(static_cast<Zxid>(r.getZxid()), "ping reply");
    last_zxid_ = std::max(last_zxid_, static_cast<Zxid>(r.getZxid()));
    return;
  }
  if (pending_.empty() || pending_.front().xid != xid) {
    host_.client_violation(
        "session_fifo", "client " + std::to_string(index_) + " (session " +
                            hex(static_cast<std::uint64_t>(session_)) + ") got the reply to xid " +
                            std::to_string(xid) + " while the oldest request is " +
                            (pending_.empty() ? std::string("none")
                                              : "xid " + std::to_string(pending_.front().xid)));
    return;
  }
  Req req = pending_.front();
  pending_.pop_front();
  // A read's (or sync's) zxid is the state it was served at: never older than anything the
  // client saw. A write's is its txn's position, which may precede a state an earlier
  // barrier read was served at (that read completed after this write applied).
  const bool write = req.kind == ReqKind::op && is_write(host_.history().ops[req.op].kind);
  if (!write) check_zxid(static_cast<Zxid>(r.getZxid()), "reply");
  last_zxid_ = std::max(last_zxid_, static_cast<Zxid>(r.getZxid()));
  if (req.kind == ReqKind::op) complete_op(req, bytes);
  maybe_issue();
}

void SimClient::complete_op(Req& req, const Bytes& bytes) {
  CapnpReader reader(bytes.data(), bytes.size(), 1u << 26);
  auto r = reader.root<proto::ServerMessage>().getResponse();
  HistoryOp& op = host_.history().ops[req.op];
  op.complete_us = host_.now_us();
  op.err = r.getErr();
  op.zxid = static_cast<Zxid>(r.getZxid());
  auto body = r.getBody();
  bool revealed = false;
  const bool ok = op.err == zerr::ok;
  switch (op.kind) {
    case OpKind::get:
      if (ok && body.isData()) {
        auto d = body.getData().getData();
        op.observed =
            from_stat(body.getData().getStat(),
                      config_.throughput.enabled ? std::string() : std::string(d.begin(), d.end()));
      }
      revealed = ok || op.err == zerr::no_node;
      break;
    case OpKind::exists:
      if (ok && body.isStat()) op.observed = from_stat(body.getStat(), "");
      revealed = ok || op.err == zerr::no_node;
      break;
    case OpKind::create:
      if (ok && body.isCreated()) op.observed = from_stat(body.getCreated().getStat(), op.data);
      revealed = ok;
      break;
    case OpKind::set:
      if (ok && body.isStat()) op.observed = from_stat(body.getStat(), op.data);
      revealed = ok;
      break;
    case OpKind::remove:
      revealed = ok;
      break;
    case OpKind::sync:
      break;
  }
  if (config_.throughput.enabled && op.kind == OpKind::create) --bench_creates_pending_;
  if (is_write(op.kind)) {
    last_definite_write_invoke_us_ = std::max(last_definite_write_invoke_us_, op.invoke_us);
    if (ok) max_acked_zxid_ = std::max(max_acked_zxid_, op.zxid);
  }
  if (revealed) {
    check_watch(op.key, op.observed, op);
    if (op.observed.exists)
      known_version_[op.key] = op.observed.version;
    else
      known_version_.erase(op.key);
    if (op.watch && op.kind == OpKind::get && ok) armed_[op.key] = Armed{false, op.observed};
    if (op.watch && op.kind == OpKind::exists) armed_[op.key] = Armed{!ok, op.observed};
  }
  host_.trace({op.complete_us, "complete", node_, static_cast<std::uint64_t>(index_), op.id,
               op.zxid, op.to_string()});
}

void SimClient::check_watch(const std::string& key, const ZnodeState& seen, const HistoryOp& op) {
  auto it = armed_.find(key);
  if (it == armed_.end() || same_version(it->second.seen, seen)) return;
  host_.client_violation("watch_before_data",
                         "client " + std::to_string(index_) + " left a watch on " + key +
                             " when it was " + it->second.seen.to_string() + ", then saw it as " +
                             seen.to_string() + " in the reply to " + op.to_string() +
                             " without a notification first");
}

void SimClient::handle_notification(const std::string& path) {
  armed_.erase(path);
}

}  // namespace quorumlab::sim
