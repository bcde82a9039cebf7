"""quorumlab from Python: clients, clusters, the simulator and benchmarks.

The C++ core does the work; this package configures, drives and reports.

- :class:`Client`: a ZooKeeper-style client with a kazoo-like API (sync, ``*_async`` futures,
  watches as callbacks or iterators), errors as :mod:`quorumlab.exceptions`.
- :class:`Cluster`: real ``qlab server`` processes on loopback (the launcher ``qlab cluster``
  uses), faults, failover and the benchmark of ``qlab bench``.
- :mod:`quorumlab.sim`: the deterministic simulator (``qlab sim``) in-process, sweeps over seeds
  in parallel processes, histories as pandas DataFrames.
- :mod:`quorumlab.recipes`: locks, leader election, barriers, queues, counters, ...
- :func:`plugins`: the installed plugins and their parameters.
- :func:`bench` with ``history=`` and :func:`check_history`: record a real cluster's history
  and check it (``qlab bench --history``, ``qlab check``).
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

try:
    from . import _native
except ImportError as e:  # pragma: no cover - a helpful message instead of a bare ImportError
    raise ImportError(
        "quorumlab's extension module (quorumlab/_native*.so) is missing or does not load: "
        "run `make` in the repository first, then use PYTHONPATH=<repo>/python and "
        f"/usr/bin/python3 ({e})") from e

from . import exceptions, recipes, sim
from .client import (ACL, CREATOR_ALL_ACL, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, Client, CreateMode,
                     EventType, Id, KeeperState, Op, Permissions, SessionState, WatchedEvent,
                     ZnodeStat, make_acl, make_digest_acl)
from .cluster import Cluster
from .exceptions import *  # noqa: F401,F403 - the exception names belong to the package API

__version__ = "0.1.0"


def bench(connect: str, read_pct: int = 50, sessions: int = 12, outstanding: int = 100,
          value_bytes: int = 1024, duration: float = 10.0, warmup: float = 2.0,
          keys: int = 1000, seed: int = 1, protocol: str = "native", timeout_ms: int = 30000,
          root: str = "/bench", interval: float = 1.0, timeline: bool = False,
          history: str = "", rate: float = 0.0) -> Dict[str, Any]:
    """``qlab bench`` against any servers: `connect` is a connect string of quorumlab's native
    ports, or with protocol="zookeeper" of ZooKeeper wire ports (Apache ZooKeeper too).
    Returns the fields of ``qlab bench --json`` (see :meth:`Cluster.bench`); with `timeline`
    also ``timeline``, one entry per `interval` seconds (t, ops_per_s, errors, warmup).
    With `history` (a file path; native protocol) every operation is recorded there for
    :func:`check_history` (``qlab bench --history``); `rate` caps the operations per second."""
    return _native.run_bench(connect, protocol, int(sessions), int(outstanding), int(read_pct),
                             int(value_bytes), int(keys), float(duration), float(warmup),
                             int(seed), int(timeout_ms), root, float(interval), bool(timeline),
                             str(history or ""), float(rate))


def check_history(path: str, model: str = "zookeeper",
                  staleness_bound_ms: Optional[int] = None) -> Dict[str, Any]:
    """``qlab check PATH --model MODEL --json``: the simulator's history checks on a history
    recorded by real clients. Returns ok, operations, writes_acknowledged, writes_lost,
    stale_reads, linearizability{...} and, when a property fails, violation{property,
    message}. Raises ValueError when the file cannot be read (the message names the line)."""
    import subprocess
    args = [os.path.join(_native.bin_dir(), "qlab"), "check", path, "--model", model, "--json"]
    if staleness_bound_ms is not None:
        args += ["--staleness-bound-ms", str(int(staleness_bound_ms))]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise ValueError(r.stderr.strip())
    return json.loads(r.stdout)


def plugins() -> List[Dict[str, Any]]:
    """The installed plugins, as ``qlab plugins --json`` lists them: kind, name, version,
    summary, file, params (name, type, default, help, min/max/choices), and barrier_kinds
    (broadcast) or needs_barrier_kinds and guarantee (read_policy)."""
    return _native.plugins("")


__all__ = ["Client", "Cluster", "plugins", "bench", "check_history", "exceptions", "recipes", "sim", "ACL",
           "Id", "Permissions", "OPEN_ACL_UNSAFE", "READ_ACL_UNSAFE", "CREATOR_ALL_ACL", "make_acl",
           "make_digest_acl", "EventType", "KeeperState", "SessionState", "WatchedEvent",
           "ZnodeStat", "CreateMode", "Op"] + exceptions.__all__
