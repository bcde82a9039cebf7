"""Lab 3: what a read sees. Fill in the functions marked TODO (keep names and signatures),
run them, and copy what they return into ANSWERS.toml. Read README.md first.
Check your work with:  python3 -m quorumlab.lab check reads
"""
from __future__ import annotations

import os
import tempfile
from typing import Dict, Iterable, List, Optional

from quorumlab import Cluster, check_history, sim

#: The read policies of this lab, and the broadcast parameters each needs with zab.
POLICIES = ["local", "sync", "leader", "read-index", "lease"]
PARAMS = {"lease": {"lease": True}}


def measure_stale(broadcast: str, policy: str, seeds: Iterable[int]) -> Dict[str, int]:
    """Runs the simulator (every fault, the checking workload) once per seed with `policy` and
    returns {"reads": completed reads, "stale": stale reads, "seeds_with_stale": seeds where
    at least one read was stale}. A read is stale when it missed a write that completed
    before the read was invoked."""
    # TODO: quorumlab.sim.sweep(seeds, broadcast=..., read_policy=..., params=...) returns a
    # DataFrame with one row per seed (columns reads, stale_reads, ...).
    raise NotImplementedError("measure_stale")


def find_sync_anomaly(broadcast: str, seeds: Iterable[int]) -> Optional[int]:
    """The first seed in which a read made after a sync (read policy `sync`) still missed a
    write completed before it began; None if there is none."""
    # TODO: quorumlab.sim.run(broadcast=..., read_policy="sync", seed=s) -> result.stale
    raise NotImplementedError("find_sync_anomaly")


def measure_cost(broadcast: str, policy: str, seconds: float = 2.0) -> Dict[str, float]:
    """A real 3-node cluster (memory storage) with `policy`: a 90%-read load for `seconds`,
    its history recorded and checked. Returns {"ops_per_s", "p99_ms", "stale_reads"}."""
    # TODO: quorumlab.Cluster(nodes=3, broadcast=..., storage="memory", read_policy=...,
    # params={"broadcast.lease": "true"} for lease) as c; c.bench(read_pct=90, ...,
    # history=PATH) returns ops_per_s and latency_us; check_history(PATH) counts stale reads.
    raise NotImplementedError("measure_cost")
