"""The deterministic simulator in-process: the one ``qlab sim`` runs (harness/sim).

N complete replicas with the real plugins and simulated clients run on one thread under
simulated time, network, disks and clocks, all randomness from one seed; the checkers
(linearizability, ZooKeeper's ordering guarantees, stale reads, invariants) judge the run.
The same seed gives the same run and the same trace digest as ``qlab sim --seed N``.

>>> from quorumlab import sim
>>> r = sim.run(broadcast="zab", seed=7)
>>> r.ok, hex(r.trace_digest), len(r.history)
>>> df = sim.sweep(range(1, 101), workers=2, broadcast="raft")
>>> df.ok.all()
"""
from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional

from . import _native

#: Fault mixes: a word, or a comma list of categories.
FAULT_MIXES = ("none", "network", "crash", "all")


def fault_categories() -> List[str]:
    """The categories a fault mix is made of (loss, partition, client, crash, ...)."""
    return list(_native.fault_categories())


@dataclass
class SimResult:
    """One simulated run: the checkers' verdict, what happened, and the history."""
    ok: bool                     #: every check passed
    property: str                #: the violated property ("" when ok)
    message: str
    seed: int
    trace_digest: int            #: equal for equal seeds, binaries and plugins
    events: int
    sim_time_us: int
    ops: int
    ops_ok: int
    ops_no_reply: int
    faults: int
    crashes: int
    leaders: int                 #: distinct (epoch, leader) pairs
    final_zxid: int
    stale: Dict[str, int]        #: stale-read accounting (reads, stale, versions_*, ms_*)
    linearizability: Dict[str, Any]
    session_order_anomalies: int
    session_order_example: str
    config_text: str             #: the resolved configuration
    failure_report: str          #: seed, revision, config, property, trace tail ("" when ok)
    trace_tail: List[str] = field(repr=False, default_factory=list)
    _history: Any = field(repr=False, default=None)

    @property
    def trace_digest_hex(self) -> str:
        """The digest as ``qlab sim`` prints it (16 hex digits)."""
        return f"{self.trace_digest:016x}"

    @property
    def anomalies(self) -> Dict[str, Any]:
        """The anomaly report: stale reads and FIFO execution-order anomalies."""
        return {"stale_reads": self.stale.get("stale", 0), "reads": self.stale.get("reads", 0),
                "stale_versions_max": self.stale.get("versions_max", 0),
                "stale_ms_max": self.stale.get("ms_max", 0),
                "session_order_anomalies": self.session_order_anomalies,
                "linearizability_keys_undecided": self.linearizability.get("keys_unknown", 0)}

    @property
    def history(self) -> "Any":
        """One row per client operation: id, client, session, op, path, data, version, watch,
        invoke_us, complete_us (None: no reply), err, result (error name or "no_reply"),
        zxid, observed_exists, observed_version, outcome_from_log (a pandas DataFrame)."""
        import pandas as pd
        if self._history is None:
            return pd.DataFrame()
        if not isinstance(self._history, pd.DataFrame):
            df = pd.DataFrame(self._history)
            for col in ("complete_us", "err", "zxid", "observed_version"):
                df[col] = df[col].astype("Int64")
            df["observed_exists"] = df["observed_exists"].astype("boolean")
            self._history = df
        return self._history


def _kwargs(broadcast: str, nodes: int, observers: int, read_policy: str, faults: str,
            duration_ms: int, steps: int, liveness_timeout_ms: int, clients: int, keys: int,
            session_timeout_ms: int, params: Optional[Mapping[str, Any]],
            trace_file: Optional[str], log_level: str) -> Dict[str, Any]:
    if not isinstance(broadcast, str) or not isinstance(read_policy, str):
        raise TypeError("broadcast and read_policy are plugin names (str)")
    for name, value in (("nodes", nodes), ("observers", observers), ("duration_ms", duration_ms),
                        ("steps", steps), ("liveness_timeout_ms", liveness_timeout_ms),
                        ("clients", clients), ("keys", keys),
                        ("session_timeout_ms", session_timeout_ms)):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative int (0: the default), got {value!r}")
    p = {str(k): ("true" if v is True else "false" if v is False else str(v))
         for k, v in (params or {}).items()}
    return dict(broadcast=broadcast, nodes=int(nodes), observers=int(observers),
                read_policy=read_policy, faults=faults, duration_ms=int(duration_ms),
                max_steps=int(steps), liveness_timeout_ms=int(liveness_timeout_ms),
                clients=int(clients), keys=int(keys), session_timeout_ms=int(session_timeout_ms),
                params=p, trace_file=trace_file or "", log_level=log_level)


def _check_seed(seed: Any) -> None:
    if not isinstance(seed, int) or not 0 <= seed < 2**64:
        raise ValueError(f"a seed is an int in 0..2**64-1, got {seed!r}")


def _result(d: Dict[str, Any]) -> SimResult:
    return SimResult(ok=d["ok"], property=d["property"], message=d["message"], seed=d["seed"],
                     trace_digest=d["trace_digest"], events=d["events"],
                     sim_time_us=d["sim_time_us"], ops=d["ops"], ops_ok=d["ops_ok"],
                     ops_no_reply=d["ops_no_reply"], faults=d["faults"], crashes=d["crashes"],
                     leaders=d["leaders"], final_zxid=d["final_zxid"], stale=d["stale"],
                     linearizability=d["linearizability"],
                     session_order_anomalies=d["session_order_anomalies"],
                     session_order_example=d["session_order_example"],
                     config_text=d["config_text"], failure_report=d["failure_report"],
                     trace_tail=d["trace_tail"], _history=d.get("history"))


def run(broadcast: str = "zab", nodes: int = 0, read_policy: str = "local",
        faults: str = "all", seed: int = 1, duration_ms: int = 0,
        params: Optional[Mapping[str, Any]] = None, observers: int = 0, steps: int = 0,
        liveness_timeout_ms: int = 0, clients: int = 0, keys: int = 0,
        session_timeout_ms: int = 0, trace_file: Optional[str] = None,
        history: bool = True, log_level: str = "off") -> SimResult:
    """Runs one seed, as ``qlab sim --broadcast B --seed S ...`` does.

    Args:
        broadcast, read_policy: plugin names; nodes: voters (0: 1 for solo, else 3).
        faults: none, network, crash, all, or a comma list (loss, partition, client, crash,
            disk, pause, clock).
        seed: the run's one seed. duration_ms: simulated safety phase (0: the default 5000).
        params: broadcast plugin parameters ({"election_timeout_ticks": 20}).
        clients, keys, session_timeout_ms, liveness_timeout_ms, steps: workload and phase
            knobs (0: defaults, as on the command line).
        history: keep the history (``result.history``, a DataFrame).

    Raises ValueError for an unknown plugin, a refused pair, an unknown fault word or an
    unknown parameter."""
    kw = _kwargs(broadcast, nodes, observers, read_policy, faults, duration_ms, steps,
                 liveness_timeout_ms, clients, keys, session_timeout_ms, params, trace_file,
                 log_level)
    _check_seed(seed)
    try:
        d = _native.sim_run(seed=int(seed), with_history=history, **kw)
    except RuntimeError as e:
        if isinstance(e, _native.PluginError):
            raise
        # Setup errors of the simulator (unknown parameter, bad value) come as runtime_error.
        raise ValueError(str(e)) from None
    return _result(d)


_ROW_FIELDS = ("seed", "ok", "property", "trace_digest", "events", "sim_time_us", "ops",
               "ops_ok", "ops_no_reply", "faults", "crashes", "leaders", "final_zxid",
               "session_order_anomalies")


def _row(d: Dict[str, Any]) -> Dict[str, Any]:
    row = {k: d[k] for k in _ROW_FIELDS}
    row["stale_reads"] = d["stale"]["stale"]
    row["reads"] = d["stale"]["reads"]
    row["stale_versions_max"] = d["stale"]["versions_max"]
    row["stale_ms_max"] = d["stale"]["ms_max"]
    row["lin_keys_unknown"] = d["linearizability"]["keys_unknown"]
    row["message"] = d["message"]
    return row


def _run_chunk(seeds: List[int], kw: Dict[str, Any]) -> List[Dict[str, Any]]:
    rows = []
    for s in seeds:
        t0 = time.perf_counter()
        d = _native.sim_run(seed=s, with_history=False, **kw)
        row = _row(d)
        row["wall_s"] = time.perf_counter() - t0
        rows.append(row)
    return rows


def _parallel(seeds: List[int], kw: Dict[str, Any], workers: int,
              chunk: int) -> Iterator[List[Dict[str, Any]]]:
    """Runs chunks of seeds in `workers` processes (python -m quorumlab._sweep_worker); yields
    each chunk's rows as it completes."""
    chunks = [seeds[i:i + chunk] for i in range(0, len(seeds), chunk)]
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    procs = [subprocess.Popen([sys.executable, "-m", "quorumlab._sweep_worker"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
             for _ in range(min(workers, len(chunks)))]
    sel = selectors.DefaultSelector()
    try:
        todo = iter(chunks)

        def feed(proc: subprocess.Popen) -> bool:
            part = next(todo, None)
            if part is None:
                proc.stdin.close()
                return False
            proc.stdin.write(json.dumps({"seeds": part, "kw": kw}) + "\n")
            proc.stdin.flush()
            return True

        busy = 0
        for proc in procs:
            if feed(proc):
                sel.register(proc.stdout, selectors.EVENT_READ, proc)
                busy += 1
        while busy:
            for key, _ in sel.select():
                proc = key.data
                line = proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"a sweep worker (pid {proc.pid}) exited with status "
                                       f"{proc.wait()}")
                reply = json.loads(line)
                if "error" in reply:
                    raise RuntimeError(f"a sweep worker failed: {reply['error']}\n"
                                       f"{reply['traceback']}")
                yield reply["rows"]
                if not feed(proc):
                    sel.unregister(proc.stdout)
                    busy -= 1
    finally:
        sel.close()
        for proc in procs:
            if proc.stdin and not proc.stdin.closed:
                try:
                    proc.stdin.close()
                except OSError:
                    pass
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()


def sweep(seeds: Iterable[int], workers: Optional[int] = None, progress: bool = True,
          broadcast: str = "zab", nodes: int = 0, read_policy: str = "local",
          faults: str = "all", duration_ms: int = 0,
          params: Optional[Mapping[str, Any]] = None, observers: int = 0, steps: int = 0,
          liveness_timeout_ms: int = 0, clients: int = 0, keys: int = 0,
          session_timeout_ms: int = 0, chunk: Optional[int] = None) -> "Any":
    """Runs every seed (``qlab sim --seeds N`` across processes) and returns a DataFrame with
    one row per seed, sorted by seed: seed, ok, property, trace_digest, events, sim_time_us,
    ops, ops_ok, ops_no_reply, faults, crashes, leaders, final_zxid, session_order_anomalies,
    stale_reads, reads, stale_versions_max, stale_ms_max, lin_keys_unknown, message, wall_s.

    workers: processes (default: the CPU count; 1 runs in this process); they are fresh
    ``python -m quorumlab._sweep_worker`` processes, so no ``__main__`` guard is needed.
    progress: a tqdm bar. The rows do not depend on `workers` (each seed is its own
    deterministic run)."""
    import pandas as pd
    seeds = list(seeds)
    for s in seeds:
        _check_seed(s)
    kw = _kwargs(broadcast, nodes, observers, read_policy, faults, duration_ms, steps,
                 liveness_timeout_ms, clients, keys, session_timeout_ms, params, None, "off")
    # Setup errors surface here, once, instead of in every worker.
    _native.require_supported_pair(broadcast, read_policy, kw["params"])
    workers = workers or os.cpu_count() or 1
    if chunk is None:
        chunk = max(1, min(25, len(seeds) // (workers * 8) or 1))
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(seeds), desc=f"sim {broadcast}", unit="seed")
    rows: List[Dict[str, Any]] = []
    try:
        if workers == 1:
            for s in seeds:
                rows += _run_chunk([s], kw)
                if bar is not None:
                    bar.update(1)
        else:
            for part in _parallel(seeds, kw, workers, chunk):
                rows += part
                if bar is not None:
                    bar.update(len(part))
    finally:
        if bar is not None:
            bar.close()
    df = pd.DataFrame(rows, columns=list(_ROW_FIELDS) + [
        "stale_reads", "reads", "stale_versions_max", "stale_ms_max", "lin_keys_unknown",
        "message", "wall_s"])
    return df.sort_values("seed", kind="stable").reset_index(drop=True)


def git_revision() -> str:
    """The git revision the simulator was built from."""
    return _native.git_revision()
