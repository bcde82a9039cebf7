"""ZooKeeper's read-only mode (issue 18) on a 3-node `qlab cluster` started with the server
setting `read_only_mode=true` (ZooKeeper's readonlymode.enabled): a follower cut off from the
others (`qlab cluster pause` of both, SIGSTOP) answers `isro` with `ro`, gives a kazoo client
that allows it (read_only=True) a read-only session that reads the data and gets NOTREADONLY for
writes, refuses clients that do not allow it, and ends its read-only sessions once it rejoins
a quorum (`isro` answers `rw` again). Every wait has a deadline; none is a sleep."""
import socket
import threading
import time

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NotReadOnlyCallError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import KazooState, KeeperState

from conftest import Cluster, kazoo_client

FAST_RETRY = {"max_tries": -1, "delay": 0.05, "backoff": 1.5, "max_delay": 0.5}


@pytest.fixture(scope="module")
def ro_cluster():
    c = Cluster(nodes=3, extra=["--set", "read_only_mode=true"])
    yield c
    c.stop()


def four_letter(address, word):
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(word.encode())
        out = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return out.decode()
            out += chunk


def wait_for(pred, timeout_s, what):
    """Polls pred (each call is a request to a server, not a sleep) until true or the deadline."""
    deadline = time.monotonic() + timeout_s
    while not pred():
        assert time.monotonic() < deadline, "timed out waiting for " + what


def settled(cluster, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while True:
        nodes = cluster.status()
        if sorted(n["role"] for n in nodes) == ["follower", "follower", "leader"]:
            leader = next(n["id"] for n in nodes if n["role"] == "leader")
            return leader, sorted(n["id"] for n in nodes if n["role"] == "follower")
        assert time.monotonic() < deadline, nodes


def test_a_cut_off_follower_serves_read_only_sessions_until_it_rejoins(ro_cluster):
    leader, (cut, other) = settled(ro_cluster)
    cut_address = ro_cluster.zk_address(cut)
    assert four_letter(cut_address, "isro") == "rw"
    rw = kazoo_client(ro_cluster.connect, connection_retry=FAST_RETRY)
    rw.create("/ro-data", b"before the cut")
    rw.stop()
    rw.close()

    paused = []
    ro = None
    try:
        for i in (leader, other):
            ro_cluster.run("pause", str(i))
            paused.append(i)
        wait_for(lambda: four_letter(cut_address, "isro") == "ro", 30, "isro to answer ro")

        # A client that allows a read-only session gets one, reads, and may not write.
        ro = KazooClient(hosts=cut_address, read_only=True, timeout=10.0,
                         connection_retry=FAST_RETRY)
        states = []
        connected_rw = threading.Event()

        def listener(state):
            states.append((state, ro.client_state))
            if state == KazooState.CONNECTED and ro.client_state == KeeperState.CONNECTED:
                connected_rw.set()

        ro.add_listener(listener)
        ro.start(timeout=15)
        assert ro.client_state == KeeperState.CONNECTED_RO
        assert ro.get("/ro-data")[0] == b"before the cut"
        assert ro.exists("/ro-data") is not None
        with pytest.raises(NotReadOnlyCallError):
            ro.create("/ro-written", b"x")
        with pytest.raises(NotReadOnlyCallError):
            ro.set("/ro-data", b"changed")

        # A client that does not allow it gets nothing.
        plain = KazooClient(hosts=cut_address, timeout=4.0,
                            connection_retry={"max_tries": 3, "delay": 0.05})
        with pytest.raises(KazooTimeoutError):
            plain.start(timeout=3)
        plain.stop()
        plain.close()

        for i in list(paused):
            ro_cluster.run("resume", str(i))
            paused.remove(i)
        # Back in a quorum: read-write again, and the read-only client ends up read-write.
        wait_for(lambda: four_letter(cut_address, "isro") == "rw", 60, "isro to answer rw")
        assert connected_rw.wait(60), "the read-only client never got read-write: %s" % states
        ro.retry(ro.create, "/ro-written", b"after the rejoin")
        assert ro.get("/ro-written")[0] == b"after the rejoin"
    finally:
        for i in paused:
            ro_cluster.run("resume", str(i))
        if ro is not None:
            ro.stop()
            ro.close()
