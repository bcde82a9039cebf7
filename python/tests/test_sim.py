"""quorumlab.sim: the simulator in-process equals `qlab sim`; sweeps across processes equal
the sequential run; the history as a DataFrame; bad input."""
from __future__ import annotations

import os
import re
import subprocess

import pandas as pd
import pytest

from quorumlab import _native, sim

QLAB = os.path.join(_native.bin_dir(), "qlab")


@pytest.mark.parametrize("broadcast,seed", [("zab", 11), ("raft", 5)])
def test_run_equals_qlab_sim(broadcast, seed):
    r = sim.run(broadcast=broadcast, seed=seed, duration_ms=2000)
    out = subprocess.run([QLAB, "sim", "--broadcast", broadcast, "--seed", str(seed),
                          "--duration-ms", "2000"], capture_output=True, text=True,
                         env=dict(os.environ, QL_PLUGIN_DIR=_native.plugin_dir())).stdout
    m = re.search(r"seed (\d+): (\w+), trace digest ([0-9a-f]{16}), (\d+) events", out)
    assert m, out
    assert int(m.group(1)) == seed and r.trace_digest_hex == m.group(3)
    assert r.events == int(m.group(4)) and r.ok == (m.group(2) == "ok")
    again = sim.run(broadcast=broadcast, seed=seed, duration_ms=2000, history=False)
    assert again.trace_digest == r.trace_digest


def test_result_history_and_anomalies():
    r = sim.run(broadcast="zab", seed=3, duration_ms=1500, read_policy="local")
    assert r.ok, r.failure_report
    h = r.history
    assert isinstance(h, pd.DataFrame) and len(h) == r.ops
    assert {"session", "op", "path", "invoke_us", "complete_us", "result", "zxid"} <= set(h)
    assert set(h.op) <= {"create", "set", "get", "exists", "delete", "sync"}
    done = h[h.complete_us.notna()]
    assert (done.complete_us >= done.invoke_us).all()
    assert (h.result == "OK").sum() == r.ops_ok
    assert r.anomalies["reads"] == r.stale["reads"]
    assert "broadcast = zab" in r.config_text or "zab" in r.config_text


def test_sweep_two_workers_equals_sequential():
    seeds = range(20, 28)
    kw = dict(broadcast="zab", duration_ms=1000, progress=False)
    par = sim.sweep(seeds, workers=2, **kw)
    seq = sim.sweep(seeds, workers=1, **kw)
    assert list(par.seed) == list(seeds)
    cols = [c for c in par.columns if c != "wall_s"]
    pd.testing.assert_frame_equal(par[cols], seq[cols])
    assert par.ok.all()


def test_import_quorumlab_gives_the_submodules():
    import quorumlab
    assert quorumlab.sim.run is sim.run and quorumlab.recipes.Lock


def test_bad_input():
    with pytest.raises(ValueError, match="paxos"):
        sim.run(broadcast="paxos")
    with pytest.raises(ValueError, match="earthquake"):
        sim.run(broadcast="zab", faults="earthquake")
    with pytest.raises(ValueError, match="nonsense"):
        sim.run(broadcast="zab", params={"nonsense": 1}, duration_ms=100)
    with pytest.raises(ValueError, match="seed"):
        sim.run(broadcast="zab", seed=-1)
    with pytest.raises(ValueError, match="nodes"):
        sim.run(broadcast="zab", nodes=-3)
    with pytest.raises(ValueError, match="solo"):
        sim.run(broadcast="solo", nodes=2)
    with pytest.raises(ValueError, match="paxos"):
        sim.sweep([1, 2], workers=2, broadcast="paxos", progress=False)
    with pytest.raises(Exception, match="lease|supports|barrier"):
        sim.run(broadcast="zab", read_policy="lease")
