"""A server's own faults on a real 3-node zab cluster with the wal storage (issue 19): a slow
disk (each fsync of the storage plugin takes longer), a skewed tick clock, cut client links;
all shown in the status and cleared by heal; the nemesis with them. Waits are on client
operations that block until they succeed and on status probes with a timeout, never sleeps."""
from __future__ import annotations

import json
import statistics
import subprocess
import threading
import time

import pytest

from conftest import STALL_TOLERANT
from quorumlab import Client, Cluster, _native
from quorumlab.exceptions import ConnectionLossError

QLAB = _native.bin_dir() + "/qlab"


@pytest.fixture(scope="module")
def c(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("faults") / "c")
    with Cluster(nodes=3, broadcast="zab", storage="wal", dir=d,
                 params=STALL_TOLERANT) as cluster:
        yield cluster


def healed(c):
    """Every node runs and has no fault rule in force."""
    return all(n["process"] == "running" and not n["net_rules"] and n["disk_delay_ms"] == 0
               and n["clock_skew_ppm"] == 0 and not n["clients_cut"] for n in c.status())


def wait_status(c, predicate, timeout=30.0, what="status condition"):
    """Probes the status until ``predicate(status by id)`` holds (a probe every 50 ms)."""
    deadline = time.monotonic() + timeout
    tick = threading.Event()
    while True:
        st = {n["id"]: n for n in c.status()}
        if predicate(st):
            return st
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}: {st}")
        tick.wait(0.05)  # the probe cadence, not a synchronisation


def write_latencies(zk, path, n):
    """Seconds each of `n` sequential writes took."""
    out = []
    for i in range(n):
        t = time.perf_counter()
        zk.retry(zk.set, path, str(i).encode(), timeout=60)
        out.append(time.perf_counter() - t)
    return out


def status_text(c):
    return subprocess.run([QLAB, "cluster", "status", "--dir", c.dir], capture_output=True,
                          text=True, check=True).stdout


def test_a_slow_disk_raises_write_latency_and_heal_restores_it(c):
    leader = c.leader()
    zk = c.client(node=leader, timeout=20)
    zk.retry(zk.ensure_path, "/slow", timeout=60)
    before = statistics.median(write_latencies(zk, "/slow", 30))
    # The leader's disk and one follower's: a zab commit needs the fsyncs of a quorum, which
    # the two healthy followers alone would make (the leader's slow disk alone is hidden), so
    # every quorum now has a slow disk, and the leader's must work for the writes to slow down.
    slowed = [leader, [n for n in c.node_ids if n != leader][0]]
    for n in slowed:
        c.slow_disk(n, 40)
    st = {n["id"]: n for n in c.status()}
    assert [n for n in c.node_ids if st[n]["disk_delay_ms"] == 40] == sorted(slowed)
    assert f"fault: node {leader}: disk delay 40 ms" in status_text(c)
    slow = statistics.median(write_latencies(zk, "/slow", 15))
    assert slow >= 0.035 and slow / before >= 3, (before, slow)
    c.heal()
    assert healed(c)
    after = statistics.median(write_latencies(zk, "/slow", 30))
    assert after * 3 <= slow, (before, slow, after)
    zk.close()


def tick_ratio(c, skewed, reference, reference_ticks=300):
    """Ticks `skewed` received per tick of `reference` while `reference` got
    `reference_ticks`."""
    t0 = {n["id"]: n["ticks"] for n in c.status()}
    st = wait_status(c, lambda st: st[reference]["ticks"] - t0[reference] >= reference_ticks,
                     what=f"{reference_ticks} ticks of node {reference}")
    return (st[skewed]["ticks"] - t0[skewed]) / (st[reference]["ticks"] - t0[reference])


def test_a_clock_skew_changes_the_tick_rate_and_shows_in_the_status(c):
    leader = c.leader()
    skewed, reference = [n for n in c.node_ids if n != leader]
    assert 0.95 < tick_ratio(c, skewed, reference) < 1.05
    c.clock_skew(skewed, 200000)  # 20% fast
    assert {n["id"]: n for n in c.status()}[skewed]["clock_skew_ppm"] == 200000
    assert f"fault: node {skewed}: clock skew +200000 ppm" in status_text(c)
    fast = tick_ratio(c, skewed, reference)
    assert 1.12 < fast < 1.28, fast
    c.clock_skew(skewed, -200000)  # 20% slow
    slow = tick_ratio(c, skewed, reference)
    assert 0.72 < slow < 0.88, slow
    c.heal()
    assert healed(c)
    assert 0.95 < tick_ratio(c, skewed, reference) < 1.05


def test_a_client_of_a_server_with_cut_client_links_moves_to_another_and_goes_on(c):
    ports = {c.node_connect_string(n): n for n in c.node_ids}
    zk = Client(c.connect_string, timeout=4)
    try:
        zk.retry(zk.ensure_path, "/cut", timeout=60)
        first = ports[zk.current_server]
        c.cut_clients(first)
        st = {n["id"]: n for n in c.status()}
        assert st[first]["clients_cut"] and not any(
            st[n]["clients_cut"] for n in c.node_ids if n != first)
        assert f"fault: node {first}: client links cut" in status_text(c)
        zk.retry(zk.set, "/cut", b"moved", timeout=60)
        assert ports[zk.current_server] != first
        assert zk.get("/cut")[0] == b"moved"
        # A new client of the cut server alone cannot connect.
        with pytest.raises(ConnectionLossError):
            Client(c.node_connect_string(first), timeout=2, connect_timeout=2)
        c.cut_clients(first, cut=False)
        assert not {n["id"]: n for n in c.status()}[first]["clients_cut"]
        zk2 = c.client(node=first, timeout=20)
        zk2.retry(zk2.sync, "/cut", timeout=60)
        assert zk2.get("/cut")[0] == b"moved"
        zk2.close()
    finally:
        zk.close()
    assert healed(c)


def test_heal_clears_every_kind_of_rule_at_once(c):
    c.partition("1/2,3")
    c.slow_disk(2, 5)
    c.clock_skew(3, -100000)
    c.cut_clients(1)
    st = {n["id"]: n for n in c.status()}
    assert st[1]["net_rules"] and st[1]["clients_cut"]  # partition kept the node faults
    assert st[2]["disk_delay_ms"] == 5 and st[3]["clock_skew_ppm"] == -100000
    c.partition("1,2/3")  # a new shape keeps the nodes' own faults
    st = {n["id"]: n for n in c.status()}
    assert st[1]["clients_cut"] and st[2]["disk_delay_ms"] == 5
    r = subprocess.run([QLAB, "cluster", "heal", "--dir", c.dir], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert healed(c)


def test_bad_node_ids_and_values_are_refused_naming_the_problem(c):
    for args, message in (
            (["slow-disk", "9", "--ms", "10"], "no node 9"),
            (["slow-disk", "1", "--ms", "-5"], "disk delay -5 ms out of range"),
            (["slow-disk", "1", "--ms", "700000"], "disk delay 700000 ms out of range"),
            (["clock", "1", "--skew-ppm", "900000"], "clock skew 900000 ppm out of range"),
            (["clock", "1", "--skew-ppm", "-600000"], "clock skew -600000 ppm out of range"),
            (["clock", "7", "--skew-ppm", "100"], "no node 7"),
            (["cut-clients", "0"], "'0' is not a node id")):
        r = subprocess.run([QLAB, "cluster", *args, "--dir", c.dir], capture_output=True,
                           text=True)
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)
    with pytest.raises(ValueError, match="no node 9"):
        c.slow_disk(9, 10)
    with pytest.raises(ValueError, match="disk delay -1 ms out of range"):
        c.slow_disk(1, -1)
    with pytest.raises(ValueError, match="clock skew 500001 ppm out of range"):
        c.clock_skew(1, 500001)
    assert healed(c)


def test_the_nemesis_skews_clocks_slows_disks_cuts_clients_and_heals_everything(c):
    r = subprocess.run([QLAB, "nemesis", "--dir", c.dir, "--mix", "clock,disk,clients",
                        "--interval", "1.5", "--duration", "9", "--seed", "3", "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    events = json.loads(r.stdout)
    starts = [e for e in events if e["what"] in ("clock", "disk", "clients")]
    assert len(starts) == 6  # one fault per interval
    assert {e["what"] for e in starts} == {"clock", "disk", "clients"}, starts
    for e in starts:
        assert any(x["what"] == "heal" and x["t"] >= e["t"] for x in events), e
    assert healed(c)
    zk = c.client(timeout=20)
    zk.retry(zk.ensure_path, "/after-faults", timeout=60)
    zk.retry(zk.set, "/after-faults", b"ok", timeout=60)
    zk.close()
    for n in c.node_ids:
        zk = c.client(node=n, timeout=20)
        zk.retry(zk.sync, "/after-faults", timeout=60)
        assert zk.get("/after-faults")[0] == b"ok"
        zk.close()


SCHEDULE = """
# every kind of fault, one after the other, each undone after its duration
[[fault]]
at = 0.0
fault = "partition"
shape = "1/2,3"
duration = 1.0
[[fault]]
at = 1.2
fault = "kill"
node = "leader"
duration = 1.0
[[fault]]
at = 2.8
fault = "delay"
node = 2
ms = 50
jitter = 10
duration = 0.8
[[fault]]
at = 3.8
fault = "disk"
node = "follower"
ms = 20
duration = 0.8
[[fault]]
at = 4.8
fault = "clock"
node = 3
ppm = 100000
duration = 0.8
[[fault]]
at = 5.8
fault = "clients"
node = 1
"""


def test_a_schedule_file_runs_each_fault_for_its_duration_and_heals_the_rest(c, tmp_path):
    f = tmp_path / "faults.toml"
    f.write_text(SCHEDULE)
    r = subprocess.run([QLAB, "nemesis", "--dir", c.dir, "--schedule", str(f), "--duration",
                        "7", "--json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    events = [(e["what"], e["detail"]) for e in json.loads(r.stdout)]
    whats = [w for w, _ in events]
    # In schedule order, each fault followed by its own undo; the last (no duration) is healed
    # with everything at the end.
    assert whats[:2] == ["partition", "heal"] and events[0][1] == "1/2,3", events
    assert whats[2:4] == ["kill", "restart"], events
    assert whats[4:6] == ["delay", "heal"] and events[4][1].startswith("2 "), events
    assert whats[6:8] == ["disk", "heal"], events
    assert whats[8:10] == ["clock", "heal"] and events[8][1] == "3", events
    assert whats[10:] == ["clients", "heal"] and events[11][1] == "every rule", events
    assert healed(c)
    zk = c.client(timeout=20)
    zk.retry(zk.ensure_path, "/after-schedule", timeout=60)
    zk.close()


@pytest.mark.parametrize("text,message", [
    ('[[fault]]\nat = 1\nfault = "earthquake"\n', "fault 1: unknown fault 'earthquake'"),
    ('[[fault]]\nat = 1\nfault = "kill"\nnodes = 2\n', "fault 1: unknown key 'nodes'"),
    ('[[fault]]\nfault = "kill"\n', "fault 1: at (seconds, >= 0) is required"),
    ('[[fault]]\nat = 1\nfault = "drop"\npct = 150\n', "pct must be a whole number in 0..100"),
    ('[[fault]]\nat = 1\nfault = "kill"\nnode = 9\n', "schedule entry 1: no node 9"),
    ('[[fault]]\nat = 1\nfault = "partition"\nshape = "1/7"\n', "schedule entry 1: "),
    ('[fault]\nat = 1\n', "no [[fault]] tables"),
    ('[[fault]\n', "faults.toml: "),
])
def test_a_bad_schedule_is_refused_before_any_fault(c, tmp_path, text, message):
    f = tmp_path / "faults.toml"
    f.write_text(text)
    r = subprocess.run([QLAB, "nemesis", "--dir", c.dir, "--schedule", str(f), "--duration",
                        "5"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr, r.stderr
    assert healed(c)
