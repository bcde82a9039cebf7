"""Every read policy on real 3-node clusters of zab and raft, through kazoo (the ZooKeeper
front-end uses the same read mechanisms as the native protocol): a write acknowledged through
one server is seen by a read through another (for the linearizable policies, and after a sync
for every policy), a session reads its own writes, watches fire on the client's own server,
and each server's `mntr` counts the reads under the mechanism the policy chose."""
import threading

import pytest

from conftest import QLAB, Cluster, kazoo_client
from zkraw import RawClient

WAIT_S = 30

# (broadcast, read policy, extra `qlab cluster start` arguments, mntr counter of its reads)
PAIRS = [
    ("zab", "local", [], "ql_reads_local"),
    ("zab", "sync", [], "ql_reads_sync"),
    ("zab", "leader", [], "ql_reads_leader"),
    ("zab", "read-index", [], "ql_reads_read_index"),
    ("zab", "lease", ["--set", "broadcast.lease=true"], "ql_reads_lease"),
    ("zab", "bounded", ["--set", "read_policy.max_staleness_ms=50"], None),
    ("raft", "local", [], "ql_reads_local"),
    ("raft", "sync", [], "ql_reads_sync"),
    ("raft", "leader", [], "ql_reads_leader"),
    ("raft", "read-index", [], "ql_reads_read_index"),
    ("raft-cq", "lease", [], "ql_reads_lease"),
    ("raft", "bounded", ["--set", "read_policy.max_staleness_ms=50"], None),
]
LINEARIZABLE = {"read-index", "lease"}


def mntr(address):
    raw = RawClient(address)
    raw.send_raw(b"mntr")
    text = raw.read_all_until_close().decode()
    return dict(line.split("\t", 1) for line in text.splitlines() if "\t" in line)


@pytest.mark.parametrize("broadcast,policy,extra,counter", PAIRS,
                         ids=["%s-%s" % (p[0], p[1]) for p in PAIRS])
def test_read_policy_on_a_real_cluster(broadcast, policy, extra, counter):
    c = Cluster(nodes=3, extra=["--read-policy", policy] + extra, broadcast=broadcast)
    clients = []
    try:
        addresses = c.zk_addresses()
        leader = c.leader()
        nodes = sorted(c.status(), key=lambda n: n["id"])
        follower_addresses = ["127.0.0.1:%d" % n["zk_port"] for n in nodes if n["id"] != leader]
        writer = kazoo_client(follower_addresses[0])
        reader = kazoo_client(follower_addresses[1])
        clients += [writer, reader]
        writer.create("/rp", b"0")
        for i in range(1, 30):
            writer.set("/rp", b"%d" % i)
            assert writer.get("/rp")[0] == b"%d" % i  # read your writes
            if policy in LINEARIZABLE:
                # Acknowledged through one follower, then read through the other.
                assert reader.get("/rp")[0] == b"%d" % i
        reader.sync("/rp")
        assert reader.get("/rp")[0] == b"29"  # sync then read: every policy

        # A watch fires on the server the client is connected to.
        fired = threading.Event()
        reader.get("/rp", watch=lambda e: fired.set())
        writer.set("/rp", b"w")
        assert fired.wait(WAIT_S)

        stats = [mntr(a) for a in addresses]
        assert all(s["ql_read_policy"] == policy for s in stats)
        total = lambda key: sum(int(s.get(key, 0)) for s in stats)
        if counter:
            assert total(counter) >= 31, stats
        else:  # bounded: local reads while fresh, read-index barriers otherwise
            assert total("ql_reads_local") + total("ql_reads_read_index") >= 31
        if policy == "lease":
            assert total("ql_lease_hits") > 0
        if policy in ("read-index", "sync", "leader", "lease"):
            assert total("ql_barriers") >= 29
    finally:
        for k in clients:
            k.stop()
            k.close()
        c.stop()


def test_lease_without_its_parameter_is_refused_with_the_reason():
    import subprocess
    import tempfile
    d = tempfile.mkdtemp(prefix="ql_rp_refused_")
    out = subprocess.run([QLAB, "cluster", "start", "--nodes", "3", "--broadcast", "zab",
                          "--read-policy", "lease", "--dir", d], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2
    assert "provides only with lease=true" in out.stderr
    assert "set broadcast.lease=true" in out.stderr
