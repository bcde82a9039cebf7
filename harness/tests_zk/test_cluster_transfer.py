"""`qlab cluster transfer NODE` (Raft thesis 3.10, TimeoutNow) on a real cluster of three raft
voters and one observer (wal): the new leader is printed and shown by `qlab cluster status`,
writes go on through every server and the replicas converge; a transfer to the leader itself
changes nothing; an observer, an unknown node and a paused (so never caught up) node are
refused or time out with one clear line; and a zab cluster refuses, naming the protocol.
Waiting is done by ZooKeeper clients (a write or sync blocks until a leader commits it) and
by the command itself, never by sleeping."""
import re
import subprocess

import pytest

from conftest import QLAB, Cluster, kazoo_client

FAST_RETRY = {"max_tries": -1, "delay": 0.05, "backoff": 1.5, "max_delay": 0.5}


def qlab_cluster(*args):
    return subprocess.run([QLAB, "cluster"] + list(args), capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def raft():
    c = Cluster(nodes=3, extra=("--observers", "1"), broadcast="raft")
    yield c
    c.stop()


def by_id(cluster):
    return {n["id"]: n for n in cluster.status()}


def one_line(text):
    lines = [l for l in text.splitlines() if l.strip()]
    assert len(lines) == 1, text
    return lines[0]


def write_through_every_server_and_compare_digests(cluster, tag):
    """A client on every server (sessions first), a write, a sync through each server: then
    every replica applied the same txns and reports its leader."""
    nodes = sorted(by_id(cluster))
    clients = [kazoo_client(cluster.zk_address(i), connection_retry=FAST_RETRY) for i in nodes]
    try:
        for i, c in zip(nodes, clients):
            c.retry(c.create, "/%s-via-%d" % (tag, i), b"v")
        for c in clients:
            c.retry(c.sync, "/")
        status = cluster.status()
        assert len({n["digest"] for n in status}) == 1, status
        return status
    finally:
        for c in clients:
            c.stop()
            c.close()


def test_transfer_to_a_follower_status_shows_the_new_leader(raft):
    old = raft.leader()
    target = next(i for i in raft.followers() if i != old)
    out = qlab_cluster("transfer", str(target), "--dir", raft.dir)
    assert out.returncode == 0, out.stderr
    m = re.search(r"^leader: node %d \(term (\d+); was node %d; [\d.]+ ms\)$" % (target, old),
                  out.stdout, re.M)
    assert m, out.stdout
    term = int(m.group(1))
    nodes = by_id(raft)
    assert nodes[target]["role"] == "leader" and nodes[target]["epoch"] == term
    status = write_through_every_server_and_compare_digests(raft, "after-transfer")
    for n in status:
        assert n["leader"] == target, status
        assert n["role"] == ("leader" if n["id"] == target else
                             "learner" if n["id"] == 4 else "follower"), status


def test_transfer_back_and_writes_go_on(raft):
    old = raft.leader()
    target = next(i for i in raft.followers() if i != old)
    out = qlab_cluster("transfer", str(target), "--dir", raft.dir)
    assert out.returncode == 0, out.stderr
    assert "leader: node %d" % target in out.stdout
    assert raft.leader() == target
    write_through_every_server_and_compare_digests(raft, "after-second-transfer")


def test_transfer_to_the_leader_itself_changes_nothing(raft):
    old = raft.leader()
    term = by_id(raft)[old]["epoch"]
    out = qlab_cluster("transfer", str(old), "--dir", raft.dir)
    assert out.returncode == 0, out.stderr
    assert "leader: node %d (term %d; it already led)" % (old, term) in out.stdout
    assert raft.leader() == old and by_id(raft)[old]["epoch"] == term


def test_an_observer_is_refused_as_not_a_voter(raft):
    old = raft.leader()
    out = qlab_cluster("transfer", "4", "--dir", raft.dir)
    assert out.returncode == 1
    line = one_line(out.stderr)
    assert "refused by node %d" % old in line and "not a voter" in line, line
    assert raft.leader() == old


def test_an_unknown_node_is_an_error(raft):
    out = qlab_cluster("transfer", "9", "--dir", raft.dir)
    assert out.returncode == 1
    assert "node 9 is not in the cluster" in one_line(out.stderr)


def test_a_transfer_to_a_paused_node_times_out_and_the_leader_stays(raft):
    old = raft.leader()
    target = next(i for i in raft.followers() if i != old)
    assert qlab_cluster("pause", str(target), "--dir", raft.dir).returncode == 0
    # A write it misses: the leader cannot bring it up to date, so no TimeoutNow goes out.
    c = kazoo_client(raft.zk_address(old), connection_retry=FAST_RETRY)
    try:
        c.retry(c.create, "/missed-by-%d" % target, b"x")
    finally:
        c.stop()
        c.close()
    out = qlab_cluster("transfer", str(target), "--dir", raft.dir)
    assert out.returncode == 1, out.stdout
    line = one_line(out.stderr)
    assert "timed out" in line and "still leads" in line, line
    nodes = by_id(raft)
    assert nodes[old]["role"] == "leader" and nodes[old]["sub_state"] == "leader", nodes
    # The leader takes writes again at once.
    c = kazoo_client(raft.zk_address(old), connection_retry=FAST_RETRY)
    try:
        c.retry(c.create, "/after-aborted-transfer", b"y")
    finally:
        c.stop()
        c.close()
    assert qlab_cluster("resume", str(target), "--dir", raft.dir).returncode == 0
    write_through_every_server_and_compare_digests(raft, "after-resume")


def test_zab_refuses_with_a_clear_message():
    zab = Cluster(nodes=3, broadcast="zab")
    try:
        old = zab.leader()
        target = next(i for i in zab.followers() if i != old)
        out = qlab_cluster("transfer", str(target), "--dir", zab.dir)
        assert out.returncode == 1, out.stdout
        line = one_line(out.stderr)
        assert "broadcast plugin 'zab' does not support leadership transfer" in line, line
        assert zab.leader() == old
    finally:
        zab.stop()
