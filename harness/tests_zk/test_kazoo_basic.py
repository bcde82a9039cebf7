"""kazoo (Debian's python3-kazoo) against `qlab server --zk-port 0`: basic operations, errors,
ACLs and auth, watches, transactions, sessions and the four-letter words."""
import socket
import threading

import pytest
from kazoo.exceptions import (AuthFailedError, BadVersionError, NoAuthError, NodeExistsError,
                              NoNodeError, NotEmptyError, RolledBackError,
                              RuntimeInconsistency)
from kazoo.protocol.states import EventType, KazooState
from kazoo.security import ACL, Id, Permissions, make_digest_acl

from conftest import kazoo_client
from zkraw import RawClient


def test_crud_and_stat(zk):
    zk.create("/crud", b"v0")
    data, stat = zk.get("/crud")
    assert data == b"v0"
    assert stat.version == 0 and stat.dataLength == 2 and stat.numChildren == 0
    assert stat.czxid == stat.mzxid == stat.pzxid and stat.czxid > 0
    stat2 = zk.set("/crud", b"v1", version=0)
    assert stat2.version == 1 and stat2.mzxid > stat.mzxid
    with pytest.raises(BadVersionError):
        zk.set("/crud", b"v2", version=0)
    assert zk.exists("/crud").version == 1
    assert zk.exists("/crud/missing") is None
    with pytest.raises(NoNodeError):
        zk.get("/crud/missing")
    with pytest.raises(NodeExistsError):
        zk.create("/crud")
    zk.create("/crud/child")
    with pytest.raises(NotEmptyError):
        zk.delete("/crud")
    zk.delete("/crud", recursive=True)
    assert zk.exists("/crud") is None


def test_create_with_stat_uses_create2(zk):
    path, stat = zk.create("/c2", b"abc", include_data=True)
    assert path == "/c2"
    assert stat.dataLength == 3 and stat.version == 0
    zk.delete("/c2")


def test_sequential_and_ephemeral(zk, zk2):
    zk.ensure_path("/seq")
    names = [zk.create("/seq/n-", sequence=True) for _ in range(12)]
    assert names == ["/seq/n-%010d" % i for i in range(12)]
    eph = zk.create("/seq/eph", ephemeral=True)
    assert zk2.exists(eph).ephemeralOwner == zk.client_id[0]
    with pytest.raises(Exception):  # ephemerals cannot have children (§1.2)
        zk.create("/seq/eph/child")
    children, stat = zk2.get_children("/seq", include_data=True)  # getChildren2
    assert sorted(children) == sorted([n.rsplit("/", 1)[1] for n in names] + ["eph"])
    assert stat.numChildren == 13
    # cversion counts creates and deletes as clients see it (§1.3).
    zk.delete(names[0])
    assert zk.exists("/seq").cversion == 14
    zk.delete("/seq", recursive=True)


def test_ephemeral_goes_with_the_session(server, zk2):
    c = kazoo_client(server.zk_address)
    c.create("/eph-owner", ephemeral=True)
    gone = threading.Event()
    assert zk2.exists("/eph-owner", watch=lambda e: gone.set()) is not None
    c.stop()  # closeSession (§2.8)
    c.close()
    assert gone.wait(10)
    assert zk2.exists("/eph-owner") is None


def test_data_child_and_exist_watches(zk, zk2):
    zk.create("/w", b"0")
    events = []
    got = threading.Event()

    def record(e):
        events.append((e.type, e.path))
        got.set()

    zk.get("/w", watch=record)
    zk2.set("/w", b"1")
    assert got.wait(10)
    assert events == [(EventType.CHANGED, "/w")]

    got.clear()
    zk.get_children("/w", watch=record)
    zk2.create("/w/c")
    assert got.wait(10)
    assert events[-1] == (EventType.CHILD, "/w")

    got.clear()
    assert zk.exists("/w/later", watch=record) is None  # arms a watch on a missing node
    zk2.create("/w/later")
    assert got.wait(10)
    assert events[-1] == (EventType.CREATED, "/w/later")

    got.clear()
    zk.exists("/w/later", watch=record)
    zk2.delete("/w/later")
    assert got.wait(10)
    assert events[-1] == (EventType.DELETED, "/w/later")
    zk.delete("/w", recursive=True)


def test_read_after_a_write_by_another_session_sees_it_after_the_event(zk, zk2):
    """§1.11: the watching session gets the event, then a read that returns the new data.
    (kazoo runs watch callbacks on another thread, so the byte order on the wire is checked
    with the raw client in test_wire_raw.py.)"""
    zk.create("/order", b"old")
    fired = threading.Event()
    zk.get("/order", watch=lambda e: fired.set())
    zk2.set("/order", b"new")
    assert zk.get("/order")[0] == b"new"
    assert fired.wait(10)
    zk.delete("/order")


def test_digest_acl_and_auth(server, zk):
    zk.add_auth("digest", "alice:secret")
    zk.create("/secret", b"s", acl=[make_digest_acl("alice", "secret", all=True)])
    assert zk.get("/secret")[0] == b"s"
    acls, _ = zk.get_acls("/secret")
    assert acls[0].id.scheme == "digest" and acls[0].id.id.startswith("alice:")
    assert zk.client_id is not None

    other = kazoo_client(server.zk_address)
    try:
        with pytest.raises(NoAuthError):
            other.get("/secret")
        with pytest.raises(NoAuthError):  # getACL needs READ or ADMIN
            other.get_acls("/secret")
        zk.set_acls("/secret", [make_digest_acl("alice", "secret", all=True),
                                ACL(Permissions.READ, Id("world", "anyone"))])
        assert other.get("/secret")[0] == b"s"
        masked, stat = other.get_acls("/secret")
        assert stat.aversion == 1
        assert masked[0].id.id == "alice:x"  # digest ids masked without ADMIN (§1.1)
        with pytest.raises(NoAuthError):
            other.set("/secret", b"no")
    finally:
        other.stop()
        other.close()
    zk.delete("/secret")


def test_auth_failure_closes_the_connection(server):
    c = kazoo_client(server.zk_address)
    lost = threading.Event()
    c.add_listener(lambda state: state == KazooState.LOST and lost.set())
    try:
        with pytest.raises(AuthFailedError):
            c.add_auth("nosuchscheme", "x")
        assert lost.wait(10)  # kazoo gives up the session once the server closes (§2.8)
    finally:
        c.stop()
        c.close()


def test_transaction(zk):
    zk.create("/tx", b"")
    t = zk.transaction()
    t.create("/tx/a", b"1")
    t.set_data("/tx", b"updated")
    t.check("/tx/a", 0)
    t.create("/tx/b")
    t.delete("/tx/b")
    results = t.commit()
    assert results[0] == "/tx/a"
    assert results[1].version == 1
    assert results[2] is True and results[3] == "/tx/b" and results[4] is True

    t = zk.transaction()
    t.create("/tx/c")
    t.delete("/tx/missing")
    t.set_data("/tx", b"never")
    results = t.commit()
    assert isinstance(results[0], RolledBackError)
    assert isinstance(results[1], NoNodeError)
    assert isinstance(results[2], RuntimeInconsistency)  # §1.13: -2 after the failure
    assert zk.exists("/tx/c") is None
    assert zk.get("/tx")[0] == b"updated"
    zk.delete("/tx", recursive=True)


def test_sync(zk):
    # (reconfig is tested with the raw client: kazoo 2.8 does not know RECONFIGDISABLED (-123),
    # which ZooKeeper itself answers when reconfigEnabled=false, and its connection loop dies.)
    assert zk.sync("/") == "/"


def test_config_node_is_readable(zk):
    data, stat = zk.get("/zookeeper/config")
    assert stat is not None


def test_many_pipelined_async_requests(zk):
    zk.create("/async", b"")
    creates = [zk.create_async("/async/n-", b"x", sequence=True) for _ in range(300)]
    paths = [a.get(timeout=20) for a in creates]
    assert paths == sorted(paths)
    reads = [zk.get_async(p) for p in paths]
    assert all(r.get(timeout=20)[0] == b"x" for r in reads)
    zk.delete("/async", recursive=True)


def test_session_survives_a_reconnect(server):
    c = kazoo_client(server.zk_address)
    try:
        c.create("/survivor", ephemeral=True)
        session = c.client_id[0]
        lost, back = threading.Event(), threading.Event()

        def listen(state):
            if state == KazooState.SUSPENDED:
                lost.set()
            elif state == KazooState.CONNECTED and lost.is_set():
                back.set()

        c.add_listener(listen)
        c._connection._socket.shutdown(socket.SHUT_RDWR)  # drop the TCP connection
        assert back.wait(20)
        assert c.client_id[0] == session
        assert c.exists("/survivor").ephemeralOwner == session
    finally:
        c.stop()
        c.close()


def test_four_letter_words(server, zk):
    assert zk.command(b"ruok") == "imok"
    assert zk.command(b"isro") == "rw"
    srvr = zk.command(b"srvr")
    assert "Mode: standalone" in srvr and "Node count:" in srvr
    mntr = dict(line.split("\t", 1) for line in zk.command(b"mntr").splitlines())
    assert int(mntr["zk_num_alive_connections"]) >= 1
    assert int(mntr["zk_znode_count"]) >= 4
    assert mntr["zk_server_state"] == "standalone"
    assert "queued=" in zk.command(b"cons")
    assert "clientPort=" in zk.command(b"conf")
    assert "zookeeper.version=3.8.0" in zk.command(b"envi")
    assert zk.server_version()[:2] == (3, 8)
    assert "Clients:" in zk.command(b"stat")
    assert zk.command(b"wchs")


def test_watch_counts_follow_watches_and_connections(server, zk):
    def counts():
        mntr = dict(line.split("\t", 1) for line in zk.command(b"mntr").splitlines())
        return int(mntr["zk_watch_count"])

    zk.ensure_path("/wcount")
    base = counts()
    raw = RawClient(server.zk_address)
    raw.connect()
    assert raw.get_data("/wcount", watch=True)[0] == 0
    assert raw.exists("/wcount/none", watch=True)[0] == -101  # NONODE
    assert counts() == base + 2
    assert "Total watches:%d" % (base + 2) in zk.command(b"wchs")
    # The client hangs up without closeSession: the connection's watches go with it
    # (NIOServerCnxn.close -> removeCnxn) while the session lives on until it expires.
    raw.close()
    for _ in range(500):
        if counts() == base:
            break
        zk.exists("/wcount")  # a round trip to the server between samples, no sleeping
    assert counts() == base
