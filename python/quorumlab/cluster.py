"""A local cluster of real ``qlab server`` processes on loopback.

It is the launcher ``qlab cluster`` uses (harness/cluster, through the extension): the same
ports plan, ``DIR/cluster.json``, logs in ``DIR/n<ID>.log``, so ``qlab cluster status --dir DIR``
works on a cluster started from Python and the other way round.

>>> with Cluster(nodes=3, broadcast="zab", storage="memory") as c:
...     zk = c.client()
...     zk.create("/hello", b"world")
...     print(c.bench(read_pct=90, duration=2)["ops_per_s"])

Leaving the ``with`` block (normally or by an exception) stops every server process.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import weakref
from typing import Any, Dict, List, Mapping, Optional

from . import _native
from .client import Client

_KINDS = ("broadcast", "storage", "read_policy")


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text(value: Any) -> str:
    """A parameter value as the command line writes it (true/false for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_plugins(broadcast: str, storage: str, read_policy: str,
                   params: Mapping[str, Any]) -> Dict[str, List[str]]:
    """Raises ValueError for a missing plugin, a refused pair or an unknown parameter."""
    installed = _native.plugins("")
    by_kind: Dict[str, Dict[str, Dict[str, Any]]] = {}
    for p in installed:
        by_kind.setdefault(p["kind"], {})[p["name"]] = p
    chosen = {"broadcast": broadcast, "storage": storage, "read_policy": read_policy}
    for kind, name in chosen.items():
        if name not in by_kind.get(kind, {}):
            names = ", ".join(sorted(by_kind.get(kind, {}))) or "none"
            raise ValueError(f"no {kind} plugin named '{name}' (installed: {names}; plugin "
                             f"directory {_native.plugin_dir()})")
    for key in params:
        if not isinstance(key, str):
            raise TypeError(f"parameter names must be str, got {key!r}")
        kind, dot, name = key.partition(".")
        if not dot:
            continue  # a server setting (tick_ms, ...): the server checks it at start
        if kind not in chosen:
            raise ValueError(f"unknown parameter '{key}': plugin parameters are "
                             f"broadcast.NAME, storage.NAME or read_policy.NAME")
        known = [s["name"] for s in by_kind[kind][chosen[kind]]["params"]]
        if name not in known:
            raise ValueError(f"unknown parameter '{key}': the {kind} plugin "
                             f"'{chosen[kind]}' has {', '.join(known) or 'no parameters'}")
    # A pair can depend on the parameters (zab's lease needs broadcast.lease=true).
    try:
        _native.require_supported_pair(
            broadcast, read_policy,
            {k.partition(".")[2]: _text(v) for k, v in params.items()
             if k.startswith("broadcast.")})
    except RuntimeError as e:  # the kernel's ConfigError: a bad value
        raise ValueError(str(e)) from None
    return {k: [s["name"] for s in by_kind[k][v]["params"]] for k, v in chosen.items()}


# Clusters still running when the interpreter exits are stopped (a test that forgot to).
_live: "weakref.WeakSet[Cluster]" = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for c in list(_live):
        try:
            c.stop()
        except Exception:
            pass


class Cluster:
    """Real server processes on loopback, with faults, failover timing and the benchmark.

    Args:
        nodes: voting members; observers: non-voting members.
        broadcast, storage, read_policy: plugin names (:func:`quorumlab.plugins`).
        params: settings for every server, ``{"storage.fsync": False, "tick_ms": 10}``;
            plugin parameters are checked against the plugin's schema before anything starts.
        dir: the cluster directory (state, logs, data); a temporary one (removed by stop())
            when None.
        zk_ports: also serve the ZooKeeper wire protocol (``zk_connect_string``).
        timeout: seconds allowed for each start and for the election.
        start: start at once (otherwise call start()).
    """

    def __init__(self, nodes: int = 3, observers: int = 0, broadcast: str = "zab",
                 storage: str = "wal", read_policy: str = "local",
                 params: Optional[Mapping[str, Any]] = None, dir: Optional[str] = None,
                 zk_ports: bool = True, timeout: float = 30.0, start: bool = True) -> None:
        if not isinstance(nodes, int) or nodes < 1 or nodes > 254:
            raise ValueError(f"nodes must be 1..254, got {nodes!r}")
        if not isinstance(observers, int) or observers < 0:
            raise ValueError(f"observers must be a non-negative int, got {observers!r}")
        self.params = dict(params or {})
        _check_plugins(broadcast, storage, read_policy, self.params)
        self.nodes, self.observers = nodes, observers
        self.broadcast, self.storage, self.read_policy = broadcast, storage, read_policy
        self.timeout = float(timeout)
        self.zk_ports = zk_ports
        self._own_dir = dir is None
        self.dir = dir or tempfile.mkdtemp(prefix="quorumlab-cluster-")
        self._spec: Any = None
        self._clients: "weakref.WeakSet[Client]" = weakref.WeakSet()
        self._lock = threading.RLock()
        self._running = False
        if start:
            self.start()

    # ---- lifecycle ----------------------------------------------------------------------

    def server_args(self) -> List[str]:
        args = ["--broadcast", self.broadcast, "--storage", self.storage, "--read-policy",
                self.read_policy]
        for key, value in self.params.items():
            args += ["--set", f"{key}={_param_text(value)}"]
        return args

    def start(self) -> "Cluster":
        """Starts every node and waits for a leader; on failure stops what started, raises."""
        with self._lock:
            if self._running:
                return self
            os.makedirs(self.dir, exist_ok=True)
            if os.path.exists(os.path.join(self.dir, "cluster.json")):
                old = _native.load(self.dir)
                for n in old.nodes:
                    if _native.proc_state(n["pid"]) != "down":
                        raise RuntimeError(f"a cluster is already running in {self.dir} (node "
                                           f"{n['id']}, pid {n['pid']}); stop it first")
            self._spec = _native.plan(self.dir, self.nodes, self.observers, self.server_args(),
                                      self.zk_ports)
            _native.save(self._spec)
            self._running = True
            _live.add(self)
            try:
                for n in self._spec.nodes:
                    _native.start_node(self._spec, n["id"], self.timeout)
                _native.wait_for_leader(self._spec, self.timeout)
            except BaseException:
                self.stop()
                raise
            return self

    def stop(self) -> None:
        """Closes the clients made by client(), stops every node (SIGTERM, then SIGKILL) and
        removes a temporary directory. Idempotent."""
        with self._lock:
            for c in list(self._clients):
                try:
                    c.close(1.0)
                except Exception:
                    pass
            if self._spec is not None and self._running:
                errors = []
                for n in self._spec.nodes:
                    try:
                        _native.signal_node(self._spec, n["id"], "term")
                    except Exception as e:  # keep stopping the others
                        errors.append(e)
                self._running = False
                _live.discard(self)
                if self._own_dir:
                    shutil.rmtree(self.dir, ignore_errors=True)
                if errors:
                    raise errors[0]

    close = stop

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __del__(self) -> None:
        try:
            if getattr(self, "_running", False):
                self.stop()
        except Exception:
            pass

    @property
    def running(self) -> bool:
        return self._running

    # ---- addresses and status -----------------------------------------------------------

    @property
    def connect_string(self) -> str:
        """``127.0.0.1:p1,127.0.0.1:p2,...`` for quorumlab.Client and qlab tools."""
        return _native.connect_string(self._need_spec(), False)

    @property
    def zk_connect_string(self) -> str:
        """The ZooKeeper wire ports, for kazoo, zkCli and other ZooKeeper clients."""
        return _native.connect_string(self._need_spec(), True)

    def node_connect_string(self, node: int) -> str:
        """The native address of one node."""
        return f"127.0.0.1:{self._node(node)['client_port']}"

    @property
    def node_ids(self) -> List[int]:
        return [n["id"] for n in self._need_spec().nodes]

    def pid(self, node: int) -> int:
        return self._node(node)["pid"]

    def status(self) -> List[Dict[str, Any]]:
        """One dict per node, the fields of ``qlab cluster status --json``: id, pid, role,
        process, client_port, peer_port, zk_port and, for a node that answers, leader, epoch,
        sub_state, applied_zxid, digest, znodes, sessions, ticks (delivered since it started),
        and the fault rules in force: net_rules (on its peer links: peer, drop_pct, delay_ms,
        jitter_ms), disk_delay_ms, clock_skew_ppm, clients_cut."""
        out = []
        for n in self._need_spec().nodes:
            process = _native.proc_state(n["pid"])
            st = _native.probe(n["client_port"], 0.5) if process == "running" else None
            row = {"id": n["id"], "pid": n["pid"], "role": st["role"] if st else "down",
                   "process": process, "client_port": n["client_port"],
                   "peer_port": n["peer_port"], "zk_port": n["zk_port"]}
            if st:
                for k in ("leader", "epoch", "sub_state", "applied_zxid", "digest", "znodes",
                          "sessions", "ticks", "net_rules", "disk_delay_ms",
                          "clock_skew_ppm", "clients_cut"):
                    row[k] = st[k]
            out.append(row)
        return out

    def leader(self, timeout: Optional[float] = None) -> int:
        """The id of the leader every running voter agrees on (waits up to `timeout`)."""
        return _native.wait_for_leader(self._need_spec(),
                                       self.timeout if timeout is None else timeout)

    # ---- faults -------------------------------------------------------------------------

    def kill(self, node: int) -> None:
        """kill -9 one node (returns once the process is gone)."""
        self._signal(node, "kill")

    def pause(self, node: int) -> None:
        """SIGSTOP one node (returns once the process is stopped)."""
        self._signal(node, "stop")

    def resume(self, node: int) -> None:
        """SIGCONT one node."""
        self._signal(node, "cont")

    # ---- network faults (through the servers' transport: no root, no firewall rules) ----

    def partition(self, groups: str) -> None:
        """Cuts the peer links between groups: "1,2/3" (nodes talk only within a group they
        share; "1,2/2,3" is a bridge), or one way, "1,2>3" (what 1 and 2 send to 3 is lost).
        Replaces every link rule in force (a node's own faults stay)."""
        self._network("partition", groups=groups)

    def heal(self) -> None:
        """Removes every fault rule: links, disk delays, clock skews, cut client links."""
        self._network("heal")

    def delay(self, node: int, ms: int, jitter: int = 0) -> None:
        """Delays the messages on `node`'s peer links, both ways, by `ms` (+ up to `jitter`)
        milliseconds; the order of messages is kept."""
        self._network("delay", node=node, delay=ms, jitter=jitter)

    def drop(self, node: int, pct: int) -> None:
        """Loses `pct` percent of the messages on `node`'s peer links, both ways."""
        self._network("drop", node=node, drop=pct)

    # ---- a node's own faults (its disk, its tick clock, its client links) -----------------

    def slow_disk(self, node: int, ms: int) -> None:
        """Each fsync of `node`'s storage plugin takes `ms` longer (0 removes it; the plugin
        must support it: ``wal`` does, ``memory`` refuses)."""
        self._node_faults(node, disk_delay_ms=ms)

    def clock_skew(self, node: int, ppm: int) -> None:
        """`node`'s tick clock runs at rate 1 + ppm/1e6 (-500000 .. 500000; 0 removes it).
        Beyond the configured clock_drift_ppm, lease and bounded reads may return stale data."""
        self._node_faults(node, clock_skew_ppm=ppm)

    def cut_clients(self, node: int, cut: bool = True) -> None:
        """Cuts `node`'s client links (cut=False restores them): it neither takes nor answers
        client messages, so its clients time out and move to another server."""
        self._node_faults(node, clients_cut=cut)

    def _node_faults(self, node: int, disk_delay_ms: Optional[int] = None,
                     clock_skew_ppm: Optional[int] = None,
                     clients_cut: Optional[bool] = None) -> None:
        if not self._running:
            raise RuntimeError("the cluster is stopped")
        self._node(node)
        _native.change_node_faults(self._need_spec(), node, disk_delay_ms, clock_skew_ppm,
                                   clients_cut, self.timeout)

    def _network(self, what: str, groups: str = "", node: int = 0, drop: Optional[int] = None,
                 delay: Optional[int] = None, jitter: Optional[int] = None) -> None:
        if not self._running:
            raise RuntimeError("the cluster is stopped")
        if node:
            self._node(node)
        _native.change_network(self._need_spec(), what, groups, node, drop, delay, jitter,
                               self.timeout)

    def restart(self, node: int, wait_for_leader: bool = False) -> None:
        """Kills the node if it runs, starts it again (same ports and data)."""
        with self._lock:
            self._signal(node, "kill")
            _native.start_node(self._need_spec(), node, self.timeout)
        if wait_for_leader:
            self.leader()

    def failover(self, rounds: int = 1, timeout: Optional[float] = None,
                 restart: bool = True, fault: str = "kill") -> List[Dict[str, Any]]:
        """``qlab cluster failover``: kill -9 (fault="kill") or SIGSTOP (fault="pause") the
        leader under a write load and time the first write that succeeds after the fault; then
        restart (or resume) it. One dict per round (old_leader, new_leader, failover_ms,
        writes_before, failed_writes, converged)."""
        with self._lock:
            return _native.measure_failover(self._need_spec(), int(rounds),
                                            self.timeout if timeout is None else timeout,
                                            restart, fault)

    # ---- clients and load ---------------------------------------------------------------

    def client(self, timeout: float = 10.0, node: Optional[int] = None, **kwargs: Any) -> Client:
        """A Client of the whole cluster (or of one node); closed by stop()."""
        hosts = self.node_connect_string(node) if node is not None else self.connect_string
        c = Client(hosts, timeout=timeout, **kwargs)
        self._clients.add(c)
        return c

    def bench(self, read_pct: int = 50, sessions: int = 12, outstanding: int = 100,
              value_bytes: int = 1024, duration: float = 10.0, warmup: float = 2.0,
              keys: int = 1000, seed: int = 1, protocol: str = "native",
              timeout_ms: int = 30000, root: str = "/bench", interval: float = 1.0,
              timeline: bool = False, history: str = "", rate: float = 0.0) -> Dict[str, Any]:
        """The ZooKeeper paper's benchmark, the one ``qlab bench`` runs (in C++; Python only
        waits): returns the fields of ``qlab bench --json``: ops_per_s, reads_per_s,
        writes_per_s, latency_us{p50,p90,p99,p999,max,mean}, errors, ...; with `history`
        every operation is recorded to that file for :func:`quorumlab.check_history`."""
        from . import bench
        connect = self.zk_connect_string if protocol == "zookeeper" else self.connect_string
        return bench(connect, read_pct=read_pct, sessions=sessions, outstanding=outstanding,
                     value_bytes=value_bytes, duration=duration, warmup=warmup, keys=keys,
                     seed=seed, protocol=protocol, timeout_ms=timeout_ms, root=root,
                     interval=interval, timeline=timeline, history=history, rate=rate)

    # ---- internals ----------------------------------------------------------------------

    def _need_spec(self) -> Any:
        if self._spec is None:
            raise RuntimeError("the cluster was not started")
        # `qlab cluster` and `qlab nemesis` may have restarted nodes (new pids) through the same
        # cluster.json: take its newer state.
        path = os.path.join(self.dir, "cluster.json")
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            return self._spec
        if mtime != getattr(self, "_spec_mtime", None):
            if getattr(self, "_spec_mtime", None) is not None:
                self._spec = _native.load(self.dir)
            self._spec_mtime = mtime
        return self._spec

    def _node(self, node: int) -> Dict[str, Any]:
        for n in self._need_spec().nodes:
            if n["id"] == node:
                return n
        raise ValueError(f"no node {node} (nodes: {self.node_ids})")

    def _signal(self, node: int, signal: str) -> None:
        self._node(node)
        if not self._running:
            raise RuntimeError("the cluster is stopped")
        _native.signal_node(self._need_spec(), node, signal)

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped"
        return (f"Cluster({self.nodes} nodes + {self.observers} observers, {self.broadcast}/"
                f"{self.storage}/{self.read_policy}, {state}, dir={self.dir})")
