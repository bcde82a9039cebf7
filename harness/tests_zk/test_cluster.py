"""kazoo against a 3-node `qlab cluster` (zab, wal): a client on a follower sees its own writes,
gets watch events in order, and survives the kill of its server by moving to another one with
its session and ephemerals intact (reference §1.12, §1.17)."""
import threading

import pytest
from kazoo.protocol.states import EventType, KazooState

from conftest import kazoo_client
from zkraw import RawClient

WAIT_S = 30


def followers(cluster):
    return cluster.followers()


def test_zookeeper_connect_string_lists_every_node(cluster):
    assert len(cluster.connect.split(",")) == 3
    for n in cluster.status():
        assert n["zk_port"] > 0
        assert "127.0.0.1:%d" % n["zk_port"] in cluster.connect


def test_config_node_lists_the_ensemble_on_every_server(cluster):
    # getConfig is a getData of /zookeeper/config (reference §1.6); every replica derives it
    # from the same peer list, so all of them answer alike.
    nodes = cluster.status()
    answers = []
    for n in nodes:
        c = kazoo_client("127.0.0.1:%d" % n["zk_port"])
        try:
            data, stat = c.get("/zookeeper/config")
            answers.append(data.decode())
            assert stat.version == -1
        finally:
            c.stop()
            c.close()
    assert len(set(answers)) == 1
    lines = answers[0].splitlines()
    assert lines[-1] == "version=0"
    # ZooKeeper 3.5+'s QuorumServer.toString: host:quorumPort:electionPort:role;clientAddress,
    # the client address being the port ZooKeeper clients connect to (zk_port).
    assert lines[:-1] == ["server.%d=127.0.0.1:%d:%d:participant;127.0.0.1:%d"
                          % (n["id"], n["peer_port"], n["peer_port"], n["zk_port"])
                          for n in sorted(nodes, key=lambda n: n["id"])]
    for line in lines[:-1]:  # a client can reach the ensemble from the config alone
        assert four_letter_word(line.split(";", 1)[1], b"ruok") == "imok"


def four_letter_word(address, word):
    raw = RawClient(address)
    raw.send_raw(word)
    return raw.read_all_until_close().decode()


def test_four_letter_words_report_roles(cluster):
    modes = []
    for n in cluster.status():
        srvr = four_letter_word("127.0.0.1:%d" % n["zk_port"], b"srvr")
        modes += [line for line in srvr.splitlines() if line.startswith("Mode: ")]
        mntr = four_letter_word("127.0.0.1:%d" % n["zk_port"], b"mntr")
        assert "zk_server_state\t" + n["role"] in mntr
    assert sorted(modes) == ["Mode: follower", "Mode: follower", "Mode: leader"]


def test_follower_client_reads_its_own_writes(cluster):
    f = followers(cluster)[0]
    c = kazoo_client(cluster.zk_address(f))
    try:
        c.ensure_path("/ryw")
        for i in range(50):
            c.set("/ryw", b"%d" % i)
            assert c.get("/ryw")[0] == b"%d" % i  # FIFO client order: no read from the past
        path = c.create("/ryw/n-", b"x", sequence=True)
        assert c.exists(path) is not None
        assert path.rsplit("/", 1)[1] in c.get_children("/ryw")
        c.delete("/ryw", recursive=True)
    finally:
        c.stop()
        c.close()


def test_watch_events_in_order_across_servers(cluster):
    f1, f2 = followers(cluster)[:2]
    watcher = kazoo_client(cluster.zk_address(f1))
    writer = kazoo_client(cluster.zk_address(f2))
    try:
        writer.ensure_path("/order")
        n = 20
        for i in range(n):
            writer.create("/order/%02d" % i, b"0")
        events = []
        done = threading.Event()

        def record(e):
            events.append((e.type, e.path))
            if len(events) == n:
                done.set()

        for i in range(n):
            watcher.get("/order/%02d" % i, watch=record)
        for i in range(n):
            writer.set("/order/%02d" % i, b"1")
        assert done.wait(WAIT_S)
        assert events == [(EventType.CHANGED, "/order/%02d" % i) for i in range(n)]
        writer.delete("/order", recursive=True)
    finally:
        for c in (watcher, writer):
            c.stop()
            c.close()


@pytest.mark.parametrize("victim_role", ["follower", "leader"])
def test_session_moves_to_another_server_when_its_server_dies(cluster, victim_role):
    status = cluster.status()
    victim = followers(cluster)[0] if victim_role == "follower" else cluster.leader()
    ordered = [cluster.zk_address(victim)] + ["127.0.0.1:%d" % n["zk_port"] for n in status
                                              if n["id"] != victim]
    c = kazoo_client(",".join(ordered), randomize_hosts=False, timeout=15.0)
    observer = kazoo_client(",".join(ordered[1:]))
    try:
        assert c._connection._socket.getpeername()[1] == int(ordered[0].rsplit(":", 1)[1])
        session = c.client_id[0]
        c.create("/failover-eph", b"mine", ephemeral=True)
        suspended, reconnected = threading.Event(), threading.Event()

        def listen(state):
            if state == KazooState.SUSPENDED:
                suspended.set()
            elif state == KazooState.CONNECTED and suspended.is_set():
                reconnected.set()
            elif state == KazooState.LOST:
                reconnected.set()  # wakes the test, which then fails on the session check

        c.add_listener(listen)
        cluster.run("kill", str(victim))
        assert suspended.wait(WAIT_S)
        assert reconnected.wait(WAIT_S)
        # Killing the leader starts an election: servers drop their clients while they look
        # for a leader, as ZooKeeper's do, so requests may fail with ConnectionLoss until it is
        # over. kazoo's retry helper resubmits them; the session must survive all of it.
        c.retry(c.set, "/failover-eph", b"still mine")
        assert c.state == KazooState.CONNECTED
        assert c.client_id[0] == session
        port = c._connection._socket.getpeername()[1]
        assert "127.0.0.1:%d" % port in ordered[1:]
        stat = observer.retry(observer.exists, "/failover-eph")
        assert stat is not None and stat.ephemeralOwner == session
        assert observer.retry(observer.get, "/failover-eph")[0] == b"still mine"
        c.retry(c.delete, "/failover-eph")
    finally:
        c.stop()
        c.close()
        observer.stop()
        observer.close()
        cluster.run("restart", str(victim))
