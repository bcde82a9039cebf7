"""Lab 3: what a read sees (reference solution)."""
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
    df = sim.sweep(list(seeds), workers=2, progress=False, broadcast=broadcast,
                   read_policy=policy, params=PARAMS.get(policy))
    return {"reads": int(df.reads.sum()), "stale": int(df.stale_reads.sum()),
            "seeds_with_stale": int((df.stale_reads > 0).sum())}


def find_sync_anomaly(broadcast: str, seeds: Iterable[int]) -> Optional[int]:
    """The first seed in which a read made after a sync (read policy `sync`) still missed a
    write completed before it began; None if there is none."""
    for seed in seeds:
        r = sim.run(broadcast=broadcast, read_policy="sync", seed=seed, history=False)
        if r.stale["stale"] > 0:
            return seed
    return None


def measure_cost(broadcast: str, policy: str, seconds: float = 2.0) -> Dict[str, float]:
    """A real 3-node cluster (memory storage) with `policy`: a 90%-read load for `seconds`,
    its history recorded and checked. Returns {"ops_per_s", "p99_ms", "stale_reads"}."""
    with tempfile.TemporaryDirectory() as d:
        params = {f"broadcast.{k}": ("true" if v is True else v)
                  for k, v in PARAMS.get(policy, {}).items()}
        with Cluster(nodes=3, broadcast=broadcast, storage="memory", read_policy=policy,
                     dir=os.path.join(d, "c"), params=params) as c:
            path = os.path.join(d, "h.jsonl")
            r = c.bench(read_pct=90, sessions=8, outstanding=4, duration=seconds, warmup=0.5,
                        keys=50, value_bytes=64, history=path)
        checked = check_history(path, model="zookeeper")
        return {"ops_per_s": float(r["ops_per_s"]), "p99_ms": r["latency_us"]["p99"] / 1000.0,
                "stale_reads": int(checked["stale_reads"])}
