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
import itertools
import json
import os
import platform
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from . import _native

__all__ = ["ExperimentError", "Experiment", "load", "run"]


class ExperimentError(ValueError):
    """A bad experiment file: the message names the key's path and what is allowed."""


# The simulator backend's settings: name -> (type, what is allowed).
SIM_SETTINGS: Dict[str, Any] = {
    "broadcast": str,
    "nodes": int,
    "observers": int,
    "read_policy": str,
    "faults": str,
    "duration_ms": int,
    "clients": int,
    "keys": int,
    "session_timeout_ms": int,
    "broadcast_params": dict,
    "read_policy_params": dict,
    "check_linearizable_reads": bool,
    # The throughput workload and the performance model (qlab sim --workload bench --perf-*).
    "workload": str,
    "sessions": int,
    "outstanding": int,
    "read_percent": int,
    "value_size": int,
    "warmup_ms": int,
    "measure_ms": int,
    "perf_model": bool,
    "perf_profile": str,
    "perf": dict,
}
TOP_KEYS = {"name", "question", "backend", "repetitions", "seeds", "settings", "axes", "quick",
            "plots"}
PLOT_KINDS = ("bar", "line", "scatter")
# What a point's row holds besides its settings (from `qlab sim --json`).
METRICS = ("seeds", "passed", "failed", "ops", "reads", "stale_reads", "stale_rate",
           "linearizability_violations", "barriers_per_read", "read_rounds_per_read",
           "peer_messages_per_op", "peer_bytes_per_op", "seconds",
           "throughput_ops_s", "reads_per_s", "writes_per_s", "latency_ms_p50", "latency_ms_p99",
           "cpu_utilization_max")


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

    def points(self) -> List[Dict[str, Any]]:
        """Every combination of the axes over the fixed settings, in file order."""
        names = list(self.axes)
        out = []
        for values in itertools.product(*(self.axes[n] for n in names)):
            p = dict(self.settings)
            p.update(zip(names, values))
            out.append(p)
        return out


def _check_setting(path: str, key: str, value: Any) -> None:
    if key not in SIM_SETTINGS:
        raise ExperimentError(f"{path}: unknown setting; allowed: {', '.join(SIM_SETTINGS)}")
    want = SIM_SETTINGS[key]
    if want is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ExperimentError(f"{path}: must be a non-negative integer, got {value!r}")
    if want is not int and not isinstance(value, want):
        raise ExperimentError(f"{path}: must be a {want.__name__}, got {value!r}")
    if want is dict:
        for k, v in value.items():
            if not isinstance(v, (str, int, float, bool)):
                raise ExperimentError(f"{path}.{k}: must be a string, number or boolean")


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


def _parse(doc: Dict[str, Any], path: str) -> Experiment:
    unknown = set(doc) - TOP_KEYS
    if unknown:
        raise ExperimentError(f"{sorted(unknown)[0]}: unknown key; allowed: "
                              f"{', '.join(sorted(TOP_KEYS))}")
    for key in ("name", "question"):
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            raise ExperimentError(f"{key}: required, a non-empty string")
    backend = doc.get("backend", "sim")
    if backend != "sim":
        raise ExperimentError(f"backend: '{backend}' is not available yet; allowed: sim")
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
        _check_setting(f"settings.{k}", k, v)
    axes_doc = doc.get("axes", {})
    if not isinstance(axes_doc, dict):
        raise ExperimentError("axes: a table")
    axes = {}
    for k, spec in axes_doc.items():
        values = _axis_values(f"axes.{k}", spec)
        for i, v in enumerate(values):
            _check_setting(f"axes.{k}[{i}]", k, v)
        axes[k] = values
    plots = doc.get("plots", [])
    if not isinstance(plots, list):
        raise ExperimentError("plots: an array of tables ([[plots]])")
    columns = set(SIM_SETTINGS) | set(METRICS)
    for i, p in enumerate(plots):
        where = f"plots[{i}]"
        if not isinstance(p, dict) or set(p) - {"kind", "x", "y", "series", "title"}:
            raise ExperimentError(f"{where}: keys kind, x, y, series, title")
        if p.get("kind") not in PLOT_KINDS:
            raise ExperimentError(f"{where}.kind: one of {', '.join(PLOT_KINDS)}")
        for k in ("x", "y", "series"):
            if k in p and p[k] not in columns:
                raise ExperimentError(f"{where}.{k}: '{p[k]}' is not a column; columns: "
                                      f"{', '.join(sorted(columns))}")
        if "x" not in p or "y" not in p:
            raise ExperimentError(f"{where}: x and y are required")
    return Experiment(path=path, name=doc["name"], question=doc["question"], backend=backend,
                      repetitions=reps, first_seed=first, seed_count=count, settings=settings,
                      axes=axes, plots=plots)


def load(path: str, quick: bool = False) -> Experiment:
    """Reads and validates an experiment file (with its [quick] overrides when `quick`).
    Raises ExperimentError naming the key's path."""
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ExperimentError(f"{path}: not valid TOML: {e}") from None
    quick_doc = doc.get("quick", {})
    if not isinstance(quick_doc, dict):
        raise ExperimentError("quick: a table of overrides")
    for k in quick_doc:
        if k not in ("settings", "axes", "seeds", "repetitions"):
            raise ExperimentError(f"quick.{k}: only settings, axes, seeds and repetitions "
                                  "can be overridden")
    exp = _parse(doc, path)  # the full experiment must be valid too
    if quick:
        merged = dict(doc)
        for k, v in quick_doc.items():
            merged[k] = {**doc.get(k, {}), **v} if isinstance(v, dict) else v
        exp = _parse(merged, path)
    return exp


def _point_id(point: Dict[str, Any]) -> str:
    return json.dumps(point, sort_keys=True)


def _qlab() -> str:
    return os.path.join(_native.bin_dir(), "qlab")


def _sim_args(point: Dict[str, Any], first: int, count: int) -> List[str]:
    args = [_qlab(), "sim", "--seed", str(first), "--seeds", str(count), "--keep-going", "--json"]
    flags = {"broadcast": "--broadcast", "nodes": "--nodes", "observers": "--observers",
             "read_policy": "--read-policy", "faults": "--faults",
             "duration_ms": "--duration-ms", "clients": "--clients", "keys": "--keys",
             "session_timeout_ms": "--session-timeout-ms", "workload": "--workload",
             "sessions": "--sessions", "outstanding": "--outstanding",
             "read_percent": "--read-pct", "value_size": "--value-size",
             "warmup_ms": "--warmup-ms", "measure_ms": "--measure-ms",
             "perf_profile": "--perf-profile"}
    for k, flag in flags.items():
        if k in point:
            args += [flag, str(point[k])]
    text = lambda v: ("true" if v else "false") if isinstance(v, bool) else str(v)
    for k, v in point.get("broadcast_params", {}).items():
        args += ["--broadcast-param", f"{k}={text(v)}"]
    for k, v in point.get("read_policy_params", {}).items():
        args += ["--read-policy-param", f"{k}={text(v)}"]
    if point.get("check_linearizable_reads"):
        args.append("--check-linearizable-reads")
    if point.get("perf_model"):
        args.append("--perf-model")
    for k, v in point.get("perf", {}).items():
        args += ["--perf", f"{k}={text(v)}"]
    return args


def _run_point(point: Dict[str, Any], rep: int, first: int, count: int) -> Dict[str, Any]:
    """One point and repetition through `qlab sim --json`: its row."""
    row: Dict[str, Any] = {"point": _point_id(point), "repetition": rep, **point}
    args = _sim_args(point, first, count)
    out = subprocess.run(args, capture_output=True, text=True, check=False)
    lines = [l for l in out.stdout.splitlines() if l.strip()]
    if out.returncode not in (0, 1) or not lines:
        row.update(status="failed", error=(out.stderr.strip().splitlines() or ["no output"])[-1])
        return row
    report = json.loads(lines[-1])
    row["status"] = "ok"
    for k in METRICS:
        if k in report:
            row[k] = report[k]
    row["violations"] = report.get("violations", {})
    row["staleness_ms_p99"] = report.get("staleness_ms", {}).get("p99")
    row["read_latency_ms_mean"] = report.get("read_latency_ms", {}).get("mean")
    return row


def _manifest(exp: Experiment, quick: bool, started: str) -> Dict[str, Any]:
    try:
        rev = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(exp.path)),
                              "rev-parse", "HEAD"], capture_output=True, text=True,
                             check=False).stdout.strip() or "unknown"
    except OSError:
        rev = "unknown"
    return {"experiment": exp.name, "question": exp.question, "file": os.path.abspath(exp.path),
            "quick": quick, "backend": exp.backend, "repetitions": exp.repetitions,
            "seeds": {"first": exp.first_seed, "count": exp.seed_count},
            "points": exp.points(), "git_revision": rev, "started": started,
            "machine": {"system": platform.platform(), "cpus": os.cpu_count(),
                        "python": sys.version.split()[0]}}


def run(path: str, out: Optional[str] = None, quick: bool = False,
        workers: Optional[int] = None, progress: bool = True):
    """Runs the experiment in `path` into the folder `out` (default results/NAME, or
    results/NAME-quick) and returns its rows as a pandas DataFrame. Points already in the
    folder's results.jsonl are not run again (resume)."""
    import pandas as pd
    exp = load(path, quick)
    out = out or os.path.join("results", exp.name + ("-quick" if quick else ""))
    os.makedirs(out, exist_ok=True)
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
    todo = [(p, rep) for p in exp.points() for rep in range(exp.repetitions)
            if (_point_id(p), rep) not in done]
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(todo), desc=exp.name, unit="point")
    workers = workers or os.cpu_count() or 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool, \
            open(jsonl, "a") as f:
        futures = [pool.submit(_run_point, p, rep, exp.first_seed + rep * exp.seed_count,
                               exp.seed_count) for p, rep in todo]
        for fut in concurrent.futures.as_completed(futures):
            row = fut.result()
            f.write(json.dumps(row) + "\n")
            f.flush()
            if bar:
                bar.update(1)
    if bar:
        bar.close()
    rows = [json.loads(l) for l in open(jsonl) if l.strip()]
    # The newest row of each (point, repetition): a failed one re-run later replaces it.
    latest = {(r["point"], r["repetition"]): r for r in rows}
    df = pd.DataFrame(list(latest.values()))
    df.drop(columns=["point"]).to_csv(os.path.join(out, "results.csv"), index=False)
    manifest["ended"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    _plots_and_summary(exp, df, out)
    return df


def _plots_and_summary(exp: Experiment, df, out: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    images = []
    ok = df[df["status"] == "ok"] if "status" in df else df
    for i, p in enumerate(exp.plots):
        fig, ax = plt.subplots(figsize=(6, 4))
        groups = ok.groupby(p["series"]) if p.get("series") else [("", ok)]
        for label, g in groups:
            g = g.groupby(p["x"], sort=False)[p["y"]].mean().reset_index()
            if p["kind"] == "bar":
                ax.bar([str(x) for x in g[p["x"]]], g[p["y"]], label=str(label) or None)
            elif p["kind"] == "line":
                ax.plot(g[p["x"]], g[p["y"]], marker="o", label=str(label) or None)
            else:
                ax.scatter(g[p["x"]], g[p["y"]], label=str(label) or None)
        ax.set_xlabel(p["x"])
        ax.set_ylabel(p["y"])
        ax.set_title(p.get("title", f"{p['y']} by {p['x']}"))
        if p.get("series"):
            ax.legend(title=p["series"])
        fig.tight_layout()
        base = os.path.join(out, f"plot{i + 1}")
        for ext in ("png", "svg"):
            fig.savefig(f"{base}.{ext}")
        plt.close(fig)
        images.append(f"plot{i + 1}.png")
    cols = [c for c in list(exp.axes) + ["repetition", "status", "passed", "failed", "reads",
                                         "stale_rate", "linearizability_violations",
                                         "barriers_per_read", "peer_messages_per_op",
                                         "throughput_ops_s", "latency_ms_p99"]
            if c in df.columns]
    lines = [f"# {exp.name}", "", exp.question, "", "| " + " | ".join(cols) + " |",
             "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(str(r[c]) for c in cols) + " |")
    lines.append("")
    lines += [f"![plot]({img})" for img in images]
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
