"""quorumlab.Cluster: lifecycle over the launcher `qlab cluster` uses, faults, a client that
survives the loss of its server, the benchmark, plugins() and bad input."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

import quorumlab
from quorumlab import Cluster, EventType, _native
from quorumlab.exceptions import ConnectionLossError

from conftest import Events

QLAB = os.path.join(_native.bin_dir(), "qlab")


def test_lifecycle_status_faults_and_cli_interop(tmp_path):
    d = str(tmp_path / "c")
    with Cluster(nodes=3, broadcast="zab", storage="wal", dir=d) as c:
        st = c.status()
        assert [n["id"] for n in st] == [1, 2, 3]
        assert sum(n["role"] == "leader" for n in st) == 1
        leader = c.leader()
        assert st[leader - 1]["role"] == "leader"
        # the same state file as `qlab cluster`: the command line sees this cluster
        out = subprocess.run([QLAB, "cluster", "status", "--dir", d, "--json"],
                             capture_output=True, text=True, check=True).stdout
        assert [n["pid"] for n in json.loads(out)] == [n["pid"] for n in st]
        zk = c.client(node=leader)
        zk.create("/k", b"v")
        follower = next(n for n in c.node_ids if n != leader)
        c.pause(follower)  # returns once the process is stopped
        assert next(n for n in c.status() if n["id"] == follower)["process"] == "paused"
        zk.set("/k", b"w")  # the other two make a quorum
        c.resume(follower)
        c.kill(follower)
        assert next(n for n in c.status() if n["id"] == follower)["process"] == "down"
        c.restart(follower)
        one = c.client(node=follower)
        one.retry(one.sync, "/k", timeout=30)  # the restarted node has caught up to here
        assert one.get("/k")[0] == b"w"
        rounds = c.failover(rounds=1)
        assert len(rounds) == 1 and rounds[0]["old_leader"] != rounds[0]["new_leader"]
        assert rounds[0]["failover_ms"] > 0 and rounds[0]["converged"]
        pids = [n["pid"] for n in c.status()]
    assert all(_native.proc_state(p) == "down" for p in pids)
    assert not c.running


def test_observers_and_raft():
    with Cluster(nodes=3, observers=1, broadcast="raft", storage="memory",
                 read_policy="read-index") as c:
        assert len(c.status()) == 4
        zk = c.client(node=4)  # through the observer
        zk.create("/via-observer", b"o")
        assert c.client(node=1).get("/via-observer")[0] == b"o"


def test_failing_body_still_stops_every_process():
    pids = []
    with pytest.raises(RuntimeError, match="boom"):
        with Cluster(nodes=3, broadcast="raft", storage="memory") as c:
            pids = [c.pid(n) for n in c.node_ids]
            assert all(_native.proc_state(p) == "running" for p in pids)
            raise RuntimeError("boom")
    assert len(pids) == 3
    assert all(_native.proc_state(p) == "down" for p in pids)
    assert not os.path.exists(c.dir)  # the temporary directory is gone too


def test_client_survives_its_server_and_keeps_session_and_watches():
    with Cluster(nodes=3, broadcast="zab", storage="memory") as c:
        zk = c.client(timeout=10)
        zk.create("/w", b"0")
        states, events = Events(), Events()
        zk.add_listener(states)
        eph = zk.create("/eph", ephemeral=True)
        zk.get("/w", watch=events)
        session = zk.session_id
        server = zk.current_server
        node = next(n for n in c.node_ids if c.node_connect_string(n) == server)
        c.kill(node)
        assert zk.retry(zk.get, "/w", timeout=30)[0] == b"0"  # across the reconnect
        states.wait_for(lambda _: zk.connected and zk.current_server != server,
                        what="the client to reconnect elsewhere")
        assert zk.session_id == session
        assert zk.exists(eph) is not None  # the session (and its ephemeral) lived on
        other = c.client()
        other.set("/w", b"1")
        assert events.wait(1)[0].type is EventType.CHANGED  # the watch was re-registered
        assert "SUSPENDED" in [s.value for s in states.items]


def test_bench_has_the_fields_of_qlab_bench():
    with Cluster(nodes=3, broadcast="zab", storage="memory") as c:
        r = c.bench(read_pct=90, sessions=2, outstanding=10, value_bytes=64, keys=50,
                    duration=0.5, warmup=0.1)
        out = subprocess.run([QLAB, "bench", "--connect", c.connect_string, "--sessions", "2",
                              "--outstanding", "10", "--keys", "50", "--value-bytes", "64",
                              "--duration", "0.5", "--warmup", "0.1", "--json"],
                             capture_output=True, text=True, check=True).stdout
        cli = json.loads(out)
        assert set(r) == set(cli) and set(r["latency_us"]) == set(cli["latency_us"])
        assert r["ops"] > 0 and r["ops_per_s"] > 0 and r["read_pct"] == 90
        assert r["errors"] == {}
        with pytest.raises(ValueError, match="read_pct"):
            c.bench(read_pct=101, duration=0.1)
        zk = quorumlab.bench(c.zk_connect_string, protocol="zookeeper", sessions=1,
                             outstanding=5, keys=10, duration=0.3, warmup=0)
        assert zk["protocol"] == "zookeeper" and zk["ops"] > 0
        with pytest.raises(RuntimeError):
            quorumlab.bench("127.0.0.1:1", duration=0.1, timeout_ms=300)


def test_plugins_lists_what_qlab_lists():
    out = subprocess.run([QLAB, "plugins", "--json"], capture_output=True, text=True,
                         check=True, env=dict(os.environ, QL_PLUGIN_DIR=_native.plugin_dir())).stdout
    assert quorumlab.plugins() == json.loads(out)
    names = {(p["kind"], p["name"]) for p in quorumlab.plugins()}
    assert ("broadcast", "zab") in names and ("storage", "wal") in names


def test_bad_configuration_is_refused_before_anything_starts():
    with pytest.raises(ValueError, match="no broadcast plugin named 'paxos'"):
        Cluster(broadcast="paxos")
    with pytest.raises(ValueError, match="storage"):
        Cluster(storage="floppy")
    with pytest.raises(ValueError, match="unknown parameter 'broadcast.nonsense'"):
        Cluster(params={"broadcast.nonsense": 1})
    with pytest.raises(ValueError, match="unknown parameter"):
        Cluster(params={"plugin.x": 1})
    with pytest.raises(ValueError):
        Cluster(nodes=0)
    c = Cluster(start=False)
    with pytest.raises(RuntimeError, match="not started"):
        c.connect_string
    with pytest.raises(ConnectionLossError):
        quorumlab.Client("127.0.0.1:1", timeout=1, connect_timeout=0.2)
