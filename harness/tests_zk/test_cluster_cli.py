"""`qlab cluster` pause, resume and failover on a 3-node zab cluster (wal; raft too, see
CMakeLists.txt: QL_BROADCAST), checked through
`qlab cluster status --json` and a kazoo client, and the command's errors for a node or a
cluster that does not exist. Waiting is done by ZooKeeper clients (a write blocks until a
leader commits it; kazoo's retry helper resubmits across an election), never by sleeping."""
import json
import subprocess

import pytest

from conftest import QLAB, kazoo_client


def qlab_cluster(*args):
    return subprocess.run([QLAB, "cluster"] + list(args), capture_output=True, text=True,
                          timeout=120)


# Reconnect quickly: a server drops its clients while it has no leader, and kazoo's default
# back-off (doubling up to a minute) would spend most of the test between attempts.
FAST_RETRY = {"max_tries": -1, "delay": 0.05, "backoff": 1.5, "max_delay": 0.5}


def by_id(cluster):
    return {n["id"]: n for n in cluster.status()}


def test_paused_leader_is_replaced_and_rejoins_as_a_follower_after_resume(cluster):
    old = cluster.leader()
    others = [i for i in by_id(cluster) if i != old]
    out = qlab_cluster("pause", str(old), "--dir", cluster.dir)
    assert out.returncode == 0, out.stderr
    assert "pause: node %d done" % old in out.stderr
    nodes = by_id(cluster)
    assert nodes[old]["process"] == "paused" and nodes[old]["role"] == "down"

    c = kazoo_client(",".join(cluster.zk_address(i) for i in others),
                     connection_retry=FAST_RETRY)
    try:
        # Answered once the two running servers have elected a leader of their own.
        c.retry(c.create, "/written-while-paused", b"x")
        nodes = by_id(cluster)
        leader = [i for i in others if nodes[i]["role"] == "leader"]
        assert len(leader) == 1, nodes
        assert all(nodes[i]["leader"] == leader[0] for i in others)
    finally:
        c.stop()
        c.close()

    out = qlab_cluster("resume", str(old), "--dir", cluster.dir)
    assert out.returncode == 0, out.stderr
    back = kazoo_client(cluster.zk_address(old), connection_retry=FAST_RETRY)
    try:
        back.retry(back.sync, "/")
        assert back.retry(back.get, "/written-while-paused")[0] == b"x"
        # A write through the resumed server goes to the new leader.
        back.retry(back.create, "/written-after-resume", b"y")
    finally:
        back.stop()
        back.close()
    nodes = by_id(cluster)
    assert nodes[old]["process"] == "running"
    assert nodes[old]["role"] == "follower"
    assert nodes[old]["leader"] == cluster.leader() != old
    # The replicas converge: a client on every server (sessions first), one more write, a sync
    # through each server; then every replica applied the same txns.
    clients = [kazoo_client(cluster.zk_address(i), connection_retry=FAST_RETRY)
               for i in sorted(by_id(cluster))]
    try:
        clients[0].retry(clients[0].create, "/converged-after-resume", b"z")
        for c in clients:
            c.retry(c.sync, "/")
        nodes = cluster.status()
        assert len({n["digest"] for n in nodes}) == 1, nodes
        assert len({n["applied_zxid"] for n in nodes}) == 1, nodes
    finally:
        for c in clients:
            c.stop()
            c.close()


def test_failover_rounds_report_a_new_leader_and_converged_replicas(cluster):
    out = qlab_cluster("failover", "--dir", cluster.dir, "--rounds", "2", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    rounds = json.loads(out.stdout)
    assert len(rounds) == 2
    for r in rounds:
        assert r["converged"] is True, r
        assert r["new_leader"] != r["old_leader"], r
        assert 0 < r["failover_ms"] < 30000, r
    # A round kills the leader under load and restarts it: progress lines on stderr.
    assert "round 2: new leader node %d" % rounds[1]["new_leader"] in out.stderr
    nodes = cluster.status()
    assert sorted(n["process"] for n in nodes) == ["running"] * 3
    assert sum(n["role"] == "leader" for n in nodes) == 1
    assert len({n["digest"] for n in nodes}) == 1


@pytest.mark.parametrize("command", ["pause", "resume", "kill", "restart"])
def test_unknown_node_is_an_error_naming_the_nodes(cluster, command):
    out = qlab_cluster(command, "9", "--dir", cluster.dir)
    assert out.returncode == 1
    assert "no node 9 in the cluster" in out.stderr and "(nodes 1-3)" in out.stderr


def test_missing_cluster_directory_is_an_error(tmp_path):
    for args in (["status"], ["pause", "1"], ["failover"]):
        out = qlab_cluster(*args, "--dir", str(tmp_path / "none"))
        assert out.returncode == 1, args
        assert "no cluster here (start one with qlab cluster start)" in out.stderr, args
