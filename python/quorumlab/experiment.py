"""Experiments: one TOML file, a sweep, a result folder (issue 16; the simulator backend).

An experiment file names a question, fixed settings, the axes to sweep, repetitions and seeds,
and the plots to draw::

    name = "read_policies"
    question = "What does each read policy cost, and what does it allow?"
    backend = "sim"
    repetitions = 1

    [seeds]
    first = 1
    count = 200

    [settings]
    broadcast = "zab"
    nodes = 3
    faults = "all"

    [axes]
    read_policy = ["local", "sync", "read-index"]

    [quick]                    # --quick: overrides for a run of about a minute
    seeds = { count = 20 }

    [[plots]]
    kind = "bar"
    x = "read_policy"
    y = "stale_rate"

Every point (one combination of the axes) runs `seeds.count` seeds per repetition through
``qlab sim --json`` (the simulator and its report, one implementation), in parallel
processes. The result folder gets ``manifest.json``, ``results.jsonl`` (a row per point and
repetition, appended as each finishes, so an interrupted run resumes where it stopped),
``results.csv``, the plots as PNG and SVG, and ``summary.md``. A point that fails to run is
recorded with its error and the others go on.
"""
from __future__ import annotations

import concurrent.futures
import datetime
import hashlib
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
import tomllib
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from . import _native

__all__ = ["ExperimentError", "Experiment", "load", "run", "replay"]


class ExperimentError(ValueError):
    """A bad experiment file: the message names the key's path and what is allowed."""


# ---- the settings each backend takes: name -> kind ----------------------------------------
# Kinds: "int" (non-negative), "num" (non-negative number), "bool", "str", "dict" (of scalars),
# a tuple of allowed strings, or "schedule" (the cluster backend's fault schedule).
SIM_SETTINGS: Dict[str, Any] = {
    "broadcast": "str",
    "nodes": "int",
    "observers": "int",
    "read_policy": "str",
    "faults": "str",
    "duration_ms": "int",
    "clients": "int",
    "keys": "int",
    "session_timeout_ms": "int",
    "broadcast_params": "dict",
    "read_policy_params": "dict",
    "check_linearizable_reads": "bool",
    "label": "str",
    # Measurement scenarios (qlab sim --scenario) and the timing they need.
    "scenario": ("leader-crash", "disruptive"),
    "trials": "int",
    "tick_ms": "int",
    "tick_jitter_us": "int",
    "peer_delay_us": "str",
    "fsync_delay_us": "str",
    "settle_ms": "int",
    "crash_window_ms": "int",
    "trial_timeout_ms": "int",
    "crash_notifies_peers": "bool",
    "diverge_logs": "bool",
    "partition_ms": "int",
    "heal_ms": "int",
    # The throughput workload (qlab sim --workload bench, the load of `qlab bench`) and the
    # performance model (--perf-model, --perf-profile FILE, --perf KEY=VALUE).
    "workload": ("check", "bench"),
    "sessions": "int",
    "outstanding": "int",
    "read_pct": "int",
    "value_bytes": "int",
    "warmup_ms": "int",
    "measure_ms": "int",
    "perf_model": "bool",
    "perf_profile": "str",
    "perf": "dict",
}
CLUSTER_SETTINGS: Dict[str, Any] = {
    "system": ("quorumlab", "zookeeper"),
    "broadcast": "str",
    "storage": "str",
    "read_policy": "str",
    "nodes": "int",
    "observers": "int",
    "params": "dict",
    "broadcast_params": "dict",
    "read_policy_params": "dict",
    "workload": ("bench", "failover", "timeline"),
    "protocol": ("native", "zookeeper"),
    "read_pct": "int",
    "sessions": "int",
    "outstanding": "int",
    "value_bytes": "int",
    "keys": "int",
    "duration": "num",
    "warmup": "num",
    "system_warmup": "num",
    "interval": "num",
    "rounds": "int",
    "fault": ("kill", "pause", "isolate"),
    "schedule": "schedule",
    "label": "str",
}
SETTINGS = {"sim": SIM_SETTINGS, "cluster": CLUSTER_SETTINGS}
# The cluster backend's defaults (the ZooKeeper paper's benchmark, as `qlab bench`).
CLUSTER_DEFAULTS: Dict[str, Any] = {
    "system": "quorumlab", "broadcast": "zab", "storage": "wal", "read_policy": "local",
    "nodes": 3, "observers": 0, "workload": "bench", "protocol": "native", "read_pct": 50,
    "sessions": 12, "outstanding": 100, "value_bytes": 1024, "keys": 1000, "duration": 10.0,
    "warmup": 2.0, "system_warmup": 0.0, "interval": 1.0, "rounds": 10, "fault": "kill",
}
SCHEDULE_KEYS = {"at", "what", "node", "recover_at"}
SCHEDULE_FAULTS = ("kill", "pause", "isolate")
TOP_KEYS = {"name", "question", "backend", "repetitions", "seeds", "settings", "axes", "quick",
            "plots", "baseline", "cluster", "model"}
# What a [model] companion run adds to a simulator point's row (the performance model's
# throughput workload), prefixed so that they do not mix with the point's own.
MODEL_METRICS = ("model_throughput_ops_s", "model_latency_ms_p50", "model_latency_ms_p99")
# The settings a simulator point shares with its [cluster] companion run.
SHARED_WITH_CLUSTER = ("broadcast", "read_policy", "nodes", "observers", "broadcast_params",
                       "read_policy_params", "label")
PLOT_KINDS = ("bar", "line", "scatter", "cdf", "timeline")
# What a point's row holds besides its settings.
METRICS = {
    "sim": ("seeds", "passed", "failed", "ops", "reads", "stale_reads", "stale_rate",
            "linearizability_violations", "barriers_per_read", "read_rounds_per_read",
            "peer_messages_per_op", "peer_bytes_per_op", "staleness_ms_p99",
            "read_latency_ms_mean", "seconds",
            # scenarios: leader-crash (election_ms_trials: one time per trial, for a cdf plot)
            "trials", "censored", "election_ms_median", "election_ms_mean", "election_ms_p90",
            "election_ms_p99", "election_ms_max", "serving_ms_median", "terms_per_trial",
            "election_ms_trials",
            # disruptive
            "terms_gained", "terms_per_round", "leader_changes", "writes", "throughput_wps",
            "baseline_throughput_wps", "throughput_lost", "unavailable_ms",
            "unavailable_ms_per_round", "max_gap_ms",
            # the throughput workload
            "throughput_ops_s", "reads_per_s", "writes_per_s", "latency_ms_p50",
            "latency_ms_p99", "cpu_utilization_max"),
    "cluster": ("ops_per_s", "vs_baseline", "reads_per_s", "writes_per_s", "latency_p50_ms",
                "latency_p99_ms", "latency_mean_ms", "errors", "elections", "failover_ms",
                "failover_ms_median", "failover_ms_p90", "failover_ms_max", "failed_writes",
                "t", "seconds"),
}
# The axis whose values are tables of settings applied together (a system to compare: its
# label names it in plots), e.g. variant = [{ label = "zab", broadcast = "zab" }, ...].
VARIANT = "variant"
# Columns that hold one value per trial (a cdf plot's x).
LIST_COLUMNS = ("failover_ms", "election_ms_trials")


@dataclass
class Experiment:
    """A validated experiment file."""
    path: str
    name: str
    question: str
    backend: str
    repetitions: int
    first_seed: int
    seed_count: int
    settings: Dict[str, Any]
    axes: Dict[str, List[Any]]
    plots: List[Dict[str, str]]
    baseline: Optional[str] = None  # a variant's label: ratios against it in the same run
    # A simulator experiment's [cluster] table: each point also runs on a real cluster with
    # these settings (and the point's shared ones); its metrics join the point's row.
    cluster: Optional[Dict[str, Any]] = None
    # A simulator experiment's [model] table: each point also runs the throughput workload on
    # the performance model with these settings (and the point's shared ones).
    model: Optional[Dict[str, Any]] = None

    def model_point(self, point: Dict[str, Any]) -> Dict[str, Any]:
        """The performance-model run of a simulator point: the shared settings, no faults, the
        bench workload on the model, then the [model] table."""
        mp = {k: point[k] for k in SHARED_WITH_CLUSTER if k in point}
        mp.update(faults="none", workload="bench", perf_model=True)
        mp.update(self.model or {})
        return mp

    def cluster_point(self, point: Dict[str, Any]) -> Dict[str, Any]:
        """The real-cluster run of a simulator point: the shared settings, then the [cluster]
        table, then the point's axis values that the cluster backend takes."""
        cp = {k: point[k] for k in SHARED_WITH_CLUSTER if k in point}
        cp.update(self.cluster or {})
        for k in self.axes:
            if k in CLUSTER_SETTINGS:
                cp[k] = point[k]
        return cp

    def points(self) -> List[Dict[str, Any]]:
        """Every combination of the axes over the fixed settings, in file order."""
        names = list(self.axes)
        out = []
        for values in itertools.product(*(self.axes[n] for n in names)):
            p = dict(self.settings)
            for name, value in zip(names, values):
                if name == VARIANT:  # a table of settings, applied together; its tables
                    for k, v in value.items():  # (broadcast_params) merge into the fixed ones
                        p[k] = {**p.get(k, {}), **v} if isinstance(v, dict) else v
                else:
                    p[name] = value
            out.append(p)
        return out


def _check_schedule(path: str, value: Any) -> None:
    if not isinstance(value, list):
        raise ExperimentError(f"{path}: an array of {{ at, what, node, recover_at }} tables")
    for i, f in enumerate(value):
        where = f"{path}[{i}]"
        if not isinstance(f, dict) or set(f) - SCHEDULE_KEYS or not {"at", "what", "node"} <= set(f):
            raise ExperimentError(f"{where}: a table with at (s), what ({', '.join(SCHEDULE_FAULTS)}),"
                                  f" node (leader, follower or an id) and optionally recover_at (s)")
        if f["what"] not in SCHEDULE_FAULTS:
            raise ExperimentError(f"{where}.what: one of {', '.join(SCHEDULE_FAULTS)}, "
                                  f"got {f['what']!r}")
        node = f["node"]
        if not (node in ("leader", "follower") or
                (isinstance(node, int) and not isinstance(node, bool) and node >= 1)):
            raise ExperimentError(f"{where}.node: leader, follower or a node id, got {node!r}")
        for k in ("at", "recover_at"):
            if k in f and (isinstance(f[k], bool) or not isinstance(f[k], (int, float))
                           or f[k] < 0):
                raise ExperimentError(f"{where}.{k}: seconds from the start of the load, "
                                      f"got {f[k]!r}")
        if "recover_at" in f and f["recover_at"] <= f["at"]:
            raise ExperimentError(f"{where}.recover_at: must be after at ({f['at']})")


def _check_setting(backend: str, path: str, key: str, value: Any) -> None:
    table = SETTINGS[backend]
    if key not in table:
        raise ExperimentError(f"{path}: unknown setting for the {backend} backend; allowed: "
                              f"{', '.join(table)}")
    want = table[key]
    if want == "int" and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ExperimentError(f"{path}: must be a non-negative integer, got {value!r}")
    if want == "num" and (isinstance(value, bool) or not isinstance(value, (int, float))
                          or value < 0):
        raise ExperimentError(f"{path}: must be a non-negative number, got {value!r}")
    if want in ("str", "bool", "dict"):
        typ = {"str": str, "bool": bool, "dict": dict}[want]
        if not isinstance(value, typ):
            raise ExperimentError(f"{path}: must be a {typ.__name__}, got {value!r}")
    if want == "dict":
        for k, v in value.items():
            if not isinstance(v, (str, int, float, bool)):
                raise ExperimentError(f"{path}.{k}: must be a string, number or boolean")
    if isinstance(want, tuple) and value not in want:
        raise ExperimentError(f"{path}: one of {', '.join(want)}, got {value!r}")
    if want == "schedule":
        _check_schedule(path, value)
    if key == "read_pct" and value > 100:
        raise ExperimentError(f"{path}: a percentage, 0..100, got {value!r}")


def _check_point(backend: str, point: Dict[str, Any], where: str) -> None:
    """Checks that go across settings (for every point of the sweep)."""
    if backend != "cluster":
        return
    p = {**CLUSTER_DEFAULTS, **point}
    if p["system"] == "zookeeper" and p["workload"] != "bench":
        raise ExperimentError(f"{where}: system 'zookeeper' runs the bench workload only, "
                              f"got workload {p['workload']!r}")
    if p["workload"] == "timeline" and not p.get("schedule"):
        raise ExperimentError(f"{where}: the timeline workload needs a schedule of faults")
    for f in p.get("schedule", []):
        if isinstance(f["node"], int) and f["node"] > p["nodes"] + p["observers"]:
            raise ExperimentError(f"{where}: schedule node {f['node']} does not exist "
                                  f"({p['nodes']} nodes + {p['observers']} observers)")


def _axis_values(path: str, spec: Any) -> List[Any]:
    if isinstance(spec, list):
        if not spec:
            raise ExperimentError(f"{path}: an axis needs at least one value")
        return spec
    if isinstance(spec, dict):
        unknown = set(spec) - {"from", "to", "step"}
        if unknown or not {"from", "to"} <= set(spec):
            raise ExperimentError(f"{path}: a range is {{ from = A, to = B, step = S }}")
        a, b, step = spec["from"], spec["to"], spec.get("step", 1)
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in (a, b, step)) \
                or step <= 0 or b < a:
            raise ExperimentError(f"{path}: from <= to and step > 0, integers")
        return list(range(a, b + 1, step))
    raise ExperimentError(f"{path}: a list of values or {{ from, to, step }}")


def _companion(doc: Dict[str, Any], key: str, backend: str,
               settings_of: str) -> Optional[Dict[str, Any]]:
    """A simulator experiment's [cluster] or [model] table, checked against the settings of
    the backend it runs on."""
    table = doc.get(key)
    if table is None:
        return None
    if backend != "sim":
        raise ExperimentError(f"{key}: a [{key}] companion run belongs to a simulator "
                              "experiment (backend = \"sim\")")
    if not isinstance(table, dict):
        raise ExperimentError(f"{key}: a table of {settings_of}-backend settings")
    for k, v in table.items():
        _check_setting(settings_of, f"{key}.{k}", k, v)
    return table


def _parse(doc: Dict[str, Any], path: str) -> Experiment:
    unknown = set(doc) - TOP_KEYS
    if unknown:
        raise ExperimentError(f"{sorted(unknown)[0]}: unknown key; allowed: "
                              f"{', '.join(sorted(TOP_KEYS))}")
    for key in ("name", "question"):
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            raise ExperimentError(f"{key}: required, a non-empty string")
    backend = doc.get("backend", "sim")
    if backend not in SETTINGS:
        raise ExperimentError(f"backend: '{backend}' is not available; allowed: "
                              f"{', '.join(SETTINGS)}")
    reps = doc.get("repetitions", 1)
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise ExperimentError(f"repetitions: a positive integer, got {reps!r}")
    seeds = doc.get("seeds", {})
    if not isinstance(seeds, dict) or set(seeds) - {"first", "count"}:
        raise ExperimentError("seeds: a table with first and count")
    first, count = seeds.get("first", 1), seeds.get("count", 100)
    for k, v in (("first", first), ("count", count)):
        if isinstance(v, bool) or not isinstance(v, int) or v < (0 if k == "first" else 1):
            raise ExperimentError(f"seeds.{k}: {'a non-negative' if k == 'first' else 'a positive'}"
                                  f" integer, got {v!r}")
    settings = doc.get("settings", {})
    if not isinstance(settings, dict):
        raise ExperimentError("settings: a table")
    for k, v in settings.items():
        _check_setting(backend, f"settings.{k}", k, v)
    axes_doc = doc.get("axes", {})
    if not isinstance(axes_doc, dict):
        raise ExperimentError("axes: a table")
    axes = {}
    for k, spec in axes_doc.items():
        values = _axis_values(f"axes.{k}", spec)
        for i, v in enumerate(values):
            if k != VARIANT:
                _check_setting(backend, f"axes.{k}[{i}]", k, v)
                continue
            if not isinstance(v, dict) or not isinstance(v.get("label"), str):
                raise ExperimentError(f"axes.{k}[{i}]: a table of settings with a label, e.g. "
                                      "{ label = \"zab\", broadcast = \"zab\" }")
            for key, value in v.items():
                _check_setting(backend, f"axes.{k}[{i}].{key}", key, value)
        axes[k] = values
    plots = doc.get("plots", [])
    if not isinstance(plots, list):
        raise ExperimentError("plots: an array of tables ([[plots]])")
    companion = _companion(doc, "cluster", backend, "cluster")
    model = _companion(doc, "model", backend, "sim")
    columns = set(SETTINGS[backend]) | set(METRICS[backend]) | {"repetition", "label"}
    if model is not None:
        columns |= set(MODEL_METRICS)
    if companion is not None:
        columns |= set(METRICS["cluster"])
    for i, p in enumerate(plots):
        where = f"plots[{i}]"
        if not isinstance(p, dict) or \
                set(p) - {"kind", "x", "y", "series", "title", "annotate", "only"}:
            raise ExperimentError(f"{where}: keys kind, x, y, series, title, annotate, only")
        if "only" in p and (not isinstance(p["only"], list) or "series" not in p):
            raise ExperimentError(f"{where}.only: a list of the series' values to draw")
        if p.get("kind") not in PLOT_KINDS:
            raise ExperimentError(f"{where}.kind: one of {', '.join(PLOT_KINDS)}")
        for k in ("x", "y", "series", "annotate"):
            names = p[k] if k == "series" and isinstance(p.get(k), list) else [p.get(k)]
            for name in names if k in p else []:
                if name not in columns:
                    raise ExperimentError(f"{where}.{k}: '{name}' is not a column; columns: "
                                          f"{', '.join(sorted(columns))}")
        if p["kind"] == "cdf":
            if p.get("x") not in LIST_COLUMNS:
                raise ExperimentError(f"{where}.x: a cdf plots a column of per-trial values: "
                                      f"{', '.join(LIST_COLUMNS)}")
        elif p["kind"] == "timeline":
            if p.get("x", "t") != "t" or p.get("y", "ops_per_s") != "ops_per_s":
                raise ExperimentError(f"{where}: a timeline plots x = 't', y = 'ops_per_s'")
            p.setdefault("x", "t")
            p.setdefault("y", "ops_per_s")
        elif "x" not in p or "y" not in p:
            raise ExperimentError(f"{where}: x and y are required")
    baseline = doc.get("baseline")
    if baseline is not None:
        labels = [v["label"] for v in axes.get(VARIANT, [])]
        if baseline not in labels:
            known = ", ".join(labels) or "there is no variant axis"
            raise ExperimentError(f"baseline: the label of a variant ({known}), "
                                  f"got {baseline!r}")
    exp = Experiment(path=path, name=doc["name"], question=doc["question"], backend=backend,
                     repetitions=reps, first_seed=first, seed_count=count, settings=settings,
                     axes=axes, plots=plots, baseline=baseline)
    exp.cluster = companion
    exp.model = model
    for i, point in enumerate(exp.points()):
        where = f"point {i + 1} ({_point_label(point, exp.axes)})"
        _check_point(backend, point, where)
        if companion is not None:
            _check_point("cluster", exp.cluster_point(point), where + ", its cluster run")
    return exp


def load(path: str, quick: bool = False) -> Experiment:
    """Reads and validates an experiment file (with its [quick] overrides when `quick`).
    Raises ExperimentError naming the key's path."""
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ExperimentError(f"{path}: not valid TOML: {e}") from None
    except OSError as e:
        raise ExperimentError(f"{path}: {e.strerror}") from None
    quick_doc = doc.get("quick", {})
    if not isinstance(quick_doc, dict):
        raise ExperimentError("quick: a table of overrides")
    for k in quick_doc:
        if k not in ("settings", "axes", "seeds", "repetitions", "cluster", "model"):
            raise ExperimentError(f"quick.{k}: only settings, axes, seeds, repetitions, "
                                  "cluster and model can be overridden")
    exp = _parse(doc, path)  # the full experiment must be valid too
    if quick:
        merged = dict(doc)
        for k, v in quick_doc.items():
            merged[k] = {**doc.get(k, {}), **v} if isinstance(v, dict) else v
        exp = _parse(merged, path)
    return exp


def _point_id(point: Dict[str, Any]) -> str:
    return json.dumps(point, sort_keys=True)


def _point_label(point: Dict[str, Any], axes: Dict[str, Any]) -> str:
    return ", ".join(str(point.get("label")) if k == VARIANT else f"{k}={point.get(k)}"
                     for k in axes) or "the only point"


def _qlab() -> str:
    return os.path.join(_native.bin_dir(), "qlab")


def _text(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


# ---- the simulator backend --------------------------------------------------------------

def _sim_args(point: Dict[str, Any], first: int, count: int) -> List[str]:
    args = [_qlab(), "sim", "--seed", str(first), "--seeds", str(count), "--keep-going", "--json"]
    flags = {"broadcast": "--broadcast", "nodes": "--nodes", "observers": "--observers",
             "read_policy": "--read-policy", "faults": "--faults",
             "duration_ms": "--duration-ms", "clients": "--clients", "keys": "--keys",
             "session_timeout_ms": "--session-timeout-ms", "scenario": "--scenario",
             "trials": "--trials", "tick_ms": "--tick-ms",
             "tick_jitter_us": "--tick-jitter-us", "peer_delay_us": "--peer-delay-us",
             "fsync_delay_us": "--fsync-delay-us", "settle_ms": "--settle-ms",
             "crash_window_ms": "--crash-window-ms", "trial_timeout_ms": "--trial-timeout-ms",
             "partition_ms": "--partition-ms", "heal_ms": "--heal-ms",
             "workload": "--workload", "sessions": "--sessions", "outstanding": "--outstanding",
             "read_pct": "--read-pct", "value_bytes": "--value-size",
             "warmup_ms": "--warmup-ms", "measure_ms": "--measure-ms",
             "perf_profile": "--perf-profile"}
    for k, flag in flags.items():
        if k in point:
            args += [flag, str(point[k])]
    for k, v in point.get("broadcast_params", {}).items():
        args += ["--broadcast-param", f"{k}={_text(v)}"]
    for k, v in point.get("read_policy_params", {}).items():
        args += ["--read-policy-param", f"{k}={_text(v)}"]
    for k, v in point.get("perf", {}).items():
        args += ["--perf", f"{k}={_text(v)}"]
    for key, flag in (("check_linearizable_reads", "--check-linearizable-reads"),
                      ("crash_notifies_peers", "--crash-notifies-peers"),
                      ("diverge_logs", "--diverge-logs"),
                      ("perf_model", "--perf-model")):
        if point.get(key):
            args.append(flag)
    return args


def _run_sim_point(point: Dict[str, Any], rep: int, first: int, count: int
                   ) -> Tuple[Dict[str, Any], Optional[Dict[str, Any]]]:
    """One point and repetition through `qlab sim --json`: its row and the whole report.
    Runs in a worker thread, a process pool or on a Dask worker (picklable, no shared state)."""
    row: Dict[str, Any] = {"point": _point_id(point), "repetition": rep, **point}
    started = time.monotonic()
    out = subprocess.run(_sim_args(point, first, count), capture_output=True, text=True,
                         check=False)
    lines = [l for l in out.stdout.splitlines() if l.strip()]
    if out.returncode not in (0, 1) or not lines:
        row.update(status="failed", error=(out.stderr.strip().splitlines() or ["no output"])[-1])
        return row, None
    report = json.loads(lines[-1])
    row["status"] = "ok"
    for k in METRICS["sim"]:
        if k in report:
            row[k] = report[k]
    row["violations"] = report.get("violations", {})
    row["staleness_ms_p99"] = report.get("staleness_ms", {}).get("p99")
    row["read_latency_ms_mean"] = report.get("read_latency_ms", {}).get("mean")
    digests = report.get("trace_digests", [])
    row["trace_digest"] = hashlib.sha256(",".join(digests).encode()).hexdigest()[:16]
    row["seconds"] = time.monotonic() - started
    return row, report


# ---- the cluster backend ----------------------------------------------------------------

def _percentile(values: List[float], q: float) -> Optional[float]:
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(q / 100.0 * len(v) + 0.5)) - 1))]


def _bench_row(b: Dict[str, Any]) -> Dict[str, Any]:
    lat = b.get("latency_us", {})
    row = {"ops_per_s": b.get("ops_per_s"), "reads_per_s": b.get("reads_per_s"),
           "writes_per_s": b.get("writes_per_s"),
           "latency_p50_ms": (lat.get("p50") or 0) / 1000.0,
           "latency_p99_ms": (lat.get("p99") or 0) / 1000.0,
           "latency_mean_ms": (lat.get("mean") or 0) / 1000.0,
           "errors": sum(b.get("errors", {}).values())}
    for k, v in b.get("server_read_counters", {}).items():
        row["server_" + k] = v
    return row


def _highest_epoch(cluster: Any) -> int:
    return max([n.get("epoch", 0) for n in cluster.status()] + [0])


class _Schedule:
    """Applies a fault schedule to a running cluster while the load runs: each fault at `at`
    seconds after `t0` on the node it names (the leader or a follower as they are at that
    moment, or an id), recovered (restart after a kill, resume after a pause) at `recover_at`.
    Records what it did as {t, what, node}."""

    def __init__(self, cluster: Any, schedule: List[Dict[str, Any]]) -> None:
        self.cluster, self.applied = cluster, []  # type: ignore[var-annotated]
        self.error: Optional[str] = None
        events = []
        for i, f in enumerate(schedule):
            events.append((float(f["at"]), 0, i, f["what"], f["node"]))
            if "recover_at" in f:
                events.append((float(f["recover_at"]), 1, i, f["what"], None))
        self.events = sorted(events)
        self.targets: Dict[int, int] = {}
        self.times_faulted: Dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="quorumlab-schedule", daemon=True)

    def start(self, t0: float) -> None:
        self.t0 = t0
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _leader(self) -> int:
        """The node that leads now: the one node reporting itself leader (a node that just
        restarted may not know the leader yet, so agreement of all is not waited for)."""
        leaders = [n["id"] for n in self.cluster.status() if n["role"] == "leader"]
        return leaders[0] if len(leaders) == 1 else self.cluster.leader()

    def _pick(self, node: Any) -> int:
        if isinstance(node, int):
            return node
        leader = self._leader()
        if node == "leader":
            return leader
        # A follower not faulted now, the one faulted least so far (then the lowest id): "a
        # different follower" each time, as the ZooKeeper paper's Figure 8 does it.
        faulted = set(self.targets.values())
        free = [n for n in self.cluster.node_ids if n != leader and n not in faulted]
        if not free:
            raise RuntimeError("no follower left to fault")
        n = min(free, key=lambda n: (self.times_faulted.get(n, 0), n))
        self.times_faulted[n] = self.times_faulted.get(n, 0) + 1
        return n

    def _run(self) -> None:
        for at, recover, i, what, node in self.events:
            if self._stop.wait(max(0.0, self.t0 + at - time.monotonic())):
                return
            try:
                if not recover:
                    target = self._pick(node)
                    self.targets[i] = target
                    if what == "isolate":  # cut off from every other node, still running
                        others = ",".join(str(n) for n in self.cluster.node_ids if n != target)
                        self.cluster.partition(f"{target}/{others}")
                    else:
                        (self.cluster.kill if what == "kill" else self.cluster.pause)(target)
                    self.applied.append({"t": time.monotonic() - self.t0, "what": what,
                                         "node": target})
                else:
                    target = self.targets.pop(i)
                    if what == "kill":
                        self.cluster.restart(target)
                    elif what == "isolate":
                        self.cluster.heal()
                    else:
                        self.cluster.resume(target)
                    self.applied.append({"t": time.monotonic() - self.t0,
                                         "what": {"kill": "restart", "isolate": "heal"}.get(
                                             what, "resume"),
                                         "node": target})
            except Exception as e:  # recorded; the load goes on
                self.error = f"schedule at {at} s: {e}"
                return


def _run_cluster_point(point: Dict[str, Any], rep: int, raw_dir: str
                       ) -> Tuple[Dict[str, Any], Optional[Dict[str, Any]]]:
    """One point and repetition on real processes: starts the system, warms it, runs the
    workload, stops it. The cluster folder (logs, data) stays in raw/ when the point fails."""
    from . import bench as run_bench
    from .cluster import Cluster
    from .zookeeper import Ensemble
    p = {**CLUSTER_DEFAULTS, **point}
    row: Dict[str, Any] = {"point": _point_id(point), "repetition": rep, **point}
    sysdir = raw_dir + "-system"
    shutil.rmtree(sysdir, ignore_errors=True)  # what a failed earlier attempt left
    started = time.monotonic()
    load = dict(read_pct=p["read_pct"], sessions=p["sessions"], outstanding=p["outstanding"],
                value_bytes=p["value_bytes"], keys=p["keys"], seed=rep + 1)
    try:
        if p["system"] == "zookeeper":
            system: Any = Ensemble(nodes=p["nodes"], dir=sysdir)
            protocol = "zookeeper"
        else:
            params = dict(p.get("params", {}))
            params.update({f"broadcast.{k}": v for k, v in p.get("broadcast_params", {}).items()})
            params.update({f"read_policy.{k}": v
                           for k, v in p.get("read_policy_params", {}).items()})
            system = Cluster(nodes=p["nodes"], observers=p["observers"],
                             broadcast=p["broadcast"], storage=p["storage"],
                             read_policy=p["read_policy"], params=params, dir=sysdir,
                             start=False)
            protocol = p["protocol"]
        with system:
            connect = (system.connect_string if p["system"] == "zookeeper" else
                       system.zk_connect_string if protocol == "zookeeper" else
                       system.connect_string)
            if p["system_warmup"] > 0:  # the same load, not recorded (a JVM's JIT settles)
                run_bench(connect, protocol=protocol, duration=p["system_warmup"], warmup=0,
                          **load)
            report: Dict[str, Any] = {}
            if p["workload"] == "bench":
                before = _highest_epoch(system) if p["system"] == "quorumlab" else 0
                report = run_bench(connect, protocol=protocol, duration=p["duration"],
                                   warmup=p["warmup"], **load)
                row.update(_bench_row(report))
                if p["system"] == "quorumlab":
                    row["elections"] = _highest_epoch(system) - before
            elif p["workload"] == "failover":
                rounds = system.failover(rounds=p["rounds"], fault=p["fault"])
                report = {"rounds": rounds}
                trials = [r["failover_ms"] for r in rounds]
                row.update(failover_ms=trials, failover_ms_median=_percentile(trials, 50),
                           failover_ms_p90=_percentile(trials, 90),
                           failover_ms_max=max(trials),
                           failed_writes=sum(r["failed_writes"] for r in rounds),
                           converged=all(r["converged"] for r in rounds))
            else:  # timeline
                schedule = _Schedule(system, p["schedule"])
                t0 = time.monotonic()
                schedule.start(t0)
                try:
                    report = run_bench(connect, protocol=protocol, duration=p["duration"],
                                       warmup=0, interval=p["interval"], timeline=True, **load)
                    end = time.monotonic() - t0
                finally:
                    schedule.stop()
                # The load's clock starts once its sessions are connected: place it on the
                # schedule's clock by the end of the run (within the drain time, ~10 ms).
                line = report.get("timeline", [])
                shift = max(0.0, end - line[-1]["t"]) if line else 0.0
                row.update(_bench_row(report))
                row["timeline"] = [{**e, "t": e["t"] + shift} for e in line]
                row["faults_applied"] = schedule.applied
                if schedule.error:
                    raise RuntimeError(schedule.error)
        row["status"] = "ok"
        shutil.rmtree(sysdir, ignore_errors=True)
    except Exception as e:
        row.update(status="failed", error=f"{type(e).__name__}: {e}", system_dir=sysdir)
        report = None
    row["seconds"] = time.monotonic() - started
    return row, report


# ---- running ----------------------------------------------------------------------------

def _manifest(exp: Experiment, quick: bool, started: str) -> Dict[str, Any]:
    try:
        rev = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(exp.path)),
                              "rev-parse", "HEAD"], capture_output=True, text=True,
                             check=False).stdout.strip() or "unknown"
    except OSError:
        rev = "unknown"
    try:
        qlab_version = subprocess.run([_qlab(), "--version"], capture_output=True, text=True,
                                      check=False).stdout.strip()
    except OSError:
        qlab_version = "unknown"
    versions = {"python": sys.version.split()[0], "qlab": qlab_version}
    for mod in ("pandas", "numpy", "matplotlib", "distributed"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            pass
    return {"experiment": exp.name, "question": exp.question, "file": os.path.abspath(exp.path),
            "quick": quick, "backend": exp.backend, "repetitions": exp.repetitions,
            "seeds": {"first": exp.first_seed, "count": exp.seed_count},
            "points": exp.points(), "git_revision": rev, "started": started,
            "machine": {"system": platform.platform(), "cpus": os.cpu_count(),
                        "load_average": os.getloadavg()},
            "versions": versions}


def _raw_name(index: int, rep: int) -> str:
    return f"point{index + 1}-rep{rep}"


def _seeds_of(exp: Experiment, rep: int) -> Tuple[int, int]:
    return exp.first_seed + rep * exp.seed_count, exp.seed_count


def run(path: str, out: Optional[str] = None, quick: bool = False,
        workers: Optional[int] = None, progress: bool = True,
        scheduler: Optional[str] = None):
    """Runs the experiment in `path` into the folder `out` (default results/NAME, or
    results/NAME-quick) and returns its rows as a pandas DataFrame. Points already in the
    folder's results.jsonl are not run again (resume).

    Simulator points run in `workers` parallel processes (default: the CPU count), or on the
    Dask cluster whose scheduler is at `scheduler` ("tcp://HOST:8786"). Cluster points run
    one at a time (each needs the machine to itself), repetitions outermost so the systems
    alternate within the run."""
    import pandas as pd
    exp = load(path, quick)
    out = out or os.path.join("results", exp.name + ("-quick" if quick else ""))
    raw = os.path.join(out, "raw")
    os.makedirs(raw, exist_ok=True)
    jsonl = os.path.join(out, "results.jsonl")
    done = set()
    if os.path.exists(jsonl):
        with open(jsonl) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    if r.get("status") == "ok":
                        done.add((r["point"], r["repetition"]))
    started = datetime.datetime.now(datetime.timezone.utc).isoformat()
    manifest = _manifest(exp, quick, started)
    points = exp.points()
    todo = [(i, p, rep) for rep in range(exp.repetitions) for i, p in enumerate(points)
            if (_point_id(p), rep) not in done]
    if exp.backend == "sim":
        todo.sort(key=lambda t: (t[0], t[2]))
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(todo), desc=exp.name, unit="point")

    def record(f: Any, index: int, rep: int, row: Dict[str, Any],
               report: Optional[Dict[str, Any]]) -> None:
        row["point_index"] = index + 1
        if report is not None:
            with open(os.path.join(raw, _raw_name(index, rep) + ".json"), "w") as rf:
                json.dump(report, rf)
            failed_seeds = report.get("failed_seeds") or []
            if exp.backend == "sim" and failed_seeds:
                # The whole trace of the first failing seed, next to the report (the replay
                # command gives any other: python3 -m quorumlab replay DIR POINT --seed S).
                seed = failed_seeds[0]
                trace = os.path.join(raw, f"{_raw_name(index, rep)}-seed{seed}.trace")
                subprocess.run(_sim_args(points[index], seed, 1) + ["--trace", trace],
                               capture_output=True, check=False)
                row["failed_seed_trace"] = os.path.relpath(trace, out)
        f.write(json.dumps(row) + "\n")
        f.flush()
        if bar:
            bar.set_postfix_str(f"{_point_label(row, exp.axes)}: {row['status']}")
            bar.update(1)

    companion: Dict[Tuple[int, int], Tuple[Dict[str, Any], Optional[Dict[str, Any]]]] = {}
    if exp.cluster is not None or exp.model is not None:
        # sim rows wait for their companion runs before they are written
        record_sim = record

        def record(f: Any, index: int, rep: int, row: Dict[str, Any],  # noqa: F811
                   report: Optional[Dict[str, Any]]) -> None:
            companion[(index, rep)] = (row, report)

    with open(jsonl, "a") as f:
        if exp.backend == "cluster":
            for i, p, rep in todo:
                row, report = _run_cluster_point(p, rep, os.path.join(raw, _raw_name(i, rep)))
                record(f, i, rep, row, report)
        elif scheduler:
            from distributed import Client as DaskClient, as_completed
            with DaskClient(scheduler) as dask:
                futures = {dask.submit(_run_sim_point, p, rep, *_seeds_of(exp, rep),
                                       pure=False): (i, rep) for i, p, rep in todo}
                for fut in as_completed(list(futures)):
                    record(f, *futures[fut], *fut.result())
        else:
            with concurrent.futures.ThreadPoolExecutor(
                    max_workers=workers or os.cpu_count() or 1) as pool:
                futures = {pool.submit(_run_sim_point, p, rep, *_seeds_of(exp, rep)): (i, rep)
                           for i, p, rep in todo}
                for fut in concurrent.futures.as_completed(futures):
                    record(f, *futures[fut], *fut.result())
        def join(row: Dict[str, Any], name: str, other: Dict[str, Any],
                 metrics: Dict[str, str]) -> None:
            for mine, theirs in metrics.items():
                if theirs in other:
                    row[mine] = other[theirs]
            if other["status"] != "ok":
                row["status"] = "failed"
                row["error"] = "; ".join(filter(None, [row.get("error"),
                                                       f"{name} run: " + other.get("error", "")]))

        if exp.model is not None:  # the model runs are simulations: in parallel
            with concurrent.futures.ThreadPoolExecutor(
                    max_workers=workers or os.cpu_count() or 1) as pool:
                runs = {key: pool.submit(_run_sim_point, exp.model_point(points[key[0]]),
                                         key[1], exp.first_seed, 1) for key in companion}
                for key, fut in runs.items():
                    join(companion[key][0], "model", fut.result()[0],
                         {m: m[len("model_"):] for m in MODEL_METRICS})
        for (i, rep), (row, report) in sorted(companion.items()):
            if exp.cluster is not None:  # one at a time: a cluster needs the machine to itself
                crow, creport = _run_cluster_point(
                    exp.cluster_point(points[i]), rep,
                    os.path.join(raw, _raw_name(i, rep) + "-cluster"))
                join(row, "cluster", crow, {m: m for m in METRICS["cluster"]})
                if creport is not None:
                    with open(os.path.join(raw, _raw_name(i, rep) + "-cluster.json"), "w") as rf:
                        json.dump(creport, rf)
            record_sim(f, i, rep, row, report)
    if bar:
        bar.close()
    rows = [json.loads(l) for l in open(jsonl) if l.strip()]
    # The newest row of each (point, repetition): a failed one re-run later replaces it.
    latest = {(r["point"], r["repetition"]): r for r in rows}
    df = pd.DataFrame(sorted(latest.values(),
                             key=lambda r: (r.get("point_index", 0), r["repetition"])))
    if exp.baseline and "ops_per_s" in df.columns:
        _add_ratios(exp, df)
    flat = df.drop(columns=[c for c in ("point", "timeline", "faults_applied", "violations")
                            if c in df.columns])
    flat.to_csv(os.path.join(out, "results.csv"), index=False)
    manifest["ended"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    _plots_and_summary(exp, df, out)
    return df


def _add_ratios(exp: Experiment, df) -> None:
    """vs_baseline: each row's ops_per_s over the baseline variant's mean at the same values
    of the other axes (measured in the same run)."""
    others = [a for a in exp.axes if a != VARIANT]
    ok = df[(df["status"] == "ok") & (df["label"] == exp.baseline)]
    base = ok.groupby(others)["ops_per_s"].mean() if others else ok["ops_per_s"].mean()

    def ratio(r: Any) -> Optional[float]:
        if r.get("status") != "ok":
            return None
        b = (base.get(tuple(r[a] for a in others) if len(others) > 1 else r[others[0]])
             if others else base)
        return r["ops_per_s"] / b if b and b == b else None
    df["vs_baseline"] = df.apply(ratio, axis=1)


def replay(out: str, point: int, repetition: int = 0, seed: Optional[int] = None,
           trace: Optional[str] = None) -> Dict[str, Any]:
    """Reruns one simulator point of the result folder `out` (its 1-based index, as in
    results.csv's point_index) and compares every seed's trace digest with the recorded ones.
    With `seed`, only that seed (and `trace` gets its whole trace). Returns {"point", "seeds",
    "mismatches": [(seed, recorded, now)]}; bit-exact when mismatches is empty."""
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    if manifest.get("backend") != "sim":
        raise ExperimentError(f"{out}: replay reruns simulator points; this experiment ran on "
                              f"the {manifest.get('backend')} backend")
    points = manifest["points"]
    if not 1 <= point <= len(points):
        raise ExperimentError(f"point: 1..{len(points)} in {out}, got {point}")
    if not 0 <= repetition < manifest["repetitions"]:
        raise ExperimentError(f"repetition: 0..{manifest['repetitions'] - 1}, got {repetition}")
    raw_path = os.path.join(out, "raw", _raw_name(point - 1, repetition) + ".json")
    if not os.path.exists(raw_path):
        raise ExperimentError(f"{raw_path}: no recorded report for point {point} (it failed "
                              "or did not run)")
    with open(raw_path) as f:
        recorded = json.load(f)
    first = manifest["seeds"]["first"] + repetition * manifest["seeds"]["count"]
    digests = recorded.get("trace_digests", [])
    count = len(digests)
    if seed is not None:
        if not first <= seed < first + count:
            raise ExperimentError(f"seed: {first}..{first + count - 1} for this point, got {seed}")
        digests, first, count = [digests[seed - first]], seed, 1
    args = _sim_args(points[point - 1], first, count)
    if trace:
        args += ["--trace", trace]
    run_out = subprocess.run(args, capture_output=True, text=True, check=False)
    lines = [l for l in run_out.stdout.splitlines() if l.strip()]
    if not lines:
        raise RuntimeError(f"qlab sim failed: {run_out.stderr.strip()}")
    now = json.loads(lines[-1]).get("trace_digests", [])
    mismatches = [(first + i, a, b) for i, (a, b) in enumerate(zip(digests, now)) if a != b]
    if len(now) != len(digests):
        mismatches.append((first + min(len(now), len(digests)), "", ""))
    return {"point": points[point - 1], "first_seed": first, "seeds": count,
            "mismatches": mismatches}


def _series(df, p: Dict[str, Any]):
    """(label, rows) per series: `series` is a column or a list of columns; `only` keeps the
    series with these values."""
    series = p.get("series")
    if not series:
        return [("", df)]
    if isinstance(series, str):
        if "only" in p:
            df = df[df[series].isin(p["only"])]
        return df.groupby(series, sort=False)
    return [(" / ".join(map(str, key)), g) for key, g in df.groupby(series, sort=False)]


def _plots_and_summary(exp: Experiment, df, out: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    images = []
    ok = df[df["status"] == "ok"] if "status" in df else df
    for i, p in enumerate(exp.plots):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        if p["kind"] == "cdf":  # every trial of every repetition, pooled per series
            for label, g in _series(ok, p):
                values = sorted(v for trials in g[p["x"]] if isinstance(trials, list)
                                for v in trials)
                if values:
                    ax.step(values, [(k + 1) / len(values) for k in range(len(values))],
                            where="post", label=str(label) or None)
            ax.set_xlabel(p["x"] + " (log scale)")
            ax.set_xscale("log")
            ax.set_ylabel("fraction of trials")
        elif p["kind"] == "timeline":  # a panel per point (first repetition), faults marked
            lines = [r for _, r in ok[ok["repetition"] == 0].iterrows()
                     if isinstance(r.get("timeline"), list)]
            plt.close(fig)
            fig, axs = plt.subplots(max(1, len(lines)), 1, sharex=True, squeeze=False,
                                    figsize=(9, 2.4 * max(1, len(lines))))
            for (panel,), r in zip(axs, lines):
                line = r["timeline"]
                panel.plot([e["t"] for e in line], [e["ops_per_s"] for e in line], lw=0.9)
                panel.set_ylim(bottom=0)
                panel.set_ylabel("ops/s")
                panel.set_title(_point_label(r, exp.axes), fontsize=9, loc="left")
                for fault in r.get("faults_applied") or []:
                    panel.axvline(fault["t"], color="grey", linestyle=":", lw=0.8)
                    panel.text(fault["t"], 0.98, f" {fault['what']} {fault['node']}",
                               transform=panel.get_xaxis_transform(), rotation=90,
                               fontsize=7, va="top", color="dimgrey")
            axs[-1][0].set_xlabel("seconds")
            ax = axs[0][0]
        elif p["kind"] == "scatter":  # a dot per point (repetitions averaged), named
            for label, g in _series(ok, p):
                by = p.get("annotate") or "point_index"
                g = g.groupby(by, sort=False)[[p["x"], p["y"]]].mean()
                ax.scatter(g[p["x"]], g[p["y"]], label=str(label) or None)
                for name, r in g.iterrows() if p.get("annotate") else []:
                    ax.annotate(str(name), (r[p["x"]], r[p["y"]]), fontsize=7,
                                textcoords="offset points", xytext=(3, 3))
        elif p["kind"] == "bar":  # grouped: one bar per series at each x
            groups = list(_series(ok, p))
            cats = [str(x) for x in dict.fromkeys(ok[p["x"]])]
            width = 0.8 / max(1, len(groups))
            for j, (label, g) in enumerate(groups):
                means = g.groupby(g[p["x"]].astype(str), sort=False)[p["y"]].mean()
                xs = [k + (j - (len(groups) - 1) / 2) * width for k, c in enumerate(cats)
                      if c in means.index]
                ax.bar(xs, [means[c] for c in cats if c in means.index], width,
                       label=str(label) or None)
            ax.set_xticks(range(len(cats)))
            ax.set_xticklabels(cats, rotation=30 if len(cats) > 6 else 0, ha="right"
                               if len(cats) > 6 else "center", fontsize=8)
        else:
            for label, g in _series(ok, p):
                g = g.groupby(p["x"], sort=False)[p["y"]].mean().reset_index()
                ax.plot(g[p["x"]], g[p["y"]], marker="o", label=str(label) or None)
        if p["kind"] not in ("cdf", "timeline"):
            ax.set_xlabel(p["x"])
            ax.set_ylabel(p["y"])
        title = p.get("title", f"{p.get('y', p['x'])} by {p['x']}")
        if p["kind"] == "timeline":
            fig.suptitle(title, fontsize=10)
        else:
            ax.set_title(title)
        if p.get("series") and p["kind"] != "timeline":
            title = p.get("series")
            title = " / ".join(title) if isinstance(title, list) else title
            if len(ax.get_legend_handles_labels()[1]) > 6:  # many lines: the legend beside
                fig.set_size_inches(10, 4.5)
                ax.legend(title=title, fontsize="small", bbox_to_anchor=(1.02, 1),
                          loc="upper left")
            else:
                ax.legend(title=title, fontsize=8)
        fig.tight_layout()
        base = os.path.join(out, f"plot{i + 1}")
        for ext in ("png", "svg"):
            fig.savefig(f"{base}.{ext}")
        plt.close(fig)
        images.append(f"plot{i + 1}.png")
    shown = {"sim": ["passed", "failed", "reads", "stale_rate", "linearizability_violations",
                     "barriers_per_read", "peer_messages_per_op", "trials", "censored",
                     "election_ms_median", "election_ms_mean", "election_ms_p90",
                     "election_ms_max", "serving_ms_median", "terms_per_trial",
                     "terms_per_round", "leader_changes", "throughput_wps",
                     "baseline_throughput_wps", "throughput_lost", "unavailable_ms_per_round",
                     "max_gap_ms", "throughput_ops_s", "reads_per_s", "writes_per_s",
                     "latency_ms_p99"],
             "cluster": ["ops_per_s", "vs_baseline", "latency_p50_ms", "latency_p99_ms", "errors", "elections",
                         "failover_ms_median", "failover_ms_p90", "failover_ms_max",
                         "failed_writes"]}[exp.backend]
    if exp.cluster is not None:
        shown += ["ops_per_s", "latency_p99_ms"]
    if exp.model is not None:
        shown += ["model_throughput_ops_s", "model_latency_ms_p99"]
    axes = []
    for a in exp.axes:  # a variant axis shows its label and the plain settings it varies
        if a != VARIANT:
            axes.append(a)
            continue
        axes.append("label")
        for v in exp.axes[a]:
            axes += [k for k, x in v.items()
                     if k != "label" and not isinstance(x, dict) and k not in axes]
    cols = [c for c in ["point_index"] + axes + ["repetition", "status"] + shown
            if c in df.columns and (c not in shown or df[c].notna().any())]

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "" if v != v else f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
        return str(v)

    lines = [f"# {exp.name}", "", exp.question, "",
             f"Backend: {exp.backend}; {len(df)} rows, "
             f"{int((df['status'] != 'ok').sum()) if 'status' in df else 0} failed."
             + (f" vs_baseline: ops/s over {exp.baseline}'s at the same point, same run."
                if exp.baseline else ""), "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(cell(r[c]) for c in cols) + " |")
    if exp.repetitions > 1 and "point_index" in ok.columns:
        # The repetitions of each point averaged (ok rows only), with their spread.
        means = [c for c in shown if c in ok.columns and ok[c].notna().any()
                 and ok[c].map(lambda v: isinstance(v, (int, float))).all()]
        keys = ["point_index"] + [c for c in axes if c in ok.columns]
        lines += ["", "Mean of the repetitions (min..max):", "",
                  "| " + " | ".join(keys + means) + " |", "|" + "---|" * len(keys + means)]
        for _, g in ok.groupby("point_index", sort=True):
            first = g.iloc[0]
            cells = [cell(first[k]) for k in keys]
            cells += [f"{cell(g[c].mean())} ({cell(g[c].min())}..{cell(g[c].max())})"
                      if g[c].notna().any() else "" for c in means]
            lines.append("| " + " | ".join(cells) + " |")
    failed = df[df["status"] != "ok"] if "status" in df else df.iloc[0:0]
    if len(failed):
        lines += ["", "## Failed points", ""]
        lines += [f"- point {r.get('point_index')} repetition {r['repetition']}: {r.get('error')}"
                  for _, r in failed.iterrows()]
    lines.append("")
    lines += [f"![plot]({img})" for img in images]
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
