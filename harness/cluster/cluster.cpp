#include "cluster.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "quorumlab/config.hpp"
#include "quorumlab/node/capnp_util.hpp"
#include "quorumlab/plugin/loader.hpp"
#include "quorumlab/proto/client.capnp.h"

namespace quorumlab::cluster {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

/// Interval between two looks at external processes while waiting for a condition.
constexpr auto kPollInterval = std::chrono::milliseconds(10);

std::string tail_of(const fs::path& file, std::size_t bytes = 2000) {
  std::ifstream in(file, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), {});
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

fs::path log_file(const ClusterSpec& spec, NodeId id) {
  return spec.dir / ("n" + std::to_string(id) + ".log");
}

std::string peers_arg(const ClusterSpec& spec) {
  std::string out;
  for (const auto& n : spec.nodes) {
    if (!out.empty()) out += ",";
    out += std::to_string(n.id) + "@127.0.0.1:" + std::to_string(n.peer_port) +
           (n.observer ? ":observer" : "") +
           // The member's ZooKeeper client address, for /zookeeper/config (server.N=...;h:p).
           (n.zk_port > 0 ? ";127.0.0.1:" + std::to_string(n.zk_port) : std::string());
  }
  return out;
}

}  // namespace

namespace {

/// One request on a server's client port and its one reply, or nullopt if none came in time
/// or it is not a ServerMessage. `read` takes the reply (throws kj::Exception on bad data).
template <typename T>
std::optional<T> ask(const std::string& host, int port, std::chrono::milliseconds timeout,
                     const std::function<void(proto::ClientMessage::Builder)>& request,
                     const std::function<std::optional<T>(proto::ServerMessage::Reader)>& read) {
  zmq::context_t ctx(1);
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  s.connect("tcp://" + host + ":" + std::to_string(port));
  capnp::MallocMessageBuilder msg;
  request(msg.initRoot<proto::ClientMessage>());
  Bytes out = to_bytes(msg);
  s.send(zmq::buffer(out), zmq::send_flags::dontwait);
  zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) <= 0) return std::nullopt;
  zmq::message_t reply;
  if (!s.recv(reply, zmq::recv_flags::dontwait)) return std::nullopt;
  try {
    CapnpReader r(static_cast<const std::uint8_t*>(reply.data()), reply.size(), 1 << 20);
    return read(r.root<proto::ServerMessage>());
  } catch (const kj::Exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<ServerStatus> probe(const std::string& host, int port,
                                  std::chrono::milliseconds timeout) {
  return ask<ServerStatus>(
      host, port, timeout, [](proto::ClientMessage::Builder m) { m.setStatus(); },
      [](proto::ServerMessage::Reader m) -> std::optional<ServerStatus> {
        if (!m.isStatus()) return std::nullopt;
        auto st = m.getStatus();
        ServerStatus out_status;
        out_status.server_id = st.getServerId();
        out_status.role = st.getRole();
        out_status.leader = st.getLeader();
        out_status.epoch = st.getEpoch();
        out_status.applied_zxid = static_cast<Zxid>(st.getAppliedZxid());
        out_status.committed_zxid = static_cast<Zxid>(st.getCommittedZxid());
        out_status.digest = st.getDigest();
        out_status.znode_count = st.getZnodeCount();
        out_status.session_count = st.getSessionCount();
        out_status.connection_count = st.getConnectionCount();
        out_status.txns_applied = st.getTxnsApplied();
        out_status.fsyncs = st.getFsyncs();
        out_status.can_propose = st.getCanPropose();
        out_status.sub_state = st.getSubState();
        out_status.ticks = st.getTicks();
        for (auto c : st.getCounters())
          out_status.counters.emplace_back(c.getName(), c.getValue());
        for (auto r : st.getNetRules())
          out_status.net_rules.links.push_back(
              node::NetRule{r.getPeer(), r.getDropPct(), r.getDelayMs(), r.getJitterMs()});
        out_status.net_rules.disk_delay_ms = st.getDiskDelayMs();
        out_status.net_rules.clock_skew_ppm = st.getClockSkewPpm();
        out_status.net_rules.clients_cut = st.getClientsCut();
        return out_status;
      });
}

std::string set_net_rules(const std::string& host, int port, const node::FaultRules& rules,
                          std::chrono::milliseconds timeout) {
  auto error = ask<std::string>(
      host, port, timeout,
      [&rules](proto::ClientMessage::Builder m) {
        auto req = m.initNetRules();
        auto list = req.initRules(static_cast<unsigned>(rules.links.size()));
        for (unsigned i = 0; i < rules.links.size(); ++i) {
          list[i].setPeer(rules.links[i].peer);
          list[i].setDropPct(rules.links[i].drop_pct);
          list[i].setDelayMs(rules.links[i].delay_ms);
          list[i].setJitterMs(rules.links[i].jitter_ms);
        }
        req.setDiskDelayMs(rules.disk_delay_ms);
        req.setClockSkewPpm(rules.clock_skew_ppm);
        req.setClientsCut(rules.clients_cut);
      },
      [](proto::ServerMessage::Reader m) -> std::optional<std::string> {
        if (!m.isNetRules()) return std::nullopt;
        return std::string(m.getNetRules().getError());
      });
  if (!error) {
    throw std::runtime_error("the server at " + host + ":" + std::to_string(port) +
                             " did not answer the network rules request");
  }
  return *error;
}

std::optional<TransferReply> request_transfer(const std::string& host, int port, NodeId target,
                                              std::chrono::milliseconds timeout) {
  return ask<TransferReply>(
      host, port, timeout, [target](proto::ClientMessage::Builder m) { m.setTransfer(target); },
      [](proto::ServerMessage::Reader m) -> std::optional<TransferReply> {
        if (!m.isTransfer()) return std::nullopt;
        auto t = m.getTransfer();
        return TransferReply{t.getServerId(), t.getStatus(), t.getLeader(), t.getMessage()};
      });
}

ProcState proc_state(pid_t pid) {
  if (pid <= 0) return ProcState::down;
  int status = 0;
  waitpid(pid, &status, WNOHANG);  // reap if it is our child
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return ProcState::down;
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return ProcState::down;
  char state = line[close + 2];
  if (state == 'Z' || state == 'X') return ProcState::down;
  if (state == 'T' || state == 't') return ProcState::paused;
  return ProcState::running;
}

std::pair<int, int> ephemeral_port_range() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int lo = 0, hi = 0;
  if (in >> lo >> hi && lo > 0 && hi >= lo && hi <= 65535) return {lo, hi};
  return {32768, 60999};  // Linux's default
}

std::vector<int> free_ports(std::size_t n) {
  // Outside the ephemeral range: a node that is down gets its port back on restart only if
  // no outgoing connection took it meanwhile, and the kernel gives outgoing connections
  // ports of that range (a client reconnecting to another node took a killed node's port
  // in a 100-round kill -9 soak, and the restart failed with "Address already in use").
  const auto [eph_lo, eph_hi] = ephemeral_port_range();
  int lo = 1024, hi = 65535;
  if (eph_lo - 10000 >= 2000) {
    lo = 10000;
    hi = eph_lo - 1;
  } else if (65535 - eph_hi >= 2000) {
    lo = eph_hi + 1;
  }
  std::mt19937_64 rng(
      std::random_device{}() ^ static_cast<std::uint64_t>(::getpid()) << 20 ^
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::uniform_int_distribution<int> pick(lo, hi);
  // Ports handed out recently, by any process (a folder of one empty file per port, in the
  // temp folder): a port free now may belong to a node of another cluster that is down for a
  // moment (kill -9, then restart), e.g. in a test run beside this one.
  const fs::path claims = fs::temp_directory_path() / "quorumlab-ports";
  std::error_code ec;
  fs::create_directories(claims, ec);
  auto claim = [&](int port) {
    const std::string file = (claims / std::to_string(port)).string();
    int fd = ::open(file.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    if (errno != EEXIST) return true;  // no usable folder: the bind test alone decides
    std::error_code age_ec;
    const auto age = fs::file_time_type::clock::now() - fs::last_write_time(file, age_ec);
    if (age_ec || age < std::chrono::hours(6)) return false;
    fs::last_write_time(file, fs::file_time_type::clock::now(), age_ec);  // stale: take it
    return true;
  };
  std::vector<int> fds, ports;
  for (int attempt = 0; ports.size() < n && attempt < 100000; ++attempt) {
    const int port = pick(rng);
    if (std::find(ports.begin(), ports.end(), port) != ports.end()) continue;
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || !claim(port)) {
      ::close(fd);
      continue;
    }
    ports.push_back(port);
    fds.push_back(fd);  // held open until all are chosen, so they are distinct
  }
  for (int fd : fds)
    ::close(fd);
  if (ports.size() < n) {
    throw std::runtime_error("cannot find " + std::to_string(n) + " free ports on 127.0.0.1 in " +
                             std::to_string(lo) + ".." + std::to_string(hi));
  }
  return ports;
}

ClusterSpec launch(const LaunchOptions& o, const std::function<void(const std::string&)>& progress,
                   NodeId* leader) {
  // Refused pairs fail here, with the server's own line, before any process starts.
  PluginChoice broadcast{o.broadcast, {}, {}};
  for (const auto& s : o.sets) {
    const std::string prefix = "broadcast.";
    const auto eq = s.find('=');
    if (s.compare(0, prefix.size(), prefix) == 0 && eq != std::string::npos) {
      broadcast.texts[s.substr(prefix.size(), eq - prefix.size())] = s.substr(eq + 1);
    }
  }
  require_supported_pair(PluginLoader(PluginLoader::default_dir()), broadcast, o.read_policy);
  std::vector<std::string> args = {"--broadcast", o.broadcast,     "--storage",
                                   o.storage,     "--read-policy", o.read_policy};
  for (const auto& s : o.sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  auto spec = plan(o.dir, o.qlab, o.voters, o.observers, args, o.zk_ports);
  if (fs::exists(spec.dir / "cluster.json")) {
    auto old = load(spec.dir);
    for (const auto& n : old.nodes) {
      if (proc_state(n.pid) != ProcState::down) {
        throw std::runtime_error("a cluster is already running in " + spec.dir.string() +
                                 " (node " + std::to_string(n.id) + ", pid " +
                                 std::to_string(n.pid) + "); stop it first");
      }
    }
  }
  save(spec);
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& n : spec.nodes) {
    progress("starting node " + std::to_string(n.id) + (n.observer ? " (observer)" : "") +
             " on port " + std::to_string(n.client_port));
    start_node(spec, n.id, o.timeout);
  }
  const NodeId elected = wait_for_leader(spec, o.timeout);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  progress("leader elected: node " + std::to_string(elected) + " (" + std::to_string(ms) +
           " ms after the first start)");
  if (leader) *leader = elected;
  return spec;
}

ClusterSpec plan(const fs::path& dir, const fs::path& qlab, std::size_t voters,
                 std::size_t observers, std::vector<std::string> server_args, bool zk_ports) {
  if (voters == 0) throw std::runtime_error("a cluster needs at least one voting node");
  if (voters + observers > 254) throw std::runtime_error("at most 254 nodes");
  ClusterSpec spec;
  spec.dir = fs::absolute(dir);
  spec.qlab = qlab;
  spec.server_args = std::move(server_args);
  const std::size_t n = voters + observers;
  auto ports = free_ports(n * (zk_ports ? 3 : 2));
  for (std::size_t i = 0; i < n; ++i) {
    NodeSpec node;
    node.id = static_cast<NodeId>(i + 1);
    node.observer = i >= voters;
    node.client_port = ports[i * (zk_ports ? 3 : 2)];
    node.peer_port = ports[i * (zk_ports ? 3 : 2) + 1];
    if (zk_ports) node.zk_port = ports[i * 3 + 2];
    spec.nodes.push_back(node);
  }
  return spec;
}

void save(const ClusterSpec& spec) {
  json j;
  j["qlab"] = spec.qlab.string();
  j["server_args"] = spec.server_args;
  for (const auto& n : spec.nodes) {
    j["nodes"].push_back({{"id", n.id},
                          {"observer", n.observer},
                          {"client_port", n.client_port},
                          {"peer_port", n.peer_port},
                          {"zk_port", n.zk_port},
                          {"pid", n.pid}});
  }
  fs::create_directories(spec.dir);
  fs::path tmp = spec.dir / "cluster.json.tmp";
  std::ofstream(tmp) << j.dump(2) << "\n";
  fs::rename(tmp, spec.dir / "cluster.json");
}

ClusterSpec load(const fs::path& dir) {
  fs::path file = fs::absolute(dir) / "cluster.json";
  std::ifstream in(file);
  if (!in)
    throw std::runtime_error(file.string() +
                             ": no cluster here (start one with qlab cluster start)");
  ClusterSpec spec;
  spec.dir = fs::absolute(dir);
  try {
    json j = json::parse(in);
    spec.qlab = j.at("qlab").get<std::string>();
    spec.server_args = j.at("server_args").get<std::vector<std::string>>();
    for (const auto& n : j.at("nodes")) {
      NodeSpec node;
      node.id = n.at("id").get<NodeId>();
      node.observer = n.at("observer").get<bool>();
      node.client_port = n.at("client_port").get<int>();
      node.peer_port = n.at("peer_port").get<int>();
      node.zk_port = n.at("zk_port").get<int>();
      node.pid = n.at("pid").get<pid_t>();
      spec.nodes.push_back(node);
    }
  } catch (const json::exception& e) {
    throw std::runtime_error(file.string() + ": invalid cluster file: " + e.what());
  }
  return spec;
}

ReplicaPositions replica_positions(const ClusterSpec& spec, std::chrono::milliseconds timeout) {
  ReplicaPositions p;
  bool first = true;
  std::ostringstream text;
  for (const auto& n : spec.nodes) {
    auto st = probe("127.0.0.1", n.client_port, timeout);
    if (!st) {
      p.all_answered = false;
      text << " node " << n.id << " does not answer;";
      continue;
    }
    text << " node " << n.id << " at 0x" << std::hex << st->applied_zxid << " digest 0x"
         << st->digest << std::dec << ";";
    if (first) {
      p.zxid = st->applied_zxid;
      p.digest = st->digest;
      first = false;
    }
    p.same_zxid = p.same_zxid && st->applied_zxid == p.zxid;
    p.same_digest = p.same_digest && st->digest == p.digest;
  }
  if (first) p.all_answered = false;  // no node at all
  p.text = text.str();
  return p;
}

NodeSpec& node(ClusterSpec& spec, NodeId id) {
  for (auto& n : spec.nodes) {
    if (n.id == id) return n;
  }
  throw std::runtime_error("no node " + std::to_string(id) + " in the cluster at " +
                           spec.dir.string() + " (nodes 1-" + std::to_string(spec.nodes.size()) +
                           ")");
}

void start_node(ClusterSpec& spec, NodeId id, std::chrono::milliseconds timeout) {
  NodeSpec& n = node(spec, id);
  if (proc_state(n.pid) != ProcState::down) {
    throw std::runtime_error("node " + std::to_string(id) + " is already running (pid " +
                             std::to_string(n.pid) + ")");
  }
  std::vector<std::string> args = {spec.qlab.string(),
                                   "server",
                                   "--id",
                                   std::to_string(id),
                                   "--client-port",
                                   std::to_string(n.client_port),
                                   "--peer-port",
                                   std::to_string(n.peer_port),
                                   "--zk-port",
                                   std::to_string(n.zk_port),
                                   "--data-dir",
                                   (spec.dir / ("n" + std::to_string(id))).string(),
                                   "--peers",
                                   peers_arg(spec)};
  args.insert(args.end(), spec.server_args.begin(), spec.server_args.end());
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  fs::path log = log_file(spec, id);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::setsid();
    int logfd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(pipefd[1], 1);
    if (logfd >= 0) ::dup2(logfd, 2);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(pipefd[1]);
  n.pid = pid;
  save(spec);
  std::string out;
  auto deadline = Clock::now() + timeout;
  bool ready = false;
  while (!ready && Clock::now() < deadline) {
    pollfd p{pipefd[0], POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) continue;
    char buf[512];
    ssize_t r = ::read(pipefd[0], buf, sizeof buf);
    if (r <= 0) break;  // the server exited
    out.append(buf, static_cast<std::size_t>(r));
    ready = out.find("serving clients on") != std::string::npos;
  }
  ::close(pipefd[0]);
  std::ofstream(log, std::ios::app) << out;
  if (!ready) {
    ::kill(pid, SIGKILL);
    throw std::runtime_error("node " + std::to_string(id) + " did not start; end of " +
                             log.string() + ":\n" + tail_of(log));
  }
}

NodeId wait_for_leader(const ClusterSpec& spec, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string last;
  while (true) {
    NodeId leader = 0;
    bool agreed = true, leader_ready = false;
    std::ostringstream report;
    for (const auto& n : spec.nodes) {
      if (proc_state(n.pid) != ProcState::running) continue;
      auto st = probe("127.0.0.1", n.client_port, std::chrono::milliseconds(200));
      report << "  node " << n.id << ": "
             << (st ? st->role + ", leader " + std::to_string(st->leader) : "no answer") << "\n";
      if (!st || n.observer) continue;
      if (st->leader == 0 || (leader != 0 && st->leader != leader)) agreed = false;
      leader = st->leader;
      if (st->server_id == st->leader && st->role == "leader" && st->can_propose)
        leader_ready = true;
    }
    if (agreed && leader != 0 && leader_ready) return leader;
    last = report.str();
    if (Clock::now() >= deadline) {
      throw std::runtime_error("no leader elected within " + std::to_string(timeout.count()) +
                               " ms:\n" + last);
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

TransferOutcome transfer_leadership(const ClusterSpec& spec, NodeId target,
                                    std::chrono::milliseconds timeout) {
  const auto t0 = Clock::now();
  const auto deadline = t0 + timeout;
  const NodeSpec* tn = nullptr;
  for (const auto& n : spec.nodes)
    if (n.id == target) tn = &n;
  if (!tn) throw std::runtime_error("node " + std::to_string(target) + " is not in the cluster");
  // A paused node is tried like a slow one: the leader gives the transfer up.
  if (proc_state(tn->pid) == ProcState::down) {
    throw std::runtime_error("node " + std::to_string(target) + " is down");
  }
  auto port_of = [&](NodeId id) {
    for (const auto& n : spec.nodes)
      if (n.id == id) return n.client_port;
    return 0;
  };
  auto left = [&] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
  };
  TransferOutcome out;
  out.old_leader = wait_for_leader(spec, left());
  std::optional<TransferReply> reply;
  NodeId asked = out.old_leader;
  for (int attempt = 0; attempt < 3 && asked != 0; ++attempt) {
    reply = request_transfer("127.0.0.1", port_of(asked), target,
                             std::min(left(), std::chrono::milliseconds(2000)));
    if (!reply) {
      throw std::runtime_error("transfer to node " + std::to_string(target) + ": node " +
                               std::to_string(asked) + " did not answer");
    }
    if (reply->status != "not leader" || reply->leader == 0 || reply->leader == asked) break;
    asked = reply->leader;  // the leader changed meanwhile: ask the one it names
  }
  out.old_leader = asked;
  if (reply->status == "already leader") {
    out.new_leader = target;
    out.already = true;
    if (auto st = probe("127.0.0.1", port_of(target), std::chrono::milliseconds(500)))
      out.term = st->epoch;
    return out;
  }
  if (reply->status != "started") {
    throw std::runtime_error("transfer to node " + std::to_string(target) + " refused by node " +
                             std::to_string(asked) + ": " + reply->message);
  }
  while (true) {
    auto st = probe("127.0.0.1", port_of(target), std::chrono::milliseconds(200));
    if (st && st->role == "leader" && st->can_propose && st->server_id == target) {
      out.new_leader = target;
      out.term = st->epoch;
      out.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      return out;
    }
    auto old = probe("127.0.0.1", port_of(asked), std::chrono::milliseconds(200));
    if (old && old->role == "leader" && old->sub_state.find("transfer") == std::string::npos) {
      throw std::runtime_error("transfer to node " + std::to_string(target) + " timed out: node " +
                               std::to_string(asked) +
                               " gave it up after an election timeout and still leads (is node " +
                               std::to_string(target) + " slow, partitioned or paused?)");
    }
    if (Clock::now() >= deadline) {
      throw std::runtime_error(
          "transfer to node " + std::to_string(target) + " timed out after " +
          std::to_string(timeout.count()) + " ms (node " + std::to_string(target) + ": " +
          (st ? st->role + ", leader " + std::to_string(st->leader) : std::string("no answer")) +
          ")");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

void signal_node(ClusterSpec& spec, NodeId id, int signal) {
  NodeSpec& n = node(spec, id);
  if (proc_state(n.pid) == ProcState::down) return;
  if (signal == SIGTERM || signal == SIGKILL)
    ::kill(n.pid, SIGCONT);  // a paused node must run to exit
  ::kill(n.pid, signal);
  if (signal == SIGSTOP) {
    // Returns once the kernel has stopped the process, so a caller that pauses a node and
    // then acts (or reads the status) sees it stopped. A stop is delivered within
    // microseconds; the deadline only guards against a process that ignores it.
    const auto stop_deadline = Clock::now() + std::chrono::seconds(5);
    while (proc_state(n.pid) == ProcState::running && Clock::now() < stop_deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return;
  }
  if (signal != SIGTERM && signal != SIGKILL) return;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  // A SIGKILLed process is gone within a few milliseconds; poll finely so callers that time
  // from its death (failover) are not off by a whole poll interval.
  const auto poll = signal == SIGKILL ? std::chrono::milliseconds(1) : kPollInterval;
  while (proc_state(n.pid) != ProcState::down) {
    if (Clock::now() > deadline) {
      ::kill(n.pid, SIGKILL);
      deadline = Clock::now() + std::chrono::seconds(5);
    }
    std::this_thread::sleep_for(poll);
  }
}

namespace {

std::vector<NodeId> parse_ids(const ClusterSpec& spec, const std::string& list,
                              const std::string& whole) {
  std::vector<NodeId> ids;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const std::size_t comma = std::min(list.find(',', pos), list.size());
    const std::string item = list.substr(pos, comma - pos);
    pos = comma + 1;
    NodeId id = 0;
    try {
      std::size_t used = 0;
      const long v = std::stol(item, &used);
      if (used != item.size() || v <= 0) throw std::invalid_argument(item);
      id = static_cast<NodeId>(v);
    } catch (const std::exception&) {
      throw std::invalid_argument("'" + whole + "': '" + item + "' is not a node id");
    }
    bool known = false;
    for (const auto& n : spec.nodes)
      known = known || n.id == id;
    if (!known) throw std::invalid_argument("'" + whole + "': no node " + std::to_string(id));
    ids.push_back(id);
  }
  return ids;
}

void set_link(NetRuleSet& rules, NodeId from, NodeId to,
              const std::function<void(node::NetRule&)>& change) {
  auto& list = rules[from].links;
  auto it = std::find_if(list.begin(), list.end(), [to](const auto& r) { return r.peer == to; });
  if (it == list.end()) it = list.insert(list.end(), node::NetRule{to, 0, 0, 0});
  change(*it);
  if (it->drop_pct == 0 && it->delay_ms == 0 && it->jitter_ms == 0) list.erase(it);
}

}  // namespace

NetRuleSet partition_rules(const ClusterSpec& spec, const std::string& groups) {
  NetRuleSet rules;
  const auto drop_all = [](node::NetRule& r) { r.drop_pct = 100; };
  if (const auto gt = groups.find('>'); gt != std::string::npos) {
    const auto from = parse_ids(spec, groups.substr(0, gt), groups);
    const auto to = parse_ids(spec, groups.substr(gt + 1), groups);
    for (NodeId a : from)
      for (NodeId b : to)
        if (a != b) set_link(rules, a, b, drop_all);
    return rules;
  }
  std::vector<std::vector<NodeId>> sets;
  std::size_t pos = 0;
  while (pos <= groups.size()) {
    const std::size_t slash = std::min(groups.find('/', pos), groups.size());
    sets.push_back(parse_ids(spec, groups.substr(pos, slash - pos), groups));
    pos = slash + 1;
  }
  if (sets.size() < 2) {
    throw std::invalid_argument("'" + groups +
                                "': a partition needs two groups or more (1,2/3), or one way "
                                "(1,2>3)");
  }
  auto together = [&sets](NodeId a, NodeId b) {
    for (const auto& g : sets) {
      if (std::count(g.begin(), g.end(), a) && std::count(g.begin(), g.end(), b)) return true;
    }
    return false;
  };
  for (const auto& n : spec.nodes) {
    bool placed = false;
    for (const auto& g : sets)
      placed = placed || std::count(g.begin(), g.end(), n.id);
    if (!placed) {
      throw std::invalid_argument("'" + groups + "': node " + std::to_string(n.id) +
                                  " is in no group (every node must be in one)");
    }
  }
  for (const auto& a : spec.nodes)
    for (const auto& b : spec.nodes)
      if (a.id != b.id && !together(a.id, b.id)) set_link(rules, a.id, b.id, drop_all);
  return rules;
}

NetRuleSet link_rules(const ClusterSpec& spec, NetRuleSet current, NodeId id,
                      std::optional<std::uint32_t> drop_pct, std::optional<std::uint32_t> delay_ms,
                      std::optional<std::uint32_t> jitter_ms) {
  parse_ids(spec, std::to_string(id), std::to_string(id));
  const auto change = [&](node::NetRule& r) {
    if (drop_pct) r.drop_pct = *drop_pct;
    if (delay_ms) r.delay_ms = *delay_ms;
    if (jitter_ms) r.jitter_ms = *jitter_ms;
  };
  for (const auto& n : spec.nodes) {
    if (n.id == id) continue;
    set_link(current, id, n.id, change);
    set_link(current, n.id, id, change);
  }
  return current;
}

NetRuleSet node_rules(const ClusterSpec& spec, NetRuleSet current, NodeId id,
                      std::optional<std::int64_t> disk_delay_ms,
                      std::optional<std::int64_t> clock_skew_ppm, std::optional<bool> clients_cut) {
  parse_ids(spec, std::to_string(id), std::to_string(id));
  if (disk_delay_ms && (*disk_delay_ms < 0 || *disk_delay_ms > node::kMaxFaultDelayMs)) {
    throw std::invalid_argument("disk delay " + std::to_string(*disk_delay_ms) +
                                " ms out of range: 0 .. " + std::to_string(node::kMaxFaultDelayMs) +
                                " ms (0 clears it)");
  }
  if (clock_skew_ppm &&
      (*clock_skew_ppm < -node::kMaxClockSkewPpm || *clock_skew_ppm > node::kMaxClockSkewPpm)) {
    throw std::invalid_argument("clock skew " + std::to_string(*clock_skew_ppm) +
                                " ppm out of range: -" + std::to_string(node::kMaxClockSkewPpm) +
                                " .. " + std::to_string(node::kMaxClockSkewPpm) +
                                " ppm (tick rates 0.5 .. 1.5; 0 clears it)");
  }
  auto& r = current[id];
  if (disk_delay_ms) r.disk_delay_ms = static_cast<std::uint32_t>(*disk_delay_ms);
  if (clock_skew_ppm) r.clock_skew_ppm = static_cast<std::int32_t>(*clock_skew_ppm);
  if (clients_cut) r.clients_cut = *clients_cut;
  return current;
}

NetRuleSet current_net_rules(const ClusterSpec& spec) {
  NetRuleSet out;
  for (const auto& n : spec.nodes) {
    if (proc_state(n.pid) != ProcState::running) continue;
    if (auto st = probe("127.0.0.1", n.client_port, std::chrono::milliseconds(1000))) {
      if (!st->net_rules.empty()) out[n.id] = st->net_rules;
    }
  }
  return out;
}

void apply_net_rules(const ClusterSpec& spec, const NetRuleSet& rules,
                     std::chrono::milliseconds timeout) {
  for (const auto& n : spec.nodes) {
    if (proc_state(n.pid) != ProcState::running) {
      if (rules.count(n.id) && !rules.at(n.id).empty()) {
        throw std::runtime_error("node " + std::to_string(n.id) +
                                 " is not running: its rules cannot be set");
      }
      continue;
    }
    const auto it = rules.find(n.id);
    const std::string error = set_net_rules(
        "127.0.0.1", n.client_port, it == rules.end() ? node::FaultRules{} : it->second, timeout);
    if (!error.empty()) throw std::runtime_error("node " + std::to_string(n.id) + ": " + error);
  }
}

std::size_t change_network(const ClusterSpec& spec, const std::string& what,
                           const std::string& groups, NodeId id,
                           std::optional<std::uint32_t> drop_pct,
                           std::optional<std::uint32_t> delay_ms,
                           std::optional<std::uint32_t> jitter_ms,
                           std::chrono::milliseconds timeout) {
  NetRuleSet rules;
  if (what == "partition") {
    rules = partition_rules(spec, groups);
    for (const auto& [node_id, now] : current_net_rules(spec)) {  // keep the nodes' own faults
      node::FaultRules own = now;
      own.links = rules[node_id].links;
      rules[node_id] = own;
    }
  } else if (what == "delay" || what == "drop") {
    rules = link_rules(spec, current_net_rules(spec), id, drop_pct, delay_ms, jitter_ms);
  } else if (what != "heal") {
    throw std::invalid_argument("unknown network change '" + what +
                                "' (partition, heal, delay, drop)");
  }
  apply_net_rules(spec, rules, timeout);
  std::size_t n = 0;
  for (const auto& [node_id, r] : current_net_rules(spec))
    n += r.links.size();
  return n;
}

node::FaultRules change_node_faults(const ClusterSpec& spec, NodeId id,
                                    std::optional<std::int64_t> disk_delay_ms,
                                    std::optional<std::int64_t> clock_skew_ppm,
                                    std::optional<bool> clients_cut,
                                    std::chrono::milliseconds timeout) {
  apply_net_rules(
      spec,
      node_rules(spec, current_net_rules(spec), id, disk_delay_ms, clock_skew_ppm, clients_cut),
      timeout);
  const auto now = current_net_rules(spec);
  const auto it = now.find(id);
  return it == now.end() ? node::FaultRules{} : it->second;
}

std::string connect_string(const ClusterSpec& spec, bool zookeeper) {
  std::string out;
  for (const auto& n : spec.nodes) {
    if (!out.empty()) out += ",";
    out += "127.0.0.1:" + std::to_string(zookeeper ? n.zk_port : n.client_port);
  }
  return out;
}

}  // namespace quorumlab::cluster
