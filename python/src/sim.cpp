// Bindings of the deterministic simulator (harness/sim: the one `qlab sim` runs).
#include <pybind11/stl.h>

#include "native.hpp"
#include "quorumlab/config.hpp"
#include "quorumlab/log.hpp"
#include "quorumlab/plugin/loader.hpp"
#include "quorumlab/sim/simulator.hpp"

namespace quorumlab::py {

namespace {

/// The history as columns (one list per field), which pandas turns into a DataFrame at once.
pyb::dict history_columns(const sim::History& h) {
  pyb::list id, client, session, op, path, data, version, watch, invoke_us, complete_us, err,
      result, zxid, observed_exists, observed_version, outcome_from_log;
  for (const auto& o : h.ops) {
    id.append(o.id);
    client.append(o.client);
    session.append(o.session);
    op.append(sim::to_string(o.kind));
    path.append(o.key);
    data.append(pyb::bytes(o.data));
    version.append(o.version);
    watch.append(o.watch);
    invoke_us.append(o.invoke_us);
    if (o.completed() || o.outcome_from_log) {
      err.append(o.err);
      result.append(o.err == 0 ? "OK" : quorumlab::zk_error_name(o.err));
      zxid.append(o.zxid);
      observed_exists.append(o.observed.exists);
      observed_version.append(o.observed.version);
    } else {
      err.append(pyb::none());
      result.append("no_reply");
      zxid.append(pyb::none());
      observed_exists.append(pyb::none());
      observed_version.append(pyb::none());
    }
    complete_us.append(o.completed() ? pyb::object(pyb::int_(o.complete_us))
                                     : pyb::object(pyb::none()));
    outcome_from_log.append(o.outcome_from_log);
  }
  pyb::dict d;
  d["id"] = id;
  d["client"] = client;
  d["session"] = session;
  d["op"] = op;
  d["path"] = path;
  d["data"] = data;
  d["version"] = version;
  d["watch"] = watch;
  d["invoke_us"] = invoke_us;
  d["complete_us"] = complete_us;
  d["err"] = err;
  d["result"] = result;
  d["zxid"] = zxid;
  d["observed_exists"] = observed_exists;
  d["observed_version"] = observed_version;
  d["outcome_from_log"] = outcome_from_log;
  return d;
}

pyb::dict result_py(const sim::RunResult& r, bool with_history) {
  pyb::dict d;
  d["ok"] = r.ok;
  d["property"] = r.property;
  d["message"] = r.message;
  d["seed"] = r.seed;
  d["trace_digest"] = r.trace_digest;
  d["events"] = r.events;
  d["sim_time_us"] = r.sim_time_us;
  d["trace_tail"] = r.trace_tail;
  d["ops"] = r.ops;
  d["ops_ok"] = r.ops_ok;
  d["ops_no_reply"] = r.ops_no_reply;
  d["faults"] = r.faults;
  d["crashes"] = r.crashes;
  d["leaders"] = r.leaders;
  d["final_zxid"] = r.final_zxid;
  pyb::dict stale;
  stale["reads"] = r.stale.reads;
  stale["stale"] = r.stale.stale;
  stale["versions_sum"] = r.stale.versions_sum;
  stale["versions_max"] = r.stale.versions_max;
  stale["ms_sum"] = r.stale.ms_sum;
  stale["ms_max"] = r.stale.ms_max;
  d["stale"] = stale;
  d["session_order_anomalies"] = r.session_order_anomalies;
  d["session_order_example"] = r.session_order_example;
  pyb::dict lin;
  lin["ok"] = r.linearizability.ok;
  lin["keys_checked"] = r.linearizability.keys_checked;
  lin["ops_checked"] = r.linearizability.ops_checked;
  lin["keys_unknown"] = r.linearizability.keys_unknown;
  lin["failed_key"] = r.linearizability.failed_key;
  lin["explanation"] = r.linearizability.explanation;
  d["linearizability"] = lin;
  if (with_history) d["history"] = history_columns(r.history);
  return d;
}

}  // namespace

void bind_sim(pyb::module_& m) {
  m.def(
      "sim_run",
      [](std::uint64_t seed, const std::string& broadcast, int nodes, int observers,
         const std::string& read_policy, const std::string& faults, std::int64_t duration_ms,
         std::uint64_t max_steps, std::int64_t liveness_timeout_ms, int clients, int keys,
         std::int32_t session_timeout_ms, const std::map<std::string, std::string>& params,
         const std::string& trace_file, bool with_history, const std::string& log_level) {
        log::configure(log_level);  // replicas' logs drown everything else ("off" by default)
        sim::SimConfig c;
        c.seed = seed;
        c.broadcast = broadcast;
        c.nodes = nodes > 0 ? nodes : (broadcast == "solo" ? 1 : 3);
        c.observers = observers;
        c.read_policy = read_policy;
        c.plugin_dir = plugin_dir().string();
        sim::apply_fault_mix(c, faults);
        if (duration_ms > 0) c.duration_ms = duration_ms;
        c.max_steps = max_steps;
        if (liveness_timeout_ms > 0) c.liveness_timeout_ms = liveness_timeout_ms;
        if (clients > 0) c.workload.clients = clients;
        if (keys > 0) c.workload.keys = keys;
        if (session_timeout_ms > 0) c.workload.session_timeout_ms = session_timeout_ms;
        c.broadcast_params = params;
        c.trace_file = trace_file;
        require_supported_pair(PluginLoader(c.plugin_dir),
                               PluginChoice{c.broadcast, {}, c.broadcast_params}, c.read_policy);
        sim::RunResult r;
        {
          pyb::gil_scoped_release release;
          r = sim::run_simulation(c);
        }
        auto d = result_py(r, with_history);
        d["config_text"] = c.to_text();
        d["failure_report"] = r.ok ? std::string() : sim::format_failure(c, r);
        d["nodes"] = c.nodes;
        return d;
      },
      pyb::arg("seed"), pyb::arg("broadcast"), pyb::arg("nodes"), pyb::arg("observers"),
      pyb::arg("read_policy"), pyb::arg("faults"), pyb::arg("duration_ms"), pyb::arg("max_steps"),
      pyb::arg("liveness_timeout_ms"), pyb::arg("clients"), pyb::arg("keys"),
      pyb::arg("session_timeout_ms"), pyb::arg("params"), pyb::arg("trace_file"),
      pyb::arg("with_history"), pyb::arg("log_level"));
  m.def("git_revision", [] { return std::string(sim::git_revision()); });
  m.def("fault_categories", [] { return sim::fault_categories(); });
}

}  // namespace quorumlab::py
