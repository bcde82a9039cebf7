// Bindings of quorumlab::client::Client.
//
// Threads and the GIL. The C++ client runs callbacks on its own event thread; that thread never
// touches Python. Every result and event it produces is queued in a Mailbox as plain C++
// values, and Python threads of the package (quorumlab/client.py) take them with poll(), which
// waits with the GIL released and converts to Python objects with the GIL held. So no C++
// thread ever waits for the GIL, a Python callback may call back into the client, and closing
// the client from any Python thread (even inside a callback) cannot deadlock.
// Every blocking call releases the GIL while the C++ side waits.
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "native.hpp"
#include "quorumlab/client/client.hpp"

namespace quorumlab::py {

namespace {

namespace qc = quorumlab::client;
using pyb::gil_scoped_release;

/// Results and events produced on the C++ event thread, waiting for a Python thread.
class Mailbox {
 public:
  struct Item {
    std::uint64_t token = 0;
    std::function<pyb::object()> make;  // builds the Python value (called with the GIL held)
  };

  void put(std::uint64_t token, std::function<pyb::object()> make) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(Item{token, std::move(make)});
    }
    cv_.notify_one();
  }

  void shut() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      shut_ = true;
    }
    cv_.notify_all();
  }

  /// Waits up to `timeout_s` for items; returns [(token, value), ...], or None once shut and
  /// drained.
  pyb::object poll(double timeout_s) {
    std::deque<Item> batch;
    bool shut = false;
    {
      gil_scoped_release release;
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::duration<double>(timeout_s),
                   [&] { return !items_.empty() || shut_; });
      batch.swap(items_);
      shut = shut_;
    }
    if (batch.empty() && shut) return pyb::none();
    pyb::list out;
    for (auto& item : batch)
      out.append(pyb::make_tuple(item.token, item.make()));
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> items_;
  bool shut_ = false;
};

pyb::object stat_py(const qc::Stat& s) {
  return pyb::cast(s);
}

pyb::object value_py(const qc::None&) {
  return pyb::none();
}
pyb::object value_py(const qc::Stat& s) {
  return stat_py(s);
}
pyb::object value_py(const std::string& s) {
  return pyb::str(s);
}
pyb::object value_py(const qc::Created& c) {
  return pyb::make_tuple(c.path, stat_py(c.stat));
}
pyb::object value_py(const qc::DataResult& d) {
  pyb::object data = d.null ? pyb::object(pyb::none()) : pyb::object(pyb::bytes(d.data));
  return pyb::make_tuple(data, stat_py(d.stat));
}
pyb::object value_py(const qc::ChildrenResult& c) {
  pyb::list names;
  for (const auto& n : c.children)
    names.append(pyb::str(n));
  return pyb::make_tuple(names, stat_py(c.stat));
}
pyb::object acl_list_py(const qc::AclList& acl) {
  pyb::list out;
  for (const auto& a : acl)
    out.append(pyb::make_tuple(a.perms, a.id.scheme, a.id.id));
  return out;
}
pyb::object value_py(const qc::AclResult& a) {
  return pyb::make_tuple(acl_list_py(a.acl), stat_py(a.stat));
}
pyb::object value_py(const std::vector<qc::OpResult>& results) {
  pyb::list out;
  for (const auto& r : results) {
    pyb::list children;
    for (const auto& c : r.children)
      children.append(pyb::str(c));
    out.append(pyb::make_tuple(static_cast<int>(r.err), r.path, stat_py(r.stat), pyb::bytes(r.data),
                               children));
  }
  return out;
}
pyb::object value_py(const std::vector<std::string>& v) {
  return pyb::cast(v);
}
pyb::object value_py(const std::vector<qc::Id>& ids) {
  pyb::list out;
  for (const auto& id : ids)
    out.append(pyb::make_tuple(id.scheme, id.id));
  return out;
}
pyb::object value_py(std::int64_t v) {
  return pyb::int_(v);
}

/// (error code, value) with the value converted only on success.
template <class T>
pyb::object result_py(const qc::Result<T>& r) {
  if (!r.ok()) {
    // multi reports every op's result with the first failure's code.
    if constexpr (std::is_same_v<T, std::vector<qc::OpResult>>) {
      return pyb::make_tuple(static_cast<int>(r.err), value_py(r.value));
    }
    return pyb::make_tuple(static_cast<int>(r.err), pyb::none());
  }
  return pyb::make_tuple(0, value_py(r.value));
}

pyb::object event_py(const qc::WatchedEvent& e) {
  return pyb::make_tuple(static_cast<int>(e.type), static_cast<int>(e.state), e.path, e.zxid);
}

/// ACLs from Python: [(perms, scheme, id), ...].
using AclTuple = std::tuple<std::int32_t, std::string, std::string>;
qc::AclList acl_from(const std::vector<AclTuple>& in) {
  qc::AclList out;
  for (const auto& [perms, scheme, id] : in)
    out.push_back(qc::Acl{perms, qc::Id{scheme, id}});
  return out;
}

/// multi ops from Python: (kind, path, data, version, mode, acl, ttl_ms).
using OpTuple = std::tuple<std::string, std::string, pyb::bytes, std::int32_t, std::int32_t,
                           std::vector<AclTuple>, std::int64_t>;
std::vector<qc::Op> ops_from(const std::vector<OpTuple>& in) {
  std::vector<qc::Op> ops;
  for (const auto& [kind, path, data, version, mode, acl, ttl] : in) {
    std::string bytes = data;
    if (kind == "create") {
      ops.push_back(
          qc::Op::create(path, bytes, static_cast<qc::CreateMode>(mode), acl_from(acl), ttl));
    } else if (kind == "delete") {
      ops.push_back(qc::Op::remove(path, version));
    } else if (kind == "set_data") {
      ops.push_back(qc::Op::set_data(path, bytes, version));
    } else if (kind == "check") {
      ops.push_back(qc::Op::check(path, version));
    } else if (kind == "get_data") {
      ops.push_back(qc::Op::get_data(path));
    } else if (kind == "get_children") {
      ops.push_back(qc::Op::get_children(path));
    } else {
      throw std::invalid_argument("unknown multi op kind '" + kind + "'");
    }
  }
  return ops;
}

class ClientClosed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One session. Tokens name the Python side's futures and watchers (0 is the session watcher).
class NativeClient {
 public:
  NativeClient(const std::string& connect, double session_timeout_s, double connect_timeout_s,
               std::int64_t session_id, const pyb::bytes& passwd, bool read_only)
      : completions_(std::make_shared<Mailbox>()), events_(std::make_shared<Mailbox>()) {
    std::string error;
    if (!qc::ConnectString::parse(connect, &error)) {
      throw std::invalid_argument("malformed connect string '" + connect + "': " + error);
    }
    if (!(session_timeout_s > 0)) throw std::invalid_argument("timeout must be positive");
    qc::Options o;
    o.connect = connect;
    o.session_timeout = std::chrono::milliseconds(static_cast<long>(session_timeout_s * 1000));
    o.connect_timeout = std::chrono::milliseconds(static_cast<long>(connect_timeout_s * 1000));
    o.session_id = session_id;
    o.passwd = std::string(passwd);
    o.read_only = read_only;
    auto events = events_;
    o.session_watcher = [events](const qc::WatchedEvent& e) {
      events->put(0, [e] { return event_py(e); });
    };
    gil_scoped_release release;
    client_ = std::make_shared<qc::Client>(std::move(o));
  }

  ~NativeClient() {
    std::shared_ptr<qc::Client> c;
    {
      std::lock_guard<std::mutex> lock(mu_);
      c.swap(client_);
    }
    if (c) {
      gil_scoped_release release;
      c.reset();
    }
    completions_->shut();
    events_->shut();
  }

  pyb::object poll_completions(double timeout_s) { return completions_->poll(timeout_s); }
  pyb::object poll_events(double timeout_s) { return events_->poll(timeout_s); }

  bool closed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return client_ == nullptr;
  }

  /// Ends the session (closeSession), stops the client's threads, then shuts the mailboxes
  /// (after every callback of the client was queued).
  void close(double timeout_s) {
    std::shared_ptr<qc::Client> c;
    {
      std::lock_guard<std::mutex> lock(mu_);
      c.swap(client_);
    }
    if (c) {
      gil_scoped_release release;
      c->close(std::chrono::milliseconds(static_cast<long>(timeout_s * 1000)));
      c.reset();
    }
    completions_->shut();
    events_->shut();
  }

  /// Stops without ending the session (another client may resume it).
  void detach() {
    std::shared_ptr<qc::Client> c;
    {
      std::lock_guard<std::mutex> lock(mu_);
      c.swap(client_);
    }
    if (c) {
      gil_scoped_release release;
      c->detach();
      c.reset();
    }
    completions_->shut();
    events_->shut();
  }

  std::string state() const {
    auto c = peek();
    return c ? qc::to_string(c->state()) : "CLOSED";
  }
  bool wait_connected(double timeout_s) {
    auto c = get();
    gil_scoped_release release;
    return c->wait_connected(std::chrono::milliseconds(static_cast<long>(timeout_s * 1000)));
  }
  std::int64_t session_id() const { return get()->session_id(); }
  pyb::bytes session_passwd() const { return pyb::bytes(get()->session_passwd()); }
  double negotiated_timeout() const {
    return static_cast<double>(get()->negotiated_timeout().count()) / 1000.0;
  }
  std::int64_t last_zxid() const { return get()->last_zxid(); }
  std::string current_server() const { return get()->current_server(); }

  // ---- operations: blocking (returns (err, value)) and async (result to the mailbox) ----

  pyb::object create(const std::string& path, const pyb::bytes& data, int mode,
                     const std::vector<AclTuple>& acl, std::int64_t ttl_ms) {
    std::string bytes = data;
    auto a = acl_from(acl);
    return blocking<qc::Created>([&](qc::Client& c) {
      return c.create(path, bytes, static_cast<qc::CreateMode>(mode), a, ttl_ms);
    });
  }
  void create_async(std::uint64_t token, const std::string& path, const pyb::bytes& data, int mode,
                    const std::vector<AclTuple>& acl, std::int64_t ttl_ms) {
    std::string bytes = data;
    get()->create_async(path, bytes, static_cast<qc::CreateMode>(mode), acl_from(acl), ttl_ms,
                        done<qc::Created>(token));
  }

  pyb::object remove(const std::string& path, std::int32_t version) {
    return blocking<qc::None>([&](qc::Client& c) { return c.remove(path, version); });
  }
  void remove_async(std::uint64_t token, const std::string& path, std::int32_t version) {
    get()->remove_async(path, version, done<qc::None>(token));
  }

  pyb::object exists(const std::string& path, std::uint64_t watch) {
    auto w = watcher(watch);
    return blocking<qc::Stat>([&](qc::Client& c) { return c.exists(path, w); });
  }
  void exists_async(std::uint64_t token, const std::string& path, std::uint64_t watch) {
    get()->exists_async(path, done<qc::Stat>(token), watcher(watch));
  }

  pyb::object get_data(const std::string& path, std::uint64_t watch) {
    auto w = watcher(watch);
    return blocking<qc::DataResult>([&](qc::Client& c) { return c.get_data(path, w); });
  }
  void get_data_async(std::uint64_t token, const std::string& path, std::uint64_t watch) {
    get()->get_data_async(path, done<qc::DataResult>(token), watcher(watch));
  }

  pyb::object set_data(const std::string& path, const pyb::bytes& data, std::int32_t version) {
    std::string bytes = data;
    return blocking<qc::Stat>([&](qc::Client& c) { return c.set_data(path, bytes, version); });
  }
  void set_data_async(std::uint64_t token, const std::string& path, const pyb::bytes& data,
                      std::int32_t version) {
    std::string bytes = data;
    get()->set_data_async(path, bytes, version, done<qc::Stat>(token));
  }

  pyb::object get_children(const std::string& path, std::uint64_t watch) {
    auto w = watcher(watch);
    return blocking<qc::ChildrenResult>([&](qc::Client& c) { return c.get_children(path, w); });
  }
  void get_children_async(std::uint64_t token, const std::string& path, std::uint64_t watch) {
    get()->get_children_async(path, done<qc::ChildrenResult>(token), watcher(watch));
  }

  pyb::object get_acl(const std::string& path) {
    return blocking<qc::AclResult>([&](qc::Client& c) { return c.get_acl(path); });
  }
  void get_acl_async(std::uint64_t token, const std::string& path) {
    get()->get_acl_async(path, done<qc::AclResult>(token));
  }

  pyb::object set_acl(const std::string& path, const std::vector<AclTuple>& acl,
                      std::int32_t version) {
    auto a = acl_from(acl);
    return blocking<qc::Stat>([&](qc::Client& c) { return c.set_acl(path, a, version); });
  }
  void set_acl_async(std::uint64_t token, const std::string& path, const std::vector<AclTuple>& acl,
                     std::int32_t version) {
    get()->set_acl_async(path, acl_from(acl), version, done<qc::Stat>(token));
  }

  pyb::object sync_op(const std::string& path) {
    return blocking<std::string>([&](qc::Client& c) { return c.sync_op(path); });
  }
  void sync_op_async(std::uint64_t token, const std::string& path) {
    get()->sync_op_async(path, done<std::string>(token));
  }

  pyb::object check(const std::string& path, std::int32_t version) {
    return blocking<qc::Stat>([&](qc::Client& c) { return c.check(path, version); });
  }

  pyb::object multi(const std::vector<OpTuple>& ops, bool read) {
    auto o = ops_from(ops);
    return blocking<std::vector<qc::OpResult>>(
        [&](qc::Client& c) { return read ? c.multi_read(o) : c.multi(o); });
  }
  void multi_async(std::uint64_t token, const std::vector<OpTuple>& ops, bool read) {
    auto o = ops_from(ops);
    if (read) {
      get()->multi_read_async(o, done<std::vector<qc::OpResult>>(token));
    } else {
      get()->multi_async(o, done<std::vector<qc::OpResult>>(token));
    }
  }

  pyb::object add_auth(const std::string& scheme, const pyb::bytes& credential) {
    std::string cred = credential;
    return blocking<qc::None>([&](qc::Client& c) { return c.add_auth(scheme, cred); });
  }
  void add_auth_async(std::uint64_t token, const std::string& scheme,
                      const pyb::bytes& credential) {
    get()->add_auth_async(scheme, std::string(credential), done<qc::None>(token));
  }

  pyb::object who_am_i() {
    return blocking<std::vector<qc::Id>>([&](qc::Client& c) { return c.who_am_i(); });
  }

  pyb::object add_watch(const std::string& path, bool recursive, std::uint64_t watch) {
    auto w = watcher(watch);
    auto mode = recursive ? qc::AddWatchMode::kPersistentRecursive : qc::AddWatchMode::kPersistent;
    return blocking<qc::None>([&](qc::Client& c) { return c.add_watch(path, mode, w); });
  }
  void add_watch_async(std::uint64_t token, const std::string& path, bool recursive,
                       std::uint64_t watch) {
    auto mode = recursive ? qc::AddWatchMode::kPersistentRecursive : qc::AddWatchMode::kPersistent;
    get()->add_watch_async(path, mode, watcher(watch), done<qc::None>(token));
  }

  pyb::object remove_watches(const std::string& path, int type, bool local) {
    return blocking<qc::None>([&](qc::Client& c) {
      return c.remove_watches(path, static_cast<qc::WatcherType>(type), local);
    });
  }

  pyb::object get_ephemerals(const std::string& prefix) {
    return blocking<std::vector<std::string>>(
        [&](qc::Client& c) { return c.get_ephemerals(prefix); });
  }
  pyb::object get_all_children_number(const std::string& path) {
    return blocking<std::int64_t>([&](qc::Client& c) { return c.get_all_children_number(path); });
  }

 private:
  std::shared_ptr<qc::Client> peek() const {
    std::lock_guard<std::mutex> lock(mu_);
    return client_;
  }
  std::shared_ptr<qc::Client> get() const {
    auto c = peek();
    if (!c) throw ClientClosed("the client is closed");
    return c;
  }

  template <class T, class F>
  pyb::object blocking(F&& f) {
    auto c = get();
    qc::Result<T> r;
    {
      gil_scoped_release release;
      r = f(*c);
    }
    return result_py(r);
  }

  template <class T>
  qc::Callback<T> done(std::uint64_t token) {
    auto box = completions_;
    return [box, token](qc::Result<T> r) {
      box->put(token, [r = std::move(r)] { return result_py(r); });
    };
  }

  qc::Watcher watcher(std::uint64_t token) {
    if (token == 0) return {};
    auto box = events_;
    return
        [box, token](const qc::WatchedEvent& e) { box->put(token, [e] { return event_py(e); }); };
  }

  mutable std::mutex mu_;
  std::shared_ptr<qc::Client> client_;
  std::shared_ptr<Mailbox> completions_;
  std::shared_ptr<Mailbox> events_;
};

}  // namespace

void bind_client(pyb::module_& m) {
  pyb::register_exception<ClientClosed>(m, "ClientClosed", PyExc_RuntimeError);
  pyb::class_<qc::Stat>(m, "ZnodeStat", "A znode's metadata (ZooKeeper's Stat).")
      .def_readonly("czxid", &qc::Stat::czxid, "zxid of the create")
      .def_readonly("mzxid", &qc::Stat::mzxid, "zxid of the last data change")
      .def_readonly("pzxid", &qc::Stat::pzxid, "zxid of the last child change")
      .def_readonly("ctime", &qc::Stat::ctime, "create time, ms since the epoch")
      .def_readonly("mtime", &qc::Stat::mtime, "last modification time, ms since the epoch")
      .def_readonly("version", &qc::Stat::version, "data version")
      .def_readonly("cversion", &qc::Stat::cversion, "children version")
      .def_readonly("aversion", &qc::Stat::aversion, "ACL version")
      .def_readonly("ephemeral_owner", &qc::Stat::ephemeral_owner,
                    "owning session of an ephemeral node, else 0")
      .def_readonly("data_length", &qc::Stat::data_length)
      .def_readonly("num_children", &qc::Stat::num_children)
      // kazoo's spellings
      .def_readonly("ephemeralOwner", &qc::Stat::ephemeral_owner)
      .def_readonly("dataLength", &qc::Stat::data_length)
      .def_readonly("numChildren", &qc::Stat::num_children)
      .def_property_readonly("created", [](const qc::Stat& s) { return s.ctime / 1000.0; })
      .def_property_readonly("last_modified", [](const qc::Stat& s) { return s.mtime / 1000.0; })
      .def("__eq__", [](const qc::Stat& a, const qc::Stat& b) { return a == b; })
      .def("__repr__", [](const qc::Stat& s) {
        return "ZnodeStat(czxid=" + std::to_string(s.czxid) + ", mzxid=" + std::to_string(s.mzxid) +
               ", pzxid=" + std::to_string(s.pzxid) + ", version=" + std::to_string(s.version) +
               ", cversion=" + std::to_string(s.cversion) +
               ", aversion=" + std::to_string(s.aversion) +
               ", ephemeral_owner=" + std::to_string(s.ephemeral_owner) +
               ", data_length=" + std::to_string(s.data_length) +
               ", num_children=" + std::to_string(s.num_children) + ")";
      });

  m.def("error_name", [](int code) { return std::string(qc::error_name(code)); });
  m.def("error_message", [](int code) { return std::string(qc::error_message(code)); });
  m.def(
      "validate_path", [](const std::string& p, bool seq) { return qc::validate_path(p, seq); },
      pyb::arg("path"), pyb::arg("sequential") = false);

  using N = NativeClient;
  pyb::class_<N>(m, "NativeClient")
      .def(pyb::init<const std::string&, double, double, std::int64_t, const pyb::bytes&, bool>())
      .def("poll_completions", &N::poll_completions)
      .def("poll_events", &N::poll_events)
      .def("closed", &N::closed)
      .def("close", &N::close)
      .def("detach", &N::detach)
      .def("state", &N::state)
      .def("wait_connected", &N::wait_connected)
      .def("session_id", &N::session_id)
      .def("session_passwd", &N::session_passwd)
      .def("negotiated_timeout", &N::negotiated_timeout)
      .def("last_zxid", &N::last_zxid)
      .def("current_server", &N::current_server)
      .def("create", &N::create)
      .def("create_async", &N::create_async)
      .def("remove", &N::remove)
      .def("remove_async", &N::remove_async)
      .def("exists", &N::exists)
      .def("exists_async", &N::exists_async)
      .def("get_data", &N::get_data)
      .def("get_data_async", &N::get_data_async)
      .def("set_data", &N::set_data)
      .def("set_data_async", &N::set_data_async)
      .def("get_children", &N::get_children)
      .def("get_children_async", &N::get_children_async)
      .def("get_acl", &N::get_acl)
      .def("get_acl_async", &N::get_acl_async)
      .def("set_acl", &N::set_acl)
      .def("set_acl_async", &N::set_acl_async)
      .def("sync_op", &N::sync_op)
      .def("sync_op_async", &N::sync_op_async)
      .def("check", &N::check)
      .def("multi", &N::multi)
      .def("multi_async", &N::multi_async)
      .def("add_auth", &N::add_auth)
      .def("add_auth_async", &N::add_auth_async)
      .def("who_am_i", &N::who_am_i)
      .def("add_watch", &N::add_watch)
      .def("add_watch_async", &N::add_watch_async)
      .def("remove_watches", &N::remove_watches)
      .def("get_ephemerals", &N::get_ephemerals)
      .def("get_all_children_number", &N::get_all_children_number);
}

}  // namespace quorumlab::py
