// Bindings of the cluster launcher (harness/cluster: the one `qlab cluster` uses), the
// benchmark (harness/cluster/bench.hpp: the one `qlab bench` runs) and the plugin loader.
#include <signal.h>

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <nlohmann/json.hpp>

#include "../../harness/cluster/bench.hpp"
#include "../../harness/cluster/cluster.hpp"
#include "../../harness/cluster/failover.hpp"
#include "../../harness/cluster/plugins_json.hpp"
#include "native.hpp"
#include "quorumlab/config.hpp"
#include "quorumlab/plugin/loader.hpp"

namespace quorumlab::py {

namespace {

namespace cl = quorumlab::cluster;
using pyb::gil_scoped_release;

std::chrono::milliseconds ms(double seconds) {
  return std::chrono::milliseconds(static_cast<long>(seconds * 1000));
}

/// JSON to Python through the json module (plain data only, small).
pyb::object json_py(const nlohmann::json& j) {
  return pyb::module_::import("json").attr("loads")(j.dump());
}

/// What `qlab plugins --json` prints, one object per plugin (one implementation).
nlohmann::json plugins_json(const std::string& dir) {
  return cl::plugins_json(PluginLoader(dir.empty() ? plugin_dir() : std::filesystem::path(dir)));
}

pyb::dict status_py(const cl::ServerStatus& st) {
  pyb::dict d;
  d["id"] = st.server_id;
  d["role"] = st.role;
  d["leader"] = st.leader;
  d["epoch"] = st.epoch;
  d["sub_state"] = st.sub_state;
  d["applied_zxid"] = st.applied_zxid;
  d["committed_zxid"] = st.committed_zxid;
  d["digest"] = st.digest;
  d["znodes"] = st.znode_count;
  d["sessions"] = st.session_count;
  d["connections"] = st.connection_count;
  d["txns_applied"] = st.txns_applied;
  d["fsyncs"] = st.fsyncs;
  d["can_propose"] = st.can_propose;
  d["ticks"] = st.ticks;
  pyb::list rules;
  for (const auto& r : st.net_rules.links) {
    pyb::dict rule;
    rule["peer"] = r.peer;
    rule["drop_pct"] = r.drop_pct;
    rule["delay_ms"] = r.delay_ms;
    rule["jitter_ms"] = r.jitter_ms;
    rules.append(rule);
  }
  d["net_rules"] = rules;
  d["disk_delay_ms"] = st.net_rules.disk_delay_ms;
  d["clock_skew_ppm"] = st.net_rules.clock_skew_ppm;
  d["clients_cut"] = st.net_rules.clients_cut;
  return d;
}

const char* proc_state_name(cl::ProcState s) {
  return s == cl::ProcState::paused ? "paused" : s == cl::ProcState::down ? "down" : "running";
}

int signal_number(const std::string& name) {
  if (name == "kill") return SIGKILL;
  if (name == "term") return SIGTERM;
  if (name == "stop") return SIGSTOP;
  if (name == "cont") return SIGCONT;
  throw std::invalid_argument("unknown signal '" + name + "' (kill, term, stop, cont)");
}

}  // namespace

void bind_cluster(pyb::module_& m) {
  m.def(
      "plugins", [](const std::string& dir) { return json_py(plugins_json(dir)); },
      pyb::arg("dir") = "");
  m.def(
      "require_supported_pair",
      [](const std::string& broadcast, const std::string& read_policy,
         const std::map<std::string, std::string>& broadcast_params) {
        PluginLoader loader(plugin_dir());
        // describe() names a missing plugin and lists the installed ones.
        loader.describe(PluginKind::broadcast, broadcast);
        loader.describe(PluginKind::read_policy, read_policy);
        require_supported_pair(loader, PluginChoice{broadcast, {}, broadcast_params}, read_policy);
      },
      pyb::arg("broadcast"), pyb::arg("read_policy"),
      pyb::arg("broadcast_params") = std::map<std::string, std::string>{},
      "Raises for a missing plugin or a broadcast/read-policy pair the kernel refuses with these "
      "broadcast parameters (text values, as on the command line).");
  pyb::register_exception<PluginError>(m, "PluginError", PyExc_ValueError);

  pyb::class_<cl::ClusterSpec>(m, "ClusterSpec")
      .def_property_readonly("dir", [](const cl::ClusterSpec& s) { return s.dir.string(); })
      .def_property_readonly("nodes", [](const cl::ClusterSpec& s) {
        pyb::list out;
        for (const auto& n : s.nodes) {
          pyb::dict d;
          d["id"] = n.id;
          d["observer"] = n.observer;
          d["client_port"] = n.client_port;
          d["peer_port"] = n.peer_port;
          d["zk_port"] = n.zk_port;
          d["pid"] = n.pid;
          out.append(d);
        }
        return out;
      });

  m.def(
      "plan",
      [](const std::string& dir, std::size_t voters, std::size_t observers,
         std::vector<std::string> args, bool zk_ports) {
        return cl::plan(dir, bin_dir() / "qlab", voters, observers, std::move(args), zk_ports);
      },
      pyb::arg("dir"), pyb::arg("voters"), pyb::arg("observers"), pyb::arg("server_args"),
      pyb::arg("zk_ports"));
  m.def("save", &cl::save);
  m.def("free_ports", &cl::free_ports, pyb::arg("n"),
        "n distinct free ports on 127.0.0.1 outside the kernel's ephemeral range");
  m.def("load", [](const std::string& dir) { return cl::load(dir); });
  m.def(
      "start_node",
      [](cl::ClusterSpec& spec, NodeId id, double timeout_s) {
        gil_scoped_release release;
        cl::start_node(spec, id, ms(timeout_s));
      },
      pyb::arg("spec"), pyb::arg("id"), pyb::arg("timeout_s"));
  m.def(
      "wait_for_leader",
      [](const cl::ClusterSpec& spec, double timeout_s) {
        gil_scoped_release release;
        return cl::wait_for_leader(spec, ms(timeout_s));
      },
      pyb::arg("spec"), pyb::arg("timeout_s"));
  m.def(
      "signal_node",
      [](cl::ClusterSpec& spec, NodeId id, const std::string& sig) {
        int s = signal_number(sig);
        cl::node(spec, id);  // validates the id
        gil_scoped_release release;
        cl::signal_node(spec, id, s);
      },
      pyb::arg("spec"), pyb::arg("id"), pyb::arg("signal"));
  m.def(
      "change_network",
      [](const cl::ClusterSpec& spec, const std::string& what, const std::string& groups, NodeId id,
         std::optional<std::uint32_t> drop, std::optional<std::uint32_t> delay,
         std::optional<std::uint32_t> jitter, double timeout_s) {
        gil_scoped_release release;
        return cl::change_network(spec, what, groups, id, drop, delay, jitter, ms(timeout_s));
      },
      pyb::arg("spec"), pyb::arg("what"), pyb::arg("groups"), pyb::arg("id"), pyb::arg("drop"),
      pyb::arg("delay"), pyb::arg("jitter"), pyb::arg("timeout_s"));
  m.def(
      "change_node_faults",
      [](const cl::ClusterSpec& spec, NodeId id, std::optional<std::int64_t> disk_delay_ms,
         std::optional<std::int64_t> clock_skew_ppm, std::optional<bool> clients_cut,
         double timeout_s) {
        gil_scoped_release release;
        cl::change_node_faults(spec, id, disk_delay_ms, clock_skew_ppm, clients_cut, ms(timeout_s));
      },
      pyb::arg("spec"), pyb::arg("id"), pyb::arg("disk_delay_ms"), pyb::arg("clock_skew_ppm"),
      pyb::arg("clients_cut"), pyb::arg("timeout_s"));
  m.def(
      "connect_string",
      [](const cl::ClusterSpec& spec, bool zk) { return cl::connect_string(spec, zk); },
      pyb::arg("spec"), pyb::arg("zookeeper") = false);
  m.def("proc_state", [](int pid) { return proc_state_name(cl::proc_state(pid)); });
  m.def(
      "probe",
      [](int port, double timeout_s) -> pyb::object {
        std::optional<cl::ServerStatus> st;
        {
          gil_scoped_release release;
          st = cl::probe("127.0.0.1", port, ms(timeout_s));
        }
        if (!st) return pyb::none();
        return status_py(*st);
      },
      pyb::arg("port"), pyb::arg("timeout_s") = 0.5);
  m.def(
      "measure_failover",
      [](cl::ClusterSpec& spec, int rounds, double timeout_s, bool restart,
         const std::string& fault) {
        cl::FailoverOptions fo;
        fo.rounds = rounds;
        fo.fault = cl::parse_failover_fault(fault);
        fo.timeout = ms(timeout_s);
        fo.restart_old_leader = restart;
        std::vector<cl::FailoverRound> results;
        {
          gil_scoped_release release;
          results = cl::measure_failover(spec, fo, [](const std::string&) {});
        }
        pyb::list out;
        for (const auto& r : results) {
          pyb::dict d;
          d["old_leader"] = r.old_leader;
          d["new_leader"] = r.new_leader;
          d["failover_ms"] = r.failover_ms;
          d["writes_before"] = r.writes_before;
          d["failed_writes"] = r.failed_writes;
          d["converged"] = r.converged;
          out.append(d);
        }
        return out;
      },
      pyb::arg("spec"), pyb::arg("rounds"), pyb::arg("timeout_s"), pyb::arg("restart"),
      pyb::arg("fault") = "kill");
  m.def(
      "run_bench",
      [](const std::string& connect, const std::string& protocol, int sessions, int outstanding,
         int read_pct, int value_bytes, int keys, double duration_s, double warmup_s,
         std::uint64_t seed, int timeout_ms, const std::string& root, double interval_s,
         bool timeline, const std::string& history, double rate) {
        cl::BenchOptions o;
        o.connect = connect;
        o.protocol = protocol;
        o.sessions = sessions;
        o.outstanding = outstanding;
        o.read_pct = read_pct;
        o.value_bytes = value_bytes;
        o.keys = keys;
        o.duration_s = duration_s;
        o.warmup_s = warmup_s;
        o.seed = seed;
        o.timeout_ms = timeout_ms;
        o.root = root;
        o.interval_s = interval_s;
        o.timeline = timeline;
        o.history_file = history;
        o.rate = rate;
        nlohmann::json j;
        {
          gil_scoped_release release;  // the load runs in C++; Python only waits
          j = cl::run_bench(o);
        }
        return json_py(j);
      },
      pyb::arg("connect"), pyb::arg("protocol"), pyb::arg("sessions"), pyb::arg("outstanding"),
      pyb::arg("read_pct"), pyb::arg("value_bytes"), pyb::arg("keys"), pyb::arg("duration_s"),
      pyb::arg("warmup_s"), pyb::arg("seed"), pyb::arg("timeout_ms"), pyb::arg("root"),
      pyb::arg("interval_s") = 1.0, pyb::arg("timeline") = false, pyb::arg("history") = "",
      pyb::arg("rate") = 0.0);
}

}  // namespace quorumlab::py
