// `qlab shell`: an interactive shell in the spirit of ZooKeeper's zkCli, over the native client.
// Interactive with line editing and history (libedit), or one command with -c for scripts:
// exit code 0 on success, 1 when the operation failed (ZooKeeper error, no connection), 2 for a
// usage error.
#include <editline/readline.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "commands.hpp"
#include "quorumlab/client/client.hpp"

namespace quorumlab::cli {

namespace {

using namespace quorumlab::client;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

/// Splits a command line on blanks; '...' and "..." group words (quotes removed).
std::vector<std::string> tokenize(const std::string& line, std::string* error) {
  std::vector<std::string> out;
  std::string cur;
  bool in_token = false;
  char quote = 0;
  for (char ch : line) {
    if (quote) {
      if (ch == quote) {
        quote = 0;
      } else {
        cur += ch;
      }
    } else if (ch == '\'' || ch == '"') {
      quote = ch;
      in_token = true;
    } else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
      if (in_token) out.push_back(cur);
      cur.clear();
      in_token = false;
    } else {
      cur += ch;
      in_token = true;
    }
  }
  if (quote) {
    *error = "unterminated quote";
    return {};
  }
  if (in_token) out.push_back(cur);
  return out;
}

/// A command's words split into flags (declared per command) and positional arguments.
struct Args {
  std::set<std::string> flags;
  std::map<std::string, std::string> values;
  std::vector<std::string> positional;
  bool has(const std::string& f) const { return flags.count(f) > 0; }
};

struct CommandSpec {
  const char* name;
  const char* usage;
  std::vector<std::string> flags;        // boolean flags
  std::vector<std::string> value_flags;  // flags that take a value
  std::size_t min_args;
  std::size_t max_args;
};

const std::vector<CommandSpec>& command_specs() {
  static const std::vector<CommandSpec> specs = {
      {"create",
       "create [-s] [-e] [-c] [-t ttl] path [data] [acl]",
       {"-s", "-e", "-c"},
       {"-t"},
       1,
       3},
      {"get", "get [-s] [-w] path", {"-s", "-w"}, {}, 1, 1},
      {"set", "set [-s] [-v version] path data", {"-s"}, {"-v"}, 2, 2},
      {"stat", "stat [-w] path", {"-w"}, {}, 1, 1},
      {"ls", "ls [-s] [-w] [-R] path", {"-s", "-w", "-R"}, {}, 1, 1},
      {"delete", "delete [-v version] path", {}, {"-v"}, 1, 1},
      {"deleteall", "deleteall path", {}, {}, 1, 1},
      {"sync", "sync path", {}, {}, 1, 1},
      {"getAcl", "getAcl [-s] path", {"-s"}, {}, 1, 1},
      {"setAcl", "setAcl [-s] [-v version] [-R] path acl", {"-s", "-R"}, {"-v"}, 2, 2},
      {"addauth", "addauth scheme auth", {}, {}, 2, 2},
      {"whoami", "whoami", {}, {}, 0, 0},
      {"addWatch",
       "addWatch [-m mode] path  # mode: PERSISTENT, PERSISTENT_RECURSIVE (default)",
       {},
       {"-m"},
       1,
       1},
      {"removewatches",
       "removewatches path [-c|-d|-a|-p|-r] [-l]",
       {"-c", "-d", "-a", "-p", "-r", "-l"},
       {},
       1,
       1},
      {"getEphemerals", "getEphemerals [path]", {}, {}, 0, 1},
      {"getAllChildrenNumber", "getAllChildrenNumber path", {}, {}, 1, 1},
      {"help", "help", {}, {}, 0, 1},
      {"quit", "quit", {}, {}, 0, 0},
  };
  return specs;
}

const CommandSpec* find_spec(const std::string& name) {
  for (const auto& s : command_specs()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

bool parse_args(const CommandSpec& spec, const std::vector<std::string>& words, Args* out,
                std::string* error) {
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (std::find(spec.flags.begin(), spec.flags.end(), w) != spec.flags.end()) {
      out->flags.insert(w);
    } else if (std::find(spec.value_flags.begin(), spec.value_flags.end(), w) !=
               spec.value_flags.end()) {
      if (i + 1 >= words.size()) {
        *error = w + " needs a value";
        return false;
      }
      out->values[w] = words[++i];
    } else {
      out->positional.push_back(w);
    }
  }
  if (out->positional.size() < spec.min_args || out->positional.size() > spec.max_args) {
    *error = "wrong number of arguments";
    return false;
  }
  return true;
}

bool parse_int(const std::string& s, std::int64_t* out) {
  try {
    std::size_t used = 0;
    *out = std::stoll(s, &used);
    return used == s.size();
  } catch (const std::exception&) {
    return false;
  }
}

/// zkCli's ACL syntax: scheme:id:perms[,scheme:id:perms...]; the id may contain ':' (digest).
bool parse_acl(const std::string& text, AclList* out) {
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto first = item.find(':');
    auto last = item.rfind(':');
    if (first == std::string::npos || first == last) return false;
    std::int32_t mask = perms_from_string(item.substr(last + 1));
    if (mask < 0) return false;
    out->push_back(Acl{mask, Id{item.substr(0, first), item.substr(first + 1, last - first - 1)}});
  }
  return !out->empty();
}

std::string hex(std::int64_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << static_cast<std::uint64_t>(v);
  return os.str();
}

/// Java's Date.toString(): "Thu Jan 01 00:00:00 UTC 1970".
std::string java_date(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S %Z %Y", &tm);
  return buf;
}

std::string join_list(std::vector<std::string> items, bool sort) {
  if (sort) std::sort(items.begin(), items.end());
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i ? ", " : "") + items[i];
  return out + "]";
}

/// Prints a watch or session event as zkCli does. Events arrive on the client's event thread
/// while the main thread may be printing a result.
void print_event(const WatchedEvent& e) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::cout << "\nWATCHER::\n\n" << to_string(e) << std::endl;
}

class Shell {
 public:
  Shell(Client& client, bool print_watches) : client_(client), print_watches_(print_watches) {}

  /// Runs one command line; returns its exit code. Sets *quit for "quit".
  int execute(const std::string& line, bool* quit) {
    std::string error;
    auto words = tokenize(line, &error);
    if (!error.empty()) return usage_error(error);
    if (words.empty()) return kExitOk;
    const CommandSpec* spec = find_spec(words[0]);
    if (!spec) {
      err() << "Command not found: " << words[0] << " (try help)\n";
      return kExitUsage;
    }
    Args args;
    if (!parse_args(*spec, words, &args, &error)) {
      err() << error << "\nusage: " << spec->usage << "\n";
      return kExitUsage;
    }
    return run(*spec, args, quit);
  }

  Watcher watcher() const {
    if (!print_watches_) return [](const WatchedEvent&) {};  // one-shot mode: armed, not shown
    return print_event;
  }

 private:
  std::ostream& out() { return std::cout; }
  std::ostream& err() { return std::cerr; }

  int usage_error(const std::string& message) {
    err() << message << "\n";
    return kExitUsage;
  }

  /// zkCli's wording plus ZooKeeper's code name, e.g. "Node does not exist: /a (NONODE)".
  int failed(Error e, const std::string& path) {
    err() << error_message(e) << ": " << path << " (" << error_name(e) << ")\n";
    return kExitFailed;
  }

  void print_stat(const Stat& s) {
    out() << "cZxid = " << hex(s.czxid) << "\n"
          << "ctime = " << java_date(s.ctime) << "\n"
          << "mZxid = " << hex(s.mzxid) << "\n"
          << "mtime = " << java_date(s.mtime) << "\n"
          << "pZxid = " << hex(s.pzxid) << "\n"
          << "cversion = " << s.cversion << "\n"
          << "dataVersion = " << s.version << "\n"
          << "aclVersion = " << s.aversion << "\n"
          << "ephemeralOwner = " << hex(s.ephemeral_owner) << "\n"
          << "dataLength = " << s.data_length << "\n"
          << "numChildren = " << s.num_children << "\n";
  }

  bool version_of(const Args& a, std::int32_t* version) {
    *version = -1;
    auto it = a.values.find("-v");
    if (it == a.values.end()) return true;
    std::int64_t v = 0;
    if (!parse_int(it->second, &v)) return false;
    *version = static_cast<std::int32_t>(v);
    return true;
  }

  int run(const CommandSpec& spec, const Args& a, bool* quit) {
    std::string name = spec.name;
    const std::string path = a.positional.empty() ? std::string() : a.positional[0];
    if (name == "create") return create(spec, a, path);
    if (name == "get") {
      auto r = client_.get_data(path, a.has("-w") ? watcher() : Watcher{});
      if (!r.ok()) return failed(r.err, path);
      out() << (r.value.null ? std::string("null") : r.value.data) << "\n";  // as zkCli
      if (a.has("-s")) print_stat(r.value.stat);
      return kExitOk;
    }
    if (name == "set") {
      std::int32_t version = -1;
      if (!version_of(a, &version))
        return usage_error("bad version\nusage: " + std::string(spec.usage));
      auto r = client_.set_data(path, a.positional[1], version);
      if (!r.ok()) return failed(r.err, path);
      if (a.has("-s")) print_stat(r.value);
      return kExitOk;
    }
    if (name == "stat") {
      auto r = client_.exists(path, a.has("-w") ? watcher() : Watcher{});
      if (!r.ok()) return failed(r.err, path);
      print_stat(r.value);
      return kExitOk;
    }
    if (name == "ls") return ls(a, path);
    if (name == "delete") {
      std::int32_t version = -1;
      if (!version_of(a, &version))
        return usage_error("bad version\nusage: " + std::string(spec.usage));
      auto r = client_.remove(path, version);
      return r.ok() ? kExitOk : failed(r.err, path);
    }
    if (name == "deleteall") return delete_all(path);
    if (name == "sync") {
      auto r = client_.sync_op(path);
      if (!r.ok()) return failed(r.err, path);
      out() << "Sync is OK\n";
      return kExitOk;
    }
    if (name == "getAcl") {
      auto r = client_.get_acl(path);
      if (!r.ok()) return failed(r.err, path);
      for (const auto& acl : r.value.acl) {
        out() << "'" << acl.id.scheme << ",'" << acl.id.id << "\n: " << perms_to_string(acl.perms)
              << "\n";
      }
      if (a.has("-s")) print_stat(r.value.stat);
      return kExitOk;
    }
    if (name == "setAcl") return set_acl(spec, a, path);
    if (name == "addauth") {
      auto r = client_.add_auth(a.positional[0], a.positional[1]);
      return r.ok() ? kExitOk : failed(r.err, a.positional[0]);
    }
    if (name == "whoami") {
      auto r = client_.who_am_i();
      if (!r.ok()) return failed(r.err, "whoami");
      out() << "Auth scheme: User\n";
      for (const auto& id : r.value)
        out() << id.scheme << ": " << id.id << "\n";
      return kExitOk;
    }
    if (name == "addWatch") {
      AddWatchMode mode = AddWatchMode::kPersistentRecursive;
      auto it = a.values.find("-m");
      if (it != a.values.end()) {
        if (it->second == "PERSISTENT") {
          mode = AddWatchMode::kPersistent;
        } else if (it->second != "PERSISTENT_RECURSIVE") {
          return usage_error("mode must be PERSISTENT or PERSISTENT_RECURSIVE\nusage: " +
                             std::string(spec.usage));
        }
      }
      auto r = client_.add_watch(path, mode, watcher());
      return r.ok() ? kExitOk : failed(r.err, path);
    }
    if (name == "removewatches") {
      WatcherType type = WatcherType::kAny;
      if (a.has("-c")) type = WatcherType::kChildren;
      if (a.has("-d")) type = WatcherType::kData;
      if (a.has("-p")) type = WatcherType::kPersistent;
      if (a.has("-r")) type = WatcherType::kPersistentRecursive;
      auto r = client_.remove_watches(path, type, a.has("-l"));
      return r.ok() ? kExitOk : failed(r.err, path);
    }
    if (name == "getEphemerals") {
      auto r = client_.get_ephemerals(path.empty() ? "/" : path);
      if (!r.ok()) return failed(r.err, path.empty() ? "/" : path);
      out() << join_list(r.value, true) << "\n";
      return kExitOk;
    }
    if (name == "getAllChildrenNumber") {
      auto r = client_.get_all_children_number(path);
      if (!r.ok()) return failed(r.err, path);
      out() << r.value << "\n";
      return kExitOk;
    }
    if (name == "help") {
      out() << "qlab shell commands:\n";
      for (const auto& s : command_specs())
        out() << "\t" << s.usage << "\n";
      return kExitOk;
    }
    if (name == "quit") {
      *quit = true;
      return kExitOk;
    }
    return usage_error("unhandled command " + name);
  }

  int create(const CommandSpec& spec, const Args& a, const std::string& path) {
    bool seq = a.has("-s"), eph = a.has("-e"), container = a.has("-c");
    bool ttl = a.values.count("-t") > 0;
    std::int64_t ttl_ms = 0;
    if (ttl && !parse_int(a.values.at("-t"), &ttl_ms)) {
      return usage_error("bad ttl\nusage: " + std::string(spec.usage));
    }
    if (container && (seq || eph || ttl)) {
      return usage_error("-c cannot be combined with -s, -e or -t");
    }
    if (ttl && eph) return usage_error("TTLs cannot be used with ephemeral nodes (-e)");
    CreateMode mode = CreateMode::kPersistent;
    if (container)
      mode = CreateMode::kContainer;
    else if (ttl)
      mode = seq ? CreateMode::kPersistentSequentialWithTtl : CreateMode::kPersistentWithTtl;
    else if (eph)
      mode = seq ? CreateMode::kEphemeralSequential : CreateMode::kEphemeral;
    else if (seq)
      mode = CreateMode::kPersistentSequential;
    AclList acl = open_acl_unsafe();
    if (a.positional.size() > 2) {
      acl.clear();
      if (!parse_acl(a.positional[2], &acl)) return usage_error("bad acl: " + a.positional[2]);
    }
    std::string data = a.positional.size() > 1 ? a.positional[1] : std::string();
    auto r = client_.create(path, data, mode, acl, ttl_ms);
    if (!r.ok()) return failed(r.err, path);
    out() << "Created " << r.value.path << "\n";
    return kExitOk;
  }

  int ls(const Args& a, const std::string& path) {
    if (a.has("-R")) {
      std::vector<std::string> order;
      Error e = walk(path, &order);
      if (e != Error::OK) return failed(e, path);
      for (const auto& p : order)
        out() << p << "\n";
      return kExitOk;
    }
    auto r = client_.get_children(path, a.has("-w") ? watcher() : Watcher{});
    if (!r.ok()) return failed(r.err, path);
    out() << join_list(r.value.children, true) << "\n";
    if (a.has("-s")) print_stat(r.value.stat);
    return kExitOk;
  }

  static std::string child_path(const std::string& parent, const std::string& child) {
    return parent == "/" ? "/" + child : parent + "/" + child;
  }

  /// Depth-first listing of `root`'s subtree (children sorted), `root` first.
  Error walk(const std::string& root, std::vector<std::string>* order) {
    auto r = client_.get_children(root);
    if (!r.ok()) return r.err;
    order->push_back(root);
    auto children = r.value.children;
    std::sort(children.begin(), children.end());
    for (const auto& c : children) {
      Error e = walk(child_path(root, c), order);
      if (e != Error::OK && e != Error::NONODE) return e;  // NONODE: deleted meanwhile
    }
    return Error::OK;
  }

  /// Deletes the subtree deepest level first; the deletes of one level are pipelined.
  int delete_all(const std::string& path) {
    std::vector<std::vector<std::string>> levels{{path}};
    auto exists = client_.exists(path);
    if (!exists.ok()) return failed(exists.err, path);
    while (true) {
      std::vector<std::future<Result<ChildrenResult>>> lists;
      for (const auto& p : levels.back())
        lists.push_back(client_.get_children_future(p));
      std::vector<std::string> next;
      for (std::size_t i = 0; i < lists.size(); ++i) {
        auto r = lists[i].get();
        if (r.err == Error::NONODE) continue;
        if (!r.ok()) return failed(r.err, levels.back()[i]);
        for (const auto& c : r.value.children)
          next.push_back(child_path(levels.back()[i], c));
      }
      if (next.empty()) break;
      levels.push_back(std::move(next));
    }
    for (auto level = levels.rbegin(); level != levels.rend(); ++level) {
      std::vector<std::future<Result<None>>> deletes;
      for (const auto& p : *level)
        deletes.push_back(client_.remove_future(p));
      for (std::size_t i = 0; i < deletes.size(); ++i) {
        auto r = deletes[i].get();
        if (!r.ok() && r.err != Error::NONODE) return failed(r.err, (*level)[i]);
      }
    }
    return kExitOk;
  }

  int set_acl(const CommandSpec& spec, const Args& a, const std::string& path) {
    std::int32_t version = -1;
    if (!version_of(a, &version))
      return usage_error("bad version\nusage: " + std::string(spec.usage));
    AclList acl;
    if (!parse_acl(a.positional[1], &acl)) return usage_error("bad acl: " + a.positional[1]);
    std::vector<std::string> targets{path};
    if (a.has("-R")) {
      targets.clear();
      Error e = walk(path, &targets);
      if (e != Error::OK) return failed(e, path);
    }
    Stat last;
    for (const auto& p : targets) {
      auto r = client_.set_acl(p, acl, p == path ? version : -1);
      if (!r.ok()) return failed(r.err, p);
      if (p == path) last = r.value;
    }
    if (a.has("-s")) print_stat(last);
    return kExitOk;
  }

  Client& client_;
  bool print_watches_;
};

struct ShellOptions {
  std::string connect;
  std::string command;
  int timeout_ms = 10000;
  int connect_wait_ms = 10000;
};

std::string history_file() {
  const char* home = std::getenv("HOME");
  return home ? std::string(home) + "/.qlab_history" : std::string();
}

int run_interactive(Client& client, Shell& shell, const std::string& connect) {
  bool tty = ::isatty(STDIN_FILENO) != 0;
  std::string history = history_file();
  if (tty) {
    using_history();
    if (!history.empty()) read_history(history.c_str());
    std::cout << "Connecting to " << connect << "\n";
  }
  int last = kExitOk;
  for (int n = 0;; ++n) {
    std::string line;
    if (tty) {
      std::string prompt =
          "[qlab: " + connect + "(" + to_string(client.state()) + ") " + std::to_string(n) + "] ";
      char* raw = readline(prompt.c_str());
      if (!raw) break;  // EOF
      line = raw;
      std::free(raw);
      if (!line.empty()) add_history(line.c_str());
    } else if (!std::getline(std::cin, line)) {
      break;
    }
    bool quit = false;
    last = shell.execute(line, &quit);
    if (quit) break;
  }
  if (tty && !history.empty()) write_history(history.c_str());
  return tty ? kExitOk : last;
}

int run_shell(const ShellOptions& o) {
  Options options;
  options.connect = o.connect;
  options.session_timeout = std::chrono::milliseconds(o.timeout_ms);
  bool interactive = o.command.empty();
  if (interactive) options.session_watcher = print_event;
  Client client(options);
  Shell shell(client, interactive);
  int rc = kExitOk;
  if (interactive) {
    rc = run_interactive(client, shell, o.connect);
  } else if (!client.wait_connected(std::chrono::milliseconds(o.connect_wait_ms))) {
    std::cerr << "Unable to connect to " << o.connect << " within " << o.connect_wait_ms << " ms ("
              << error_name(Error::CONNECTIONLOSS) << ")\n";
    rc = kExitFailed;
  } else {
    bool quit = false;
    rc = shell.execute(o.command, &quit);
  }
  client.close();
  return rc;
}

}  // namespace

void add_shell(CLI::App& app, Action& action) {
  auto* cmd =
      app.add_subcommand("shell", "Interactive znode shell (zkCli style) over the native client");
  cmd->footer(
      "Commands: create get set stat ls delete deleteall sync getAcl setAcl addauth whoami\n"
      "addWatch removewatches getEphemerals getAllChildrenNumber help quit.\n"
      "With -c, runs one command and exits: 0 ok, 1 failed (e.g. NONODE), 2 usage error.\n"
      "Example: qlab shell --connect 127.0.0.1:7001 -c \"create -e /lock x\"");
  auto o = std::make_shared<ShellOptions>();
  cmd->add_option("--connect,--server", o->connect, "host:port[,host:port...][/chroot]")
      ->required();
  cmd->add_option("-c,--command", o->command, "run this one command and exit");
  cmd->add_option("--timeout-ms", o->timeout_ms, "requested session timeout")
      ->capture_default_str();
  cmd->add_option("--connect-wait-ms", o->connect_wait_ms,
                  "with -c: how long to wait for a connection")
      ->capture_default_str();
  cmd->callback([&action, o] { action = [o] { return run_shell(*o); }; });
}

}  // namespace quorumlab::cli
