"""Network faults on a real 3-node zab cluster, through the servers' transport (issue 19):
every partition shape, then heal and converge. Waits are on client operations that block
until they succeed (retry across reconnects) and on session-state listeners, never sleeps."""
from __future__ import annotations

import subprocess

import pytest

from conftest import STALL_TOLERANT, Events
from quorumlab import Client, Cluster, SessionState, _native

QLAB = _native.bin_dir() + "/qlab"


@pytest.fixture(scope="module")
def c(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("net") / "c")
    with Cluster(nodes=3, broadcast="zab", storage="memory", dir=d,
                 params=STALL_TOLERANT) as cluster:
        yield cluster


def others(c, node):
    return [n for n in c.node_ids if n != node]


def write_through(c, nodes, path, value):
    """A write through a client of `nodes` that blocks until some leader commits it (retried
    across reconnections while the servers elect)."""
    zk = Client(",".join(c.node_connect_string(n) for n in nodes), timeout=20)
    try:
        zk.retry(zk.ensure_path, path, timeout=60)
        zk.retry(zk.set, path, value, timeout=60)
    finally:
        zk.close()


def converged(c, path, value):
    """Every node serves `value` after a sync (each node's own client)."""
    for n in c.node_ids:
        zk = c.client(node=n, timeout=20)
        try:
            zk.retry(zk.sync, path, timeout=60)
            assert zk.get(path)[0] == value, n
        finally:
            zk.close()


def suspended_when(c, node, action):
    """Runs `action` and waits until a client of `node` loses its connection (the node left
    the quorum and closed its clients)."""
    zk = c.client(node=node, timeout=20)
    states = Events()
    zk.add_listener(states)
    action()
    states.wait_for(lambda items: SessionState.SUSPENDED in items,
                    what=f"node {node} to drop its clients")
    zk.close()


def test_the_isolated_leader_loses_leadership_and_the_majority_goes_on(c):
    leader = c.leader()
    suspended_when(c, leader, lambda: c.partition(f"{leader}/" + ",".join(
        map(str, others(c, leader)))))
    write_through(c, others(c, leader), "/iso-leader", b"1")
    st = {n["id"]: n for n in c.status()}
    assert st[leader]["role"] != "leader"
    assert any(st[n]["role"] == "leader" for n in others(c, leader))
    assert len([r for n in st.values() for r in n["net_rules"]]) == 4  # 2 links, both ways
    c.heal()
    converged(c, "/iso-leader", b"1")


def test_an_isolated_follower_does_not_stop_writes(c):
    leader = c.leader()
    follower = others(c, leader)[0]
    suspended_when(c, follower, lambda: c.partition(
        f"{follower}/" + ",".join(map(str, others(c, follower)))))
    write_through(c, [leader], "/iso-follower", b"2")
    c.heal()
    converged(c, "/iso-follower", b"2")


def test_a_bridge_keeps_a_leader_that_both_halves_reach(c):
    leader = c.leader()
    a, b = others(c, leader)
    c.partition(f"{a},{leader}/{leader},{b}")  # the leader is the bridge
    write_through(c, [a], "/bridge", b"3")
    write_through(c, [b], "/bridge", b"4")
    c.heal()
    converged(c, "/bridge", b"4")


def test_a_one_way_partition_from_the_leader_makes_the_followers_elect(c):
    leader = c.leader()
    rest = others(c, leader)
    suspended_when(c, rest[0], lambda: c.partition(
        f"{leader}>" + ",".join(map(str, rest))))
    write_through(c, rest, "/one-way", b"5")
    c.heal()
    converged(c, "/one-way", b"5")


def test_delay_and_drop_show_in_status_and_writes_go_on(c):
    c.delay(1, 20, jitter=5)
    c.drop(2, 10)
    out = subprocess.run([QLAB, "cluster", "status", "--dir", c.dir], capture_output=True,
                         text=True, check=True).stdout
    assert "network rule: node 1 -> 2: drop 10% delay 20 ms (+5)" in out
    write_through(c, c.node_ids, "/lossy", b"6")
    c.heal()
    assert all(not n.get("net_rules") for n in c.status())
    converged(c, "/lossy", b"6")


def test_bad_partitions_are_refused_naming_the_problem(c):
    for groups, message in (("1,2", "needs two groups"), ("1/2", "node 3 is in no group"),
                            ("1/2/9", "no node 9"), ("1/x", "'x' is not a node id")):
        r = subprocess.run([QLAB, "cluster", "partition", groups, "--dir", c.dir],
                           capture_output=True, text=True)
        assert r.returncode == 2 and message in r.stderr, (groups, r.stderr)
    with pytest.raises(ValueError, match="no node 9"):
        c.partition("1/2/9")


def test_the_nemesis_applies_a_seeded_schedule_and_heals_everything(c):
    import json
    r = subprocess.run([QLAB, "nemesis", "--dir", c.dir, "--mix", "kill,pause,partition,drop",
                        "--interval", "1.5", "--duration", "6", "--seed", "7", "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    events = json.loads(r.stdout)
    starts = [e for e in events if e["what"] in ("kill", "pause", "partition", "drop")]
    assert len(starts) == 4  # one fault per interval
    ends = {"kill": "restart", "pause": "resume", "partition": "heal", "drop": "heal"}
    for e in starts:
        assert any(x["what"] == ends[e["what"]] and x["t"] >= e["t"] for x in events), e
    assert all(n["process"] == "running" and not n.get("net_rules") for n in c.status())
    write_through(c, c.node_ids, "/after-nemesis", b"7")
    converged(c, "/after-nemesis", b"7")
    bad = subprocess.run([QLAB, "nemesis", "--dir", c.dir, "--mix", "kill,bogus"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown fault 'bogus'" in bad.stderr


def test_a_slow_disk_is_refused_by_the_memory_storage_and_nothing_changes(c):
    c.delay(1, 5)
    with pytest.raises(RuntimeError, match="storage plugin 'memory': this storage plugin has "
                                           "no fsync to slow down"):
        c.slow_disk(1, 10)
    st = {n["id"]: n for n in c.status()}
    assert st[1]["disk_delay_ms"] == 0 and st[1]["net_rules"]  # all or nothing
    c.heal()
    # The nemesis stops on the refusal and still heals what it applied.
    c.delay(2, 5)
    r = subprocess.run([QLAB, "nemesis", "--dir", c.dir, "--mix", "disk", "--interval", "1",
                        "--duration", "1", "--seed", "1"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1 and "storage plugin 'memory'" in r.stderr, r.stderr
    assert "the faults applied so far were healed" in r.stderr
    assert all(not n["net_rules"] and n["disk_delay_ms"] == 0 for n in c.status())
