// The client front-end: the native protocol (Cap'n Proto over ZeroMQ), into which the ZooKeeper
// wire front-end (kernel/zkwire) translates, so both share one request type. Connect and
// reconnect (with revalidation and read-only sessions), per-session request queues with replies
// in request order, the serving rule (only within a quorum), replies to applied txns and watch
// notifications. Reads and barriers go to read_path.cpp, txns to replica.cpp.
#include <algorithm>

#include "internal.hpp"
#include "ops.hpp"
#include "quorumlab/log.hpp"

namespace quorumlab::node {

namespace {

std::string host_of(const std::string& address) {
  // ZeroMQ gives "a.b.c.d" (IPv4) or the IPv6 text without brackets; strip any port.
  auto colon = address.rfind(':');
  if (colon != std::string::npos && address.find(':') == colon) return address.substr(0, colon);
  return address;
}

}  // namespace

Bytes session_password(SessionId id) {
  // Any server can recompute it: a keyed expansion of the session id through SplitMix64.
  std::uint64_t state = static_cast<std::uint64_t>(id) ^ 0x7a6b5c4d3e2f1a0bULL;
  Bytes out(16);
  for (int half = 0; half < 2; ++half) {
    std::uint64_t v = splitmix64(state);
    for (int i = 0; i < 8; ++i)
      out[half * 8 + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  return out;
}

bool Node::serves_clients() const {
  if (options_.test_serve_without_quorum) return true;  // test-only fault: see NodeOptions
  const BroadcastStatus& s = last_status_;
  // A leader serves once it may propose (zab: a quorum acknowledged NEWLEADER, when
  // ZooKeeper's leader starts its server), and goes LOOKING when it has not heard from a
  // quorum for sync_limit_ticks; a learner reports its leader only while it follows one (it
  // goes LOOKING when it hears nothing from it for sync_limit_ticks).
  if (s.role == Role::leader) return s.can_propose;
  return s.leader != 0 && (s.role == Role::follower || s.role == Role::learner);
}

std::string Node::not_serving_reason() const {
  return fmt::format(
      "server {} is not part of a working quorum ({}, leader {}); try another "
      "server",
      config_.id(), to_string(last_status_.role), last_status_.leader);
}

void Node::send_to(Connection& c, Bytes bytes) {
  // Cut client links (a fault rule) answer nothing to a session; status probes and admin
  // requests come on connections without one.
  if (clients_cut_ && c.session != 0) return;
  env_.send_client(c.id, std::move(bytes));
}

void Node::drop_connection(ConnId conn, const std::string& reason) {
  auto it = connections_.find(conn);
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  log_->debug("closing connection {} (session {:#x}): {}", conn, c.session, reason);
  capnp::MallocMessageBuilder msg;
  msg.initRoot<proto::ServerMessage>().setClosing(reason);
  send_to(c, to_bytes(msg));
  env_.close_client(conn);
  forget_connection(it);
}

void Node::on_client_closed(ConnId conn) {
  auto it = connections_.find(conn);
  if (it == connections_.end()) return;
  log_->debug("connection {} (session {:#x}) closed by the client", conn, it->second->session);
  // As ZooKeeper's NIOServerCnxn.close: the connection's watches go, the session stays until
  // it expires or the client moves it to another connection.
  forget_connection(it);
}

void Node::forget_connection(std::unordered_map<ConnId, std::unique_ptr<Connection>>::iterator it) {
  const ConnId conn = it->first;
  watches_.remove_connection(conn);
  auto s = conn_by_session_.find(it->second->session);
  if (s != conn_by_session_.end() && s->second == conn) conn_by_session_.erase(s);
  for (auto b = conn_by_barrier_.begin(); b != conn_by_barrier_.end();) {
    b = b->second.conn == conn ? conn_by_barrier_.erase(b) : std::next(b);
  }
  connections_.erase(it);
}

void Node::protocol_error(Connection& c, const std::string& reason) {
  ++stats_.protocol_errors;
  log_->warn("client connection {} ({}): {}; closing it", c.id, c.address, reason);
  drop_connection(c.id, reason);
}

void Node::on_client_message(ConnId conn, const std::uint8_t* data, std::size_t size,
                             const std::string& peer_address) {
  auto& slot = connections_[conn];
  const bool fresh = !slot;
  if (!slot) {
    slot = std::make_unique<Connection>();
    slot->id = conn;
    slot->address = peer_address;
    if (!peer_address.empty()) slot->auth.ids.push_back({"ip", host_of(peer_address)});
  }
  Connection& c = *slot;
  try {
    CapnpReader reader(data, size, received_traversal_words(size, kClientTraversalWords));
    // Checked whole now: a request may be queued and its fields read later, where a malformed
    // pointer would throw out of the node instead of closing this connection.
    auto msg = well_formed_root<proto::ClientMessage>(reader);
    if (clients_cut_ && !msg.isStatus() && !msg.isTransfer() && !msg.isNetRules()) {
      // The client links are cut (a fault rule): the message is lost, as in a partition
      // between this server and its clients; the client times out and moves elsewhere.
      if (fresh) connections_.erase(conn);
      return;
    }
    switch (msg.which()) {
      case proto::ClientMessage::CONNECT:
        if (c.session != 0) return protocol_error(c, "connect on a connection that has a session");
        return handle_connect(c, data, size);
      case proto::ClientMessage::STATUS:
        send_to(c, status_message());
        if (c.session == 0) {  // a monitoring probe, not a session: forget the connection
          env_.close_client(c.id);
          connections_.erase(conn);
        }
        return;
      case proto::ClientMessage::TRANSFER:
      case proto::ClientMessage::NET_RULES:
        if (msg.isTransfer()) {
          send_to(c, transfer_message(msg.getTransfer()));
        } else {
          const auto in = msg.getNetRules();
          FaultRules rules;
          for (auto r : in.getRules()) {
            rules.links.push_back(
                NetRule{r.getPeer(), r.getDropPct(), r.getDelayMs(), r.getJitterMs()});
          }
          rules.disk_delay_ms = in.getDiskDelayMs();
          rules.clock_skew_ppm = in.getClockSkewPpm();
          rules.clients_cut = in.getClientsCut();
          send_to(c, net_rules_message(rules));
        }
        if (c.session == 0) {  // an admin request, not a session
          env_.close_client(c.id);
          connections_.erase(conn);
        }
        return;
      case proto::ClientMessage::REQUEST:
        if (c.session == 0 || c.connecting) {
          return protocol_error(c, "request before the session was established");
        }
        return handle_request(c, data, size);
      default:
        return protocol_error(c, "unknown client message type");
    }
  } catch (const kj::Exception& e) {
    protocol_error(c, std::string("malformed message: ") + e.getDescription().cStr());
  }
}

void Node::handle_connect(Connection& c, const std::uint8_t* data, std::size_t size) {
  CapnpReader reader(data, size, kClientTraversalWords);
  auto req = reader.root<proto::ClientMessage>().getConnect();
  const bool read_only_session = !serves_clients() && read_only() && req.getReadOnly();
  if (!serves_clients() && !read_only_session) {
    // As a ZooKeeper server that is not running (no quorum): the client tries another server.
    return finish_connect(c, sm::Err::CONNECTIONLOSS, not_serving_reason());
  }
  c.timeout_ms = static_cast<std::int32_t>(std::clamp<std::int64_t>(
      req.getTimeoutMs(), config_.settings.get_int("min_session_timeout_ms"),
      config_.settings.get_int("max_session_timeout_ms")));
  const auto last_seen = static_cast<Zxid>(req.getLastZxidSeen());
  if (last_seen > applied_zxid_) {
    return finish_connect(c, sm::Err::CONNECTIONLOSS,
                          fmt::format("server {} is behind: the client has seen zxid {:#x}, the "
                                      "server has applied {:#x}; try another server",
                                      config_.id(), last_seen, applied_zxid_));
  }
  const SessionId id = req.getSessionId();
  if (read_only_session) {
    auto pw = req.getPasswd();
    Bytes expected = session_password(id);
    return connect_read_only(
        c, id, pw.size() == expected.size() && std::equal(pw.begin(), pw.end(), expected.begin()));
  }
  if (id == 0) {
    c.session = next_session_id_++;
    c.connecting = true;
    conn_by_session_[c.session] = c.id;
    if (!submit_client_txn(make_txn(c.session, sm::CreateSessionOp{c.session, c.timeout_ms}))) {
      conn_by_session_.erase(c.session);
      c.session = 0;
      return finish_connect(c, sm::Err::CONNECTIONLOSS, waiting_txns_full());
    }
    return;
  }
  // ZooKeeper closes the connection that holds the session before it checks the password
  // (processConnectRequest: closeSession(sessionId, CLIENT_RECONNECT)), so a reattach with a
  // wrong password is answered as expired and also costs the holder its connection; the
  // session itself lives on.
  auto old = conn_by_session_.find(id);
  if (old != conn_by_session_.end() && old->second != c.id) {
    drop_connection(old->second, "session moved to another connection");
  }
  auto pw = req.getPasswd();
  Bytes expected = session_password(id);
  if (!tree_.has_session(id) || pw.size() != expected.size() ||
      !std::equal(pw.begin(), pw.end(), expected.begin())) {
    c.session = 0;
    return finish_connect(c, sm::Err::SESSIONEXPIRED,
                          fmt::format("session {:#x} is expired or unknown", id));
  }
  if (last_status_.role != Role::leader) {
    // As ZooKeeper's learner (revalidateSession): this tree may still hold a session the
    // leader has just expired; the leader's tracker decides. The answer comes back in
    // on_revalidated; a leader change meanwhile closes the connection (see on_status_change).
    c.session = id;
    c.connecting = true;
    c.revalidating = true;
    capnp::MallocMessageBuilder msg;
    auto env = msg.initRoot<proto::PeerEnvelope>();
    env.setFrom(config_.id());
    auto list = env.initRevalidate(1);
    list[0].setSessionId(id);
    list[0].setTimeoutMs(c.timeout_ms);
    env_.send_peer(last_status_.leader, to_bytes(msg));
    return;
  }
  if (!session_alive(id)) {
    c.session = 0;
    return finish_connect(c, sm::Err::SESSIONEXPIRED, fmt::format("session {:#x} is expired", id));
  }
  resume_session(c, id);
}

bool Node::read_only() const {
  return !serves_clients() && config_.settings.get_bool("read_only_mode");
}

void Node::connect_read_only(Connection& c, SessionId id, bool password_ok) {
  // As ZooKeeper's ReadOnlyZooKeeperServer: a new session is local to this server (the
  // ensemble never hears of it); a known session is served read-only while it lasts here.
  // Either ends when this server rejoins a quorum (see on_status_change).
  c.read_only = true;
  if (id == 0) {
    c.session = next_session_id_++;
  } else if (!password_ok || !tree_.has_session(id)) {
    c.session = 0;
    return finish_connect(c, sm::Err::SESSIONEXPIRED,
                          fmt::format("session {:#x} is expired or unknown", id));
  } else {
    auto old = conn_by_session_.find(id);
    if (old != conn_by_session_.end() && old->second != c.id) {
      drop_connection(old->second, "session moved to another connection");
    }
    c.session = id;
  }
  conn_by_session_[c.session] = c.id;
  watches_.set_auth(c.id, c.auth);
  finish_connect(c, sm::Err::OK, "");
}

void Node::on_revalidated(SessionId id, bool valid) {
  std::vector<ConnId> waiting;
  for (const auto& [cid, c] : connections_) {
    if (c->revalidating && c->session == id) waiting.push_back(cid);
  }
  std::sort(waiting.begin(), waiting.end());
  for (ConnId cid : waiting) {
    auto it = connections_.find(cid);
    if (it == connections_.end()) continue;
    Connection& c = *it->second;
    c.revalidating = false;
    if (valid) {
      resume_session(c, id);
    } else {
      c.session = 0;
      finish_connect(c, sm::Err::SESSIONEXPIRED,
                     fmt::format("session {:#x} is expired (the leader says so)", id));
    }
  }
}

void Node::resume_session(Connection& c, SessionId id) {
  auto old = conn_by_session_.find(id);
  if (old != conn_by_session_.end() && old->second != c.id) {
    drop_connection(old->second, "session moved to another connection");
  }
  c.session = id;
  conn_by_session_[id] = c.id;
  watches_.set_auth(c.id, c.auth);
  if (last_status_.role != Role::leader) touched_[id] = c.timeout_ms;
  finish_connect(c, sm::Err::OK, "");
}

void Node::finish_connect(Connection& c, sm::Err err, const std::string& message) {
  capnp::MallocMessageBuilder msg;
  auto r = msg.initRoot<proto::ServerMessage>().initConnectResponse();
  r.setErr(sm::err_code(err));
  r.setServerId(config_.id());
  r.setLastZxid(static_cast<std::int64_t>(applied_zxid_));
  r.setMessage(message);
  if (err == sm::Err::OK) {
    r.setReadOnly(c.read_only);
    r.setTimeoutMs(c.timeout_ms);
    r.setSessionId(c.session);
    Bytes pw = session_password(c.session);
    r.setPasswd(kj::arrayPtr(pw.data(), pw.size()));
  } else {
    Bytes zero(16, 0);
    r.setPasswd(kj::arrayPtr(zero.data(), zero.size()));
  }
  c.connecting = false;
  send_to(c, to_bytes(msg));
  if (err != sm::Err::OK) {
    log_->info("refused connection {} ({}): {}", c.id, c.address, message);
    ConnId id = c.id;
    watches_.remove_connection(id);
    env_.close_client(id);
    connections_.erase(id);
  }
}

void Node::handle_request(Connection& c, const std::uint8_t* data, std::size_t size) {
  if (!serves_clients() && !c.read_only) {
    // Not reached in practice: on_status_change closed every connection when this server
    // left the quorum, and connects are refused until it rejoins. Never answer (a ping
    // least of all): the client must see Disconnected before its session can expire.
    return drop_connection(c.id, not_serving_reason());
  }
  auto reader = std::make_unique<CapnpReader>(data, size, kClientTraversalWords);
  auto req = reader->root<proto::ClientMessage>().getRequest();
  ++stats_.requests;
  if (c.read_only) {
    // Touches of a read-only session reach no leader: the ensemble's sessions are not kept
    // alive from outside a quorum.
  } else if (last_status_.role == Role::leader) {
    sessions_.touch(c.session, env_.now_ms());
  } else {
    touched_[c.session] = c.timeout_ms;
  }

  if (req.getOp().which() == proto::Request::Op::PING) {
    // Pings are answered at once, outside the request order (ZooKeeper's xid -2).
    capnp::MallocMessageBuilder msg;
    auto r = msg.initRoot<proto::ServerMessage>().initResponse();
    r.setXid(-2);
    r.setZxid(static_cast<std::int64_t>(applied_zxid_));
    send_to(c, to_bytes(msg));
    return;
  }
  if (c.queue.size() >= kMaxPendingPerConnection) {
    return protocol_error(c,
                          fmt::format("more than {} requests in flight", kMaxPendingPerConnection));
  }
  Pending p;
  p.xid = req.getXid();
  sm::TxnOp op;
  sm::Err err = sm::Err::OK;
  const bool is_write = write_op_from_request(req, &op, &err) || err != sm::Err::OK;
  if (c.read_only && req.getOp().which() == proto::Request::Op::CLOSE_SESSION) {
    // A local close: nothing to commit (ZooKeeper's read-only server closes it itself).
    p.done = true;
    p.response = error_response(p.xid, applied_zxid_, sm::Err::OK);
    c.queue.push_back(std::move(p));
    c.closing = true;
    return flush_connection(c);
  }
  if (c.read_only && (is_write || req.getOp().which() == proto::Request::Op::SYNC)) {
    // As ZooKeeper's ReadOnlyRequestProcessor: writes and sync get NOTREADONLY.
    p.done = true;
    p.response = error_response(p.xid, applied_zxid_, sm::Err::NOTREADONLY);
    c.queue.push_back(std::move(p));
    return flush_connection(c);
  }
  if (is_write && err == sm::Err::OK) {
    p.kind = PendingKind::write;
    sm::Txn txn = make_txn(c.session, std::move(op), p.xid);
    txn.header.auth = c.auth;  // the tree checks ACLs against the request's identities
    return enqueue_txn(c, std::move(p), std::move(txn));
  }
  if (err != sm::Err::OK) {  // a write that cannot become a txn (e.g. mixed multi)
    p.done = true;
    p.response = error_response(p.xid, applied_zxid_, err);
    c.queue.push_back(std::move(p));
    return flush_connection(c);
  }
  switch (req.getOp().which()) {
    case proto::Request::Op::CLOSE_SESSION: {
      p.kind = PendingKind::close;
      return enqueue_txn(c, std::move(p),
                         make_txn(c.session, sm::CloseSessionOp{c.session}, p.xid));
    }
    case proto::Request::Op::SYNC:
      p.kind = PendingKind::sync_op;
      p.request = std::move(reader);
      return start_barrier(c, std::move(p), BarrierKind::sync_op);
    case proto::Request::Op::ADD_AUTH:
    case proto::Request::Op::SET_WATCHES:
    case proto::Request::Op::WHO_AM_I:
    case proto::Request::Op::CHECK_WATCHES:
    case proto::Request::Op::REMOVE_WATCHES:
    case proto::Request::Op::ADD_WATCH:
      p.kind = PendingKind::local;
      p.request = std::move(reader);
      c.queue.push_back(std::move(p));
      return flush_connection(c);
    default:
      break;
  }
  if (!is_read_op(req)) {
    p.done = true;
    p.response = error_response(p.xid, applied_zxid_, sm::Err::UNIMPLEMENTED);
    c.queue.push_back(std::move(p));
    return flush_connection(c);
  }
  p.request = std::move(reader);
  start_read(c, std::move(p));
}

void Node::flush_connection(Connection& c) {
  while (!c.queue.empty()) {
    Pending& p = c.queue.front();
    if (!p.done && (p.kind == PendingKind::write || p.kind == PendingKind::close)) break;
    if (!p.done && !try_complete_read(c, p)) break;
    send_to(c, std::move(p.response));
    c.queue.pop_front();
  }
  if (c.closing && c.queue.empty()) drop_connection(c.id, "session closed");
}

void Node::deliver_notifications(const std::vector<sm::WatchTrigger>& triggers) {
  if (triggers.empty()) return;
  for (const auto& n : watches_.fire(triggers)) {
    auto it = connections_.find(n.conn);
    if (it == connections_.end()) continue;
    capnp::MallocMessageBuilder msg;
    auto w = msg.initRoot<proto::ServerMessage>().initNotification();
    w.setType(static_cast<std::int32_t>(n.type));
    w.setState(3);
    w.setPath(n.path);
    w.setZxid(static_cast<std::int64_t>(n.zxid));
    send_to(*it->second, to_bytes(msg));
    ++stats_.notifications;
  }
}

void Node::after_apply(const sm::Txn& txn, const sm::TxnResult& result, Zxid zxid) {
  track_session_txn(txn);
  const SessionId sid = txn.header.session_id;
  if (auto* cs = std::get_if<sm::CreateSessionOp>(&txn.op)) {
    auto it = conn_by_session_.find(cs->session_id);
    if (it == conn_by_session_.end()) return;
    auto c = connections_.find(it->second);
    if (c != connections_.end() && c->second->connecting) {
      watches_.set_auth(c->second->id, c->second->auth);
      finish_connect(*c->second, result.err, "");
    }
    return;
  }
  const bool is_close = std::holds_alternative<sm::CloseSessionOp>(txn.op);
  auto it = conn_by_session_.find(sid);
  if (it == conn_by_session_.end()) return;
  auto cit = connections_.find(it->second);
  if (cit == connections_.end()) return;
  Connection& c = *cit->second;
  for (auto& p : c.queue) {
    if (p.done || p.xid != txn.header.cxid) continue;
    if (p.kind == PendingKind::write) {
      p.response = write_response(p.xid, zxid, result);
      p.done = true;
      break;
    }
    if (p.kind == PendingKind::close && is_close) {
      p.response = error_response(p.xid, zxid, sm::Err::OK);
      p.done = true;
      c.closing = true;
      break;
    }
  }
  if (is_close && !c.closing) return drop_connection(c.id, "session expired");
  flush_connection(c);
}

void Node::on_serving_change(const BroadcastStatus& old, bool was_serving) {
  const BroadcastStatus& s = last_status_;
  if (old.leader != 0 && s.leader != old.leader) {
    // Requests forwarded to the old leader may be lost: fail them as ZooKeeper does, by
    // closing the connections that wait on the write path (a createSession included: its
    // client would otherwise wait out its connect timeout); clients reconnect and retry.
    std::vector<ConnId> drop;
    for (auto& [id, c] : connections_) {
      if (c->connecting) {
        drop.push_back(id);
        continue;
      }
      for (auto& p : c->queue) {
        if (!p.done && p.kind != PendingKind::read && p.kind != PendingKind::local) {
          drop.push_back(id);
          break;
        }
      }
    }
    for (ConnId id : drop)
      drop_connection(id, "leader changed while requests were pending");
  }
  if (was_serving && !serves_clients()) {
    // As ZooKeeper, whose server closes every client connection when it leaves FOLLOWING or
    // LEADING: the clients see Disconnected at once (well before the majority can expire
    // their sessions) and reconnect to a server of the quorum, keeping their sessions.
    // Connects are refused and nothing is answered until this server rejoins a quorum. (The
    // connections waiting on the write path were closed above, with that reason.)
    std::vector<ConnId> all;
    for (const auto& [id, c] : connections_)
      all.push_back(id);
    std::sort(all.begin(), all.end());
    const std::string reason = not_serving_reason();
    for (ConnId id : all)
      drop_connection(id, reason);
    // Their writes that wait here for a leader go too, as a ZooKeeper follower drops what it
    // has not passed to a leader when it stops following: the disconnected clients retry them,
    // and applying the kept copy later as well would apply a write twice (found as a queue
    // entry put twice across a leader kill).
    if (!to_propose_.empty()) {
      log_->info("node {}: dropped {} txn(s) waiting for a leader; their clients retry them",
                 config_.id(), to_propose_.size());
      to_propose_.clear();
    }
  }
  if (!was_serving && serves_clients()) {
    // Back in a quorum: its read-only sessions end, as ZooKeeper shuts its read-only server
    // down; their clients reconnect for read-write sessions.
    std::vector<ConnId> ro;
    for (const auto& [id, c] : connections_) {
      if (c->read_only) ro.push_back(id);
    }
    std::sort(ro.begin(), ro.end());
    for (ConnId id : ro)
      drop_connection(
          id, fmt::format("server {} rejoined a quorum: its read-only sessions end", config_.id()));
  }
}

}  // namespace quorumlab::node
