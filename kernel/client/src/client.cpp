// The public Client API: builds each request (chroot applied, paths checked) on the caller's
// thread and hands it to the I/O thread with a decoder for its reply.
#include "quorumlab/client/client.hpp"

#include <cstdio>
#include <cstdlib>

#include "client_impl.hpp"

namespace quorumlab::client {

using detail::Decoder;
using detail::OpKind;
using detail::Request;
using Body = proto::Response::Body;
using Reader = proto::Response::Reader;

namespace {

constexpr std::int64_t kMaxTtlMs = (std::int64_t{1} << 40) - 1;

/// A decoder for replies whose body must be `which`; `f` reads the body.
template <class T, class F>
Decoder<T> body_decoder(Body::Which which, F f) {
  return [which, f](Error err, const Reader* r) -> Result<T> {
    if (err != Error::OK || r == nullptr) return {err, T{}};
    if (r->getBody().which() != which) return {Error::MARSHALLINGERROR, T{}};
    return {Error::OK, f(r->getBody())};
  };
}

Decoder<None> none_decoder() {
  return [](Error err, const Reader*) -> Result<None> { return {err, None{}}; };
}

Decoder<Stat> stat_decoder(bool allow_empty) {
  return [allow_empty](Error err, const Reader* r) -> Result<Stat> {
    if (err != Error::OK || r == nullptr) return {err, Stat{}};
    auto body = r->getBody();
    if (body.which() == Body::STAT) return {Error::OK, detail::read_stat(body.getStat())};
    if (allow_empty && body.which() == Body::NONE) return {Error::OK, Stat{}};
    return {Error::MARSHALLINGERROR, Stat{}};
  };
}

std::vector<std::string> read_texts(capnp::List<capnp::Text>::Reader list) {
  std::vector<std::string> out;
  out.reserve(list.size());
  for (auto t : list)
    out.push_back(detail::to_std(t));
  return out;
}

Decoder<std::vector<OpResult>> multi_decoder(const ConnectString* cs, bool first_error) {
  return [cs, first_error](Error err, const Reader* r) -> Result<std::vector<OpResult>> {
    if (r == nullptr) return {err, {}};
    auto body = r->getBody();
    if (body.which() != Body::MULTI) {
      return {err == Error::OK ? Error::MARSHALLINGERROR : err, {}};
    }
    Result<std::vector<OpResult>> out{err, {}};
    for (auto op : body.getMulti()) {
      OpResult res;
      res.err = static_cast<Error>(op.getErr());
      auto b = op.getBody();
      switch (b.which()) {
        case proto::OpResult::Body::CREATED:
          res.path = cs->to_client(detail::to_std(b.getCreated().getPath()));
          res.stat = detail::read_stat(b.getCreated().getStat());
          break;
        case proto::OpResult::Body::STAT:
          res.stat = detail::read_stat(b.getStat());
          break;
        case proto::OpResult::Body::DATA:
          res.data = detail::to_std(b.getData().getData());
          res.stat = detail::read_stat(b.getData().getStat());
          break;
        case proto::OpResult::Body::CHILDREN:
          res.children = read_texts(b.getChildren().getChildren());
          res.stat = detail::read_stat(b.getChildren().getStat());
          break;
        default:
          break;
      }
      if (first_error && out.err == Error::OK && res.err != Error::OK) out.err = res.err;
      out.value.push_back(std::move(res));
    }
    return out;
  };
}

template <class T>
std::unique_ptr<detail::Completion> callback_completion(Decoder<T> decode, Callback<T> done) {
  return std::make_unique<detail::TypedCompletion<T>>(std::move(decode), std::move(done), false);
}

}  // namespace

/// Request construction on top of the I/O core.
class Client::Impl : public detail::ClientCore {
 public:
  using ClientCore::ClientCore;

  /// A request for `path`, failing locally with BADARGUMENTS when the path breaks ZooKeeper's
  /// rules (then local_error is set and nothing is to be built).
  static Request request(OpKind kind, const std::string& path, bool sequential = false) {
    Request r;
    r.kind = kind;
    r.path = path;
    if (!validate_path(path, sequential).empty()) r.local_error = Error::BADARGUMENTS;
    return r;
  }

  static void seal(Request& r, detail::RequestWriter& w) {
    r.payload = w.seal();
    r.has_payload = true;
  }

  std::size_t path_bytes(const std::string& path) const {
    return path.size() + connect_string().chroot.size();
  }

  capnp::Text::Reader server_path(const std::string& path, std::string* storage) const {
    *storage = connect_string().to_server(path);
    return detail::text(*storage);
  }

  template <class T>
  void run(Request r, Decoder<T> decode, Callback<T> done) {
    r.completion = callback_completion<T>(std::move(decode), std::move(done));
    submit(std::move(r));
  }

  template <class T>
  std::future<Result<T>> run_future(Request r, Decoder<T> decode) {
    auto promise = std::make_shared<std::promise<Result<T>>>();
    auto future = promise->get_future();
    r.completion = std::make_unique<detail::TypedCompletion<T>>(
        std::move(decode), [promise](Result<T> res) { promise->set_value(std::move(res)); },
        on_event_thread());
    submit(std::move(r));
    return future;
  }

  Request make_create(const std::string& path, const std::string& data, CreateMode mode,
                      const AclList& acl, std::int64_t ttl_ms) {
    Request r = request(OpKind::kCreate, path, is_sequential(mode));
    if (r.local_error != Error::OK) return r;
    bool ttl_ok = is_ttl(mode) ? ttl_ms > 0 && ttl_ms <= kMaxTtlMs : ttl_ms == 0;
    int m = static_cast<int>(mode);
    if (!ttl_ok || m < 0 || m > 6) return local_failure(std::move(r), Error::BADARGUMENTS);
    if (acl.empty()) return local_failure(std::move(r), Error::INVALIDACL);
    detail::RequestWriter w(data.size() + acl.size() * 32 + path_bytes(path));
    auto c = w.op().initCreate();
    std::string sp;
    c.setPath(server_path(path, &sp));
    c.setData(detail::bytes(data));
    detail::write_acl(c.initAcl(static_cast<unsigned>(acl.size())), acl);
    c.setMode(m);
    c.setTtlMs(ttl_ms);
    seal(r, w);
    return r;
  }

  Decoder<Created> created_decoder() const {
    const ConnectString* cs = &connect_string();
    return body_decoder<Created>(Body::CREATED, [cs](Body::Reader b) {
      return Created{cs->to_client(detail::to_std(b.getCreated().getPath())),
                     detail::read_stat(b.getCreated().getStat())};
    });
  }

  Request make_path_version(OpKind kind, const std::string& path, std::int32_t version) {
    Request r = request(kind, path);
    if (r.local_error != Error::OK) return r;
    detail::RequestWriter w(path_bytes(path));
    auto pv = kind == OpKind::kDelete ? w.op().initDelete() : w.op().initCheck();
    std::string sp;
    pv.setPath(server_path(path, &sp));
    pv.setVersion(version);
    seal(r, w);
    return r;
  }

  Request make_path_watch(OpKind kind, const std::string& path, Watcher watcher) {
    Request r = request(kind, path);
    if (r.local_error != Error::OK) return r;
    detail::RequestWriter w(path_bytes(path));
    auto o = w.op();
    auto pw = kind == OpKind::kExists    ? o.initExists()
              : kind == OpKind::kGetData ? o.initGetData()
                                         : o.initGetChildren();
    std::string sp;
    pw.setPath(server_path(path, &sp));
    pw.setWatch(static_cast<bool>(watcher));
    r.watcher = std::move(watcher);
    seal(r, w);
    return r;
  }

  Request make_set_data(const std::string& path, const std::string& data, std::int32_t version) {
    Request r = request(OpKind::kSetData, path);
    if (r.local_error != Error::OK) return r;
    detail::RequestWriter w(data.size() + path_bytes(path));
    auto s = w.op().initSetData();
    std::string sp;
    s.setPath(server_path(path, &sp));
    s.setData(detail::bytes(data));
    s.setVersion(version);
    seal(r, w);
    return r;
  }

  Request make_text_op(OpKind kind, const std::string& path) {
    Request r = request(kind, path);
    if (r.local_error != Error::OK) return r;
    detail::RequestWriter w(path_bytes(path));
    std::string sp;
    auto t = server_path(path, &sp);
    auto o = w.op();
    switch (kind) {
      case OpKind::kGetAcl:
        o.setGetAcl(t);
        break;
      case OpKind::kSyncOp:
        o.setSync(t);
        break;
      case OpKind::kGetAllChildrenNumber:
        o.setGetAllChildrenNumber(t);
        break;
      default:
        break;
    }
    seal(r, w);
    return r;
  }

  Request make_set_acl(const std::string& path, const AclList& acl, std::int32_t version) {
    Request r = request(OpKind::kSetAcl, path);
    if (r.local_error != Error::OK) return r;
    if (acl.empty()) return local_failure(std::move(r), Error::INVALIDACL);
    detail::RequestWriter w(acl.size() * 32 + path_bytes(path));
    auto s = w.op().initSetAcl();
    std::string sp;
    s.setPath(server_path(path, &sp));
    detail::write_acl(s.initAcl(static_cast<unsigned>(acl.size())), acl);
    s.setVersion(version);
    seal(r, w);
    return r;
  }

  Request make_multi(const std::vector<Op>& ops, bool read) {
    Request r;
    r.kind = read ? OpKind::kMultiRead : OpKind::kMulti;
    if (ops.empty()) return r;  // no message, local_error OK: an empty multi succeeds locally
    std::size_t payload = 0;
    for (const auto& o : ops) {
      bool sequential = o.kind == Op::Kind::kCreate && is_sequential(o.mode);
      if (o.is_read() != read || !validate_path(o.path, sequential).empty()) {
        return local_failure(std::move(r), Error::BADARGUMENTS);
      }
      if (o.kind == Op::Kind::kCreate && o.acl.empty()) {
        return local_failure(std::move(r), Error::INVALIDACL);
      }
      payload += path_bytes(o.path) + o.data.size() + o.acl.size() * 32 + 64;
    }
    detail::RequestWriter w(payload);
    auto list = read ? w.op().initMultiRead(static_cast<unsigned>(ops.size()))
                     : w.op().initMulti(static_cast<unsigned>(ops.size()));
    for (unsigned i = 0; i < ops.size(); ++i)
      write_multi_op(list[i], ops[i]);
    seal(r, w);
    return r;
  }

  void write_multi_op(proto::MultiOp::Builder b, const Op& o) const {
    std::string sp = connect_string().to_server(o.path);
    switch (o.kind) {
      case Op::Kind::kCreate: {
        auto c = b.initCreate();
        c.setPath(detail::text(sp));
        c.setData(detail::bytes(o.data));
        detail::write_acl(c.initAcl(static_cast<unsigned>(o.acl.size())), o.acl);
        c.setMode(static_cast<std::int32_t>(o.mode));
        c.setTtlMs(o.ttl_ms);
        break;
      }
      case Op::Kind::kDelete:
      case Op::Kind::kCheck: {
        auto pv = o.kind == Op::Kind::kDelete ? b.initDelete() : b.initCheck();
        pv.setPath(detail::text(sp));
        pv.setVersion(o.version);
        break;
      }
      case Op::Kind::kSetData: {
        auto s = b.initSetData();
        s.setPath(detail::text(sp));
        s.setData(detail::bytes(o.data));
        s.setVersion(o.version);
        break;
      }
      case Op::Kind::kGetData:
        b.setGetData(detail::text(sp));
        break;
      case Op::Kind::kGetChildren:
        b.setGetChildren(detail::text(sp));
        break;
    }
  }

  Request make_watch_op(OpKind kind, const std::string& path, WatcherType type, bool local) {
    Request r = request(kind, path);
    r.watcher_type = type;
    r.local = local;
    if (r.local_error != Error::OK) return r;
    detail::RequestWriter w(path_bytes(path));
    auto wo =
        kind == OpKind::kCheckWatches ? w.op().initCheckWatches() : w.op().initRemoveWatches();
    std::string sp;
    wo.setPath(server_path(path, &sp));
    wo.setType(static_cast<std::int32_t>(type));
    seal(r, w);
    return r;
  }

  Request make_add_watch(const std::string& path, AddWatchMode mode, Watcher watcher) {
    Request r = request(OpKind::kAddWatch, path);
    r.add_watch_mode = mode;
    r.watcher = std::move(watcher);
    if (r.local_error != Error::OK) return r;
    detail::RequestWriter w(path_bytes(path));
    auto a = w.op().initAddWatch();
    std::string sp;
    a.setPath(server_path(path, &sp));
    a.setMode(static_cast<std::int32_t>(mode));
    seal(r, w);
    return r;
  }

  Request make_get_ephemerals(const std::string& prefix) {
    Request r;
    r.kind = OpKind::kGetEphemerals;
    detail::RequestWriter w(path_bytes(prefix));
    // A plain string prefix (not a path): "" and "/" mean everything (under the chroot).
    std::string sp =
        prefix.empty() ? connect_string().to_server("/") : connect_string().to_server(prefix);
    w.op().setGetEphemerals(detail::text(sp));
    seal(r, w);
    return r;
  }

  Decoder<std::vector<std::string>> ephemerals_decoder() const {
    const ConnectString* cs = &connect_string();
    return body_decoder<std::vector<std::string>>(Body::EPHEMERALS, [cs](Body::Reader b) {
      std::vector<std::string> out;
      for (auto t : b.getEphemerals()) {
        std::string p = detail::to_std(t);
        if (cs->contains(p)) out.push_back(cs->to_client(p));  // a prefix may match a sibling
      }
      return out;
    });
  }

  Request make_add_auth(const std::string& scheme, const std::string& auth) {
    Request r;
    r.kind = OpKind::kAddAuth;
    r.scheme = scheme;
    r.auth = auth;
    detail::RequestWriter w(scheme.size() + auth.size());
    auto a = w.op().initAddAuth();
    a.setScheme(detail::text(scheme));
    a.setAuth(detail::bytes(auth));
    seal(r, w);
    return r;
  }

  Request make_who_am_i() {
    Request r;
    r.kind = OpKind::kWhoAmI;
    detail::RequestWriter w(0);
    w.op().setWhoAmI();
    seal(r, w);
    return r;
  }

 private:
  static Request local_failure(Request r, Error err) {
    r.has_payload = false;
    r.local_error = err;
    return r;
  }
};

// ---- session -------------------------------------------------------------------------------

Client::Client(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Client::~Client() {
  if (impl_->on_event_thread()) {
    std::fprintf(stderr, "quorumlab::client::Client destroyed inside one of its callbacks\n");
    std::abort();
  }
  auto s = impl_->state();
  if (s == State::kConnecting || s == State::kConnected) close();
  impl_.reset();
}

State Client::state() const {
  return impl_->state();
}
bool Client::wait_connected(std::chrono::milliseconds timeout) const {
  return impl_->wait_connected(timeout);
}
std::int64_t Client::session_id() const {
  return impl_->session_id();
}
std::string Client::session_passwd() const {
  return impl_->session_passwd();
}
std::chrono::milliseconds Client::negotiated_timeout() const {
  return impl_->negotiated_timeout();
}
std::int64_t Client::last_zxid() const {
  return impl_->last_zxid();
}
std::string Client::current_server() const {
  return impl_->current_server();
}
const ConnectString& Client::connect_string() const {
  return impl_->connect_string();
}

Result<None> Client::close(std::chrono::milliseconds timeout) {
  Request r;
  r.kind = OpKind::kClose;
  r.timeout = timeout;
  return impl_->run_future<None>(std::move(r), none_decoder()).get();
}

void Client::detach() {
  Request r;
  r.kind = OpKind::kDetach;
  impl_->run_future<None>(std::move(r), none_decoder()).get();
}

// ---- operations ----------------------------------------------------------------------------

Result<Created> Client::create(const std::string& path, const std::string& data, CreateMode mode,
                               const AclList& acl, std::int64_t ttl_ms) {
  return create_future(path, data, mode, acl, ttl_ms).get();
}
void Client::create_async(const std::string& path, const std::string& data, CreateMode mode,
                          const AclList& acl, std::int64_t ttl_ms, Callback<Created> done) {
  impl_->run(impl_->make_create(path, data, mode, acl, ttl_ms), impl_->created_decoder(),
             std::move(done));
}
std::future<Result<Created>> Client::create_future(const std::string& path, const std::string& data,
                                                   CreateMode mode, const AclList& acl,
                                                   std::int64_t ttl_ms) {
  return impl_->run_future(impl_->make_create(path, data, mode, acl, ttl_ms),
                           impl_->created_decoder());
}

Result<None> Client::remove(const std::string& path, std::int32_t version) {
  return remove_future(path, version).get();
}
void Client::remove_async(const std::string& path, std::int32_t version, Callback<None> done) {
  impl_->run(impl_->make_path_version(OpKind::kDelete, path, version), none_decoder(),
             std::move(done));
}
std::future<Result<None>> Client::remove_future(const std::string& path, std::int32_t version) {
  return impl_->run_future(impl_->make_path_version(OpKind::kDelete, path, version),
                           none_decoder());
}

Result<Stat> Client::exists(const std::string& path, Watcher watcher) {
  return exists_future(path, std::move(watcher)).get();
}
void Client::exists_async(const std::string& path, Callback<Stat> done, Watcher watcher) {
  impl_->run(impl_->make_path_watch(OpKind::kExists, path, std::move(watcher)), stat_decoder(false),
             std::move(done));
}
std::future<Result<Stat>> Client::exists_future(const std::string& path, Watcher watcher) {
  return impl_->run_future(impl_->make_path_watch(OpKind::kExists, path, std::move(watcher)),
                           stat_decoder(false));
}

namespace {
Decoder<DataResult> data_decoder() {
  return body_decoder<DataResult>(Body::DATA, [](Body::Reader b) {
    return DataResult{detail::to_std(b.getData().getData()),
                      detail::read_stat(b.getData().getStat()), b.getData().getDataNull()};
  });
}
Decoder<ChildrenResult> children_decoder() {
  return body_decoder<ChildrenResult>(Body::CHILDREN, [](Body::Reader b) {
    return ChildrenResult{read_texts(b.getChildren().getChildren()),
                          detail::read_stat(b.getChildren().getStat())};
  });
}
Decoder<AclResult> acl_decoder() {
  return body_decoder<AclResult>(Body::ACL, [](Body::Reader b) {
    return AclResult{detail::read_acl(b.getAcl().getAcl()),
                     detail::read_stat(b.getAcl().getStat())};
  });
}
Decoder<std::string> sync_decoder(const ConnectString* cs, std::string client_path) {
  return [cs, client_path](Error err, const Reader* r) -> Result<std::string> {
    if (err != Error::OK || r == nullptr) return {err, {}};
    if (r->getBody().which() == Body::PATH) {
      return {Error::OK, cs->to_client(detail::to_std(r->getBody().getPath()))};
    }
    return {Error::OK, client_path};
  };
}
Decoder<std::int64_t> count_decoder() {
  return body_decoder<std::int64_t>(Body::COUNT, [](Body::Reader b) { return b.getCount(); });
}
Decoder<std::vector<Id>> who_am_i_decoder() {
  return body_decoder<std::vector<Id>>(Body::WHO_AM_I, [](Body::Reader b) {
    std::vector<Id> ids;
    for (auto id : b.getWhoAmI()) {
      ids.push_back(Id{detail::to_std(id.getScheme()), detail::to_std(id.getId())});
    }
    return ids;
  });
}
}  // namespace

Result<DataResult> Client::get_data(const std::string& path, Watcher watcher) {
  return get_data_future(path, std::move(watcher)).get();
}
void Client::get_data_async(const std::string& path, Callback<DataResult> done, Watcher watcher) {
  impl_->run(impl_->make_path_watch(OpKind::kGetData, path, std::move(watcher)), data_decoder(),
             std::move(done));
}
std::future<Result<DataResult>> Client::get_data_future(const std::string& path, Watcher watcher) {
  return impl_->run_future(impl_->make_path_watch(OpKind::kGetData, path, std::move(watcher)),
                           data_decoder());
}

Result<Stat> Client::set_data(const std::string& path, const std::string& data,
                              std::int32_t version) {
  return set_data_future(path, data, version).get();
}
void Client::set_data_async(const std::string& path, const std::string& data, std::int32_t version,
                            Callback<Stat> done) {
  impl_->run(impl_->make_set_data(path, data, version), stat_decoder(false), std::move(done));
}
std::future<Result<Stat>> Client::set_data_future(const std::string& path, const std::string& data,
                                                  std::int32_t version) {
  return impl_->run_future(impl_->make_set_data(path, data, version), stat_decoder(false));
}

Result<AclResult> Client::get_acl(const std::string& path) {
  return get_acl_future(path).get();
}
void Client::get_acl_async(const std::string& path, Callback<AclResult> done) {
  impl_->run(impl_->make_text_op(OpKind::kGetAcl, path), acl_decoder(), std::move(done));
}
std::future<Result<AclResult>> Client::get_acl_future(const std::string& path) {
  return impl_->run_future(impl_->make_text_op(OpKind::kGetAcl, path), acl_decoder());
}

Result<Stat> Client::set_acl(const std::string& path, const AclList& acl, std::int32_t version) {
  return set_acl_future(path, acl, version).get();
}
void Client::set_acl_async(const std::string& path, const AclList& acl, std::int32_t version,
                           Callback<Stat> done) {
  impl_->run(impl_->make_set_acl(path, acl, version), stat_decoder(false), std::move(done));
}
std::future<Result<Stat>> Client::set_acl_future(const std::string& path, const AclList& acl,
                                                 std::int32_t version) {
  return impl_->run_future(impl_->make_set_acl(path, acl, version), stat_decoder(false));
}

Result<ChildrenResult> Client::get_children(const std::string& path, Watcher watcher) {
  return get_children_future(path, std::move(watcher)).get();
}
void Client::get_children_async(const std::string& path, Callback<ChildrenResult> done,
                                Watcher watcher) {
  impl_->run(impl_->make_path_watch(OpKind::kGetChildren, path, std::move(watcher)),
             children_decoder(), std::move(done));
}
std::future<Result<ChildrenResult>> Client::get_children_future(const std::string& path,
                                                                Watcher watcher) {
  return impl_->run_future(impl_->make_path_watch(OpKind::kGetChildren, path, std::move(watcher)),
                           children_decoder());
}

Result<std::string> Client::sync_op(const std::string& path) {
  return sync_op_future(path).get();
}
void Client::sync_op_async(const std::string& path, Callback<std::string> done) {
  impl_->run(impl_->make_text_op(OpKind::kSyncOp, path),
             sync_decoder(&impl_->connect_string(), path), std::move(done));
}
std::future<Result<std::string>> Client::sync_op_future(const std::string& path) {
  return impl_->run_future(impl_->make_text_op(OpKind::kSyncOp, path),
                           sync_decoder(&impl_->connect_string(), path));
}

Result<Stat> Client::check(const std::string& path, std::int32_t version) {
  return check_future(path, version).get();
}
void Client::check_async(const std::string& path, std::int32_t version, Callback<Stat> done) {
  impl_->run(impl_->make_path_version(OpKind::kCheck, path, version), stat_decoder(true),
             std::move(done));
}
std::future<Result<Stat>> Client::check_future(const std::string& path, std::int32_t version) {
  return impl_->run_future(impl_->make_path_version(OpKind::kCheck, path, version),
                           stat_decoder(true));
}

Result<std::vector<OpResult>> Client::multi(const std::vector<Op>& ops) {
  return multi_future(ops).get();
}
void Client::multi_async(const std::vector<Op>& ops, Callback<std::vector<OpResult>> done) {
  impl_->run(impl_->make_multi(ops, false), multi_decoder(&impl_->connect_string(), true),
             std::move(done));
}
std::future<Result<std::vector<OpResult>>> Client::multi_future(const std::vector<Op>& ops) {
  return impl_->run_future(impl_->make_multi(ops, false),
                           multi_decoder(&impl_->connect_string(), true));
}

Result<std::vector<OpResult>> Client::multi_read(const std::vector<Op>& ops) {
  return multi_read_future(ops).get();
}
void Client::multi_read_async(const std::vector<Op>& ops, Callback<std::vector<OpResult>> done) {
  impl_->run(impl_->make_multi(ops, true), multi_decoder(&impl_->connect_string(), false),
             std::move(done));
}
std::future<Result<std::vector<OpResult>>> Client::multi_read_future(const std::vector<Op>& ops) {
  return impl_->run_future(impl_->make_multi(ops, true),
                           multi_decoder(&impl_->connect_string(), false));
}

Result<None> Client::check_watches(const std::string& path, WatcherType type) {
  return check_watches_future(path, type).get();
}
void Client::check_watches_async(const std::string& path, WatcherType type, Callback<None> done) {
  impl_->run(impl_->make_watch_op(OpKind::kCheckWatches, path, type, false), none_decoder(),
             std::move(done));
}
std::future<Result<None>> Client::check_watches_future(const std::string& path, WatcherType type) {
  return impl_->run_future(impl_->make_watch_op(OpKind::kCheckWatches, path, type, false),
                           none_decoder());
}

Result<None> Client::remove_watches(const std::string& path, WatcherType type, bool local) {
  return remove_watches_future(path, type, local).get();
}
void Client::remove_watches_async(const std::string& path, WatcherType type, bool local,
                                  Callback<None> done) {
  impl_->run(impl_->make_watch_op(OpKind::kRemoveWatches, path, type, local), none_decoder(),
             std::move(done));
}
std::future<Result<None>> Client::remove_watches_future(const std::string& path, WatcherType type,
                                                        bool local) {
  return impl_->run_future(impl_->make_watch_op(OpKind::kRemoveWatches, path, type, local),
                           none_decoder());
}

Result<None> Client::add_watch(const std::string& path, AddWatchMode mode, Watcher watcher) {
  return add_watch_future(path, mode, std::move(watcher)).get();
}
void Client::add_watch_async(const std::string& path, AddWatchMode mode, Watcher watcher,
                             Callback<None> done) {
  impl_->run(impl_->make_add_watch(path, mode, std::move(watcher)), none_decoder(),
             std::move(done));
}
std::future<Result<None>> Client::add_watch_future(const std::string& path, AddWatchMode mode,
                                                   Watcher watcher) {
  return impl_->run_future(impl_->make_add_watch(path, mode, std::move(watcher)), none_decoder());
}

Result<std::vector<std::string>> Client::get_ephemerals(const std::string& prefix) {
  return get_ephemerals_future(prefix).get();
}
void Client::get_ephemerals_async(const std::string& prefix,
                                  Callback<std::vector<std::string>> done) {
  impl_->run(impl_->make_get_ephemerals(prefix), impl_->ephemerals_decoder(), std::move(done));
}
std::future<Result<std::vector<std::string>>> Client::get_ephemerals_future(
    const std::string& prefix) {
  return impl_->run_future(impl_->make_get_ephemerals(prefix), impl_->ephemerals_decoder());
}

Result<std::int64_t> Client::get_all_children_number(const std::string& path) {
  return get_all_children_number_future(path).get();
}
void Client::get_all_children_number_async(const std::string& path, Callback<std::int64_t> done) {
  impl_->run(impl_->make_text_op(OpKind::kGetAllChildrenNumber, path), count_decoder(),
             std::move(done));
}
std::future<Result<std::int64_t>> Client::get_all_children_number_future(const std::string& path) {
  return impl_->run_future(impl_->make_text_op(OpKind::kGetAllChildrenNumber, path),
                           count_decoder());
}

Result<None> Client::add_auth(const std::string& scheme, const std::string& auth) {
  return add_auth_future(scheme, auth).get();
}
void Client::add_auth_async(const std::string& scheme, const std::string& auth,
                            Callback<None> done) {
  impl_->run(impl_->make_add_auth(scheme, auth), none_decoder(), std::move(done));
}
std::future<Result<None>> Client::add_auth_future(const std::string& scheme,
                                                  const std::string& auth) {
  return impl_->run_future(impl_->make_add_auth(scheme, auth), none_decoder());
}

Result<std::vector<Id>> Client::who_am_i() {
  return who_am_i_future().get();
}
void Client::who_am_i_async(Callback<std::vector<Id>> done) {
  impl_->run(impl_->make_who_am_i(), who_am_i_decoder(), std::move(done));
}
std::future<Result<std::vector<Id>>> Client::who_am_i_future() {
  return impl_->run_future(impl_->make_who_am_i(), who_am_i_decoder());
}

}  // namespace quorumlab::client
