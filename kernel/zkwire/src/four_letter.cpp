#include "quorumlab/zkwire/four_letter.hpp"

#include <pwd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace quorumlab::zkwire {

const char* const kServerVersion = "3.8.0-quorumlab";

namespace {

constexpr const char* kEnabled[] = {"ruok", "srvr", "stat", "mntr", "cons",
                                    "wchs", "conf", "envi", "isro"};
constexpr const char* kKnownDisabled[] = {"crst", "dirs", "dump", "srst", "wchc",
                                          "wchp", "hash", "gtmk", "stmk"};
constexpr const char* kNotServing = "This ZooKeeper instance is not currently serving requests\n";

bool is_one_of(const std::string& cmd, const char* const* list, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (cmd == list[i]) return true;
  }
  return false;
}

std::string hex(std::int64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%" PRIx64, static_cast<std::uint64_t>(v));
  return b;
}

std::string mode_of(const ServerInfo& s) {
  return s.role;
}

/// "Latency min/avg/max: a/b/c" in milliseconds, as ZooKeeper prints it.
std::string latency_line(const FrontendInfo& f) {
  std::ostringstream os;
  os << "Latency min/avg/max: " << f.min_latency_us / 1000 << "/" << f.avg_latency_us / 1000 << "."
     << (f.avg_latency_us % 1000) / 100 << "/" << f.max_latency_us / 1000 << "\n";
  return os.str();
}

std::string server_lines(const ServerInfo& s, const FrontendInfo& f) {
  std::ostringstream os;
  os << latency_line(f) << "Received: " << f.packets_received << "\n"
     << "Sent: " << f.packets_sent << "\n"
     << "Connections: " << f.connections.size() << "\n"
     << "Outstanding: " << f.outstanding << "\n"
     << "Zxid: " << hex(s.applied_zxid) << "\n"
     << "Mode: " << mode_of(s) << "\n"
     << "Node count: " << s.znode_count << "\n";
  return os.str();
}

std::string srvr(const ServerInfo& s, const FrontendInfo& f) {
  return std::string("Zookeeper version: ") + kServerVersion + ", built on quorumlab\n" +
         server_lines(s, f);
}

std::string stat(const ServerInfo& s, const FrontendInfo& f) {
  std::ostringstream os;
  os << "Zookeeper version: " << kServerVersion << ", built on quorumlab\nClients:\n";
  for (const auto& c : f.connections) {
    os << " /" << c.address << "[1](queued=" << c.queued << ",recved=" << c.received
       << ",sent=" << c.sent << ")\n";
  }
  os << "\n" << server_lines(s, f);
  return os.str();
}

std::string cons(const FrontendInfo& f) {
  std::ostringstream os;
  for (const auto& c : f.connections) {
    os << " /" << c.address << "[1](queued=" << c.queued << ",recved=" << c.received
       << ",sent=" << c.sent;
    if (c.session_id != 0) {
      os << ",sid=" << hex(c.session_id) << ",lop=" << c.last_op << ",to=" << c.timeout_ms
         << ",lcxid=" << hex(c.last_cxid) << ",lzxid=" << hex(c.last_zxid)
         << ",llat=" << c.last_latency_us / 1000 << ",minlat=" << c.min_latency_us / 1000
         << ",avglat=" << c.avg_latency_us / 1000 << ",maxlat=" << c.max_latency_us / 1000;
    }
    os << ")\n";
  }
  os << "\n";
  return os.str();
}

std::string mntr(const ServerInfo& s, const FrontendInfo& f) {
  std::ostringstream os;
  auto kv = [&os](const char* k, const auto& v) { os << k << "\t" << v << "\n"; };
  kv("zk_version", std::string(kServerVersion) + ", built on quorumlab");
  kv("zk_server_state", mode_of(s));
  kv("zk_avg_latency", static_cast<double>(f.avg_latency_us) / 1000.0);
  kv("zk_max_latency", f.max_latency_us / 1000);
  kv("zk_min_latency", f.min_latency_us / 1000);
  kv("zk_packets_received", f.packets_received);
  kv("zk_packets_sent", f.packets_sent);
  kv("zk_num_alive_connections", f.connections.size());
  kv("zk_outstanding_requests", f.outstanding);
  kv("zk_znode_count", s.znode_count);
  if (s.watch_count) kv("zk_watch_count", *s.watch_count);
  kv("zk_ephemerals_count", s.ephemerals_count);
  kv("zk_approximate_data_size", s.approximate_data_size);
  kv("zk_open_file_descriptor_count", f.open_fds);
  kv("zk_max_file_descriptor_count", f.max_fds);
  kv("zk_global_sessions", s.session_count);
  if (s.role == "leader") {
    kv("zk_followers", s.voters > 0 ? s.voters - 1 : 0);
  }
  // quorumlab's own keys: what the experiment varies and where the replica stands.
  kv("ql_server_id", s.server_id);
  kv("ql_leader", s.leader);
  kv("ql_epoch", s.epoch);
  kv("ql_applied_zxid", hex(s.applied_zxid));
  kv("ql_txns_applied", s.txns_applied);
  kv("ql_requests", s.requests);
  kv("ql_fsyncs", s.fsyncs);
  kv("ql_digest", s.digest);
  kv("ql_node_connections", s.node_connections);
  kv("ql_broadcast", s.broadcast);
  kv("ql_storage", s.storage);
  kv("ql_read_policy", s.read_policy);
  for (const auto& [name, value] : s.counters)
    kv(("ql_" + name).c_str(), value);
  return os.str();
}

std::string wchs(const ServerInfo& s, const FrontendInfo& f) {
  if (!s.watch_count) {
    return "watch counts are not available from this node\n";
  }
  std::ostringstream os;
  os << f.connections.size() << " connections watching " << s.watched_paths.value_or(0)
     << " paths\nTotal watches:" << *s.watch_count << "\n";
  return os.str();
}

std::string conf(const ServerInfo& s) {
  std::ostringstream os;
  for (const auto& [k, v] : s.config)
    os << k << "=" << v << "\n";
  return os.str();
}

std::string envi() {
  std::ostringstream os;
  os << "Environment:\n";
  os << "zookeeper.version=" << kServerVersion << ", built on quorumlab\n";
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) == 0) os << "host.name=" << host << "\n";
  os << "java.version=n/a (quorumlab is C++)\n";
  struct utsname u;
  if (::uname(&u) == 0) {
    os << "os.name=" << u.sysname << "\nos.arch=" << u.machine << "\nos.version=" << u.release
       << "\n";
  }
  if (const passwd* pw = ::getpwuid(::getuid())) {
    os << "user.name=" << pw->pw_name << "\nuser.home=" << pw->pw_dir << "\n";
  }
  std::error_code ec;
  auto cwd = std::filesystem::current_path(ec);
  if (!ec) os << "user.dir=" << cwd.string() << "\n";
  os << "process.pid=" << ::getpid() << "\n";
  return os.str();
}

}  // namespace

bool is_four_letter_word(const std::uint8_t* p) {
  const std::string cmd(reinterpret_cast<const char*>(p), 4);
  return is_one_of(cmd, kEnabled, std::size(kEnabled)) ||
         is_one_of(cmd, kKnownDisabled, std::size(kKnownDisabled));
}

bool is_telnet_close(const std::uint8_t* p) {
  return p[0] == 0xff && p[1] == 0xf4 && p[2] == 0xff && p[3] == 0xfd;
}

std::string four_letter_reply(const std::string& command, const ServerInfo& server,
                              const FrontendInfo& frontend) {
  if (command == "ruok") return "imok";
  if (command == "isro") return server.read_only ? "ro" : "rw";
  if (command == "envi") return envi();
  if (command == "conf") return conf(server);
  if (!is_one_of(command, kEnabled, std::size(kEnabled))) {
    return command + " is not executed because it is not in the whitelist.\n";
  }
  if (!server.serving) return kNotServing;
  if (command == "srvr") return srvr(server, frontend);
  if (command == "stat") return stat(server, frontend);
  if (command == "mntr") return mntr(server, frontend);
  if (command == "cons") return cons(frontend);
  if (command == "wchs") return wchs(server, frontend);
  return kNotServing;
}

}  // namespace quorumlab::zkwire
