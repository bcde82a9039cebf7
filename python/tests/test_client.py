"""quorumlab.Client against a real 3-node cluster: every call, its errors, watches of each
kind, async calls, re-entrant callbacks, session listeners and bad input."""
from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

import pytest

import quorumlab
from quorumlab import (ACL, Client, EventType, Id, Op, Permissions, SessionState,
                       make_digest_acl)
from quorumlab.exceptions import (BadArgumentsError, BadVersionError, ConnectionClosedError,
                                  ConnectionLossError, NoAuthError, NodeExistsError,
                                  NoNodeError, NotEmptyError, RolledBackError,
                                  SessionExpiredError, ZooKeeperError)

from conftest import Events, wait_watched


def test_create_get_set_delete(zk):
    p = zk.root + "/a"
    assert zk.create(p, b"one") == p
    data, stat = zk.get(p)
    assert data == b"one" and stat.version == 0 and stat.data_length == 3
    stat2 = zk.set(p, b"two")
    assert stat2.version == 1 and stat2.mzxid > stat.mzxid
    assert zk.get(p)[0] == b"two"
    assert zk.exists(p).version == 1
    assert zk.delete(p) is True
    assert zk.exists(p) is None


def test_errors_are_the_exception_hierarchy(zk):
    p = zk.root + "/e"
    with pytest.raises(NoNodeError) as e:
        zk.get(p)
    assert e.value.code == -101 and e.value.path == p and isinstance(e.value, ZooKeeperError)
    zk.create(p, b"x")
    with pytest.raises(NodeExistsError):
        zk.create(p, b"x")
    with pytest.raises(BadVersionError):
        zk.set(p, b"y", version=7)
    with pytest.raises(BadVersionError):
        zk.delete(p, version=3)
    with pytest.raises(BadVersionError):
        zk.check(p, 5)
    assert zk.check(p, 0).version == 0
    zk.create(p + "/child")
    with pytest.raises(NotEmptyError):
        zk.delete(p)
    zk.delete(p, recursive=True)
    assert zk.exists(p) is None
    with pytest.raises(NoNodeError):
        zk.create(zk.root + "/missing/parent")
    with pytest.raises(BadArgumentsError):
        zk.get("no-leading-slash")


def test_create_modes(zk, cluster):
    base = zk.root
    eph = zk.create(base + "/eph", b"", ephemeral=True)
    assert zk.exists(eph).ephemeral_owner == zk.session_id
    seq1 = zk.create(base + "/seq-", sequence=True)
    seq2 = zk.create(base + "/seq-", sequence=True)
    assert seq1.startswith(base + "/seq-") and len(seq1) == len(base + "/seq-") + 10
    assert int(seq2[-10:]) > int(seq1[-10:])
    eseq = zk.create(base + "/eseq-", ephemeral=True, sequence=True)
    assert zk.exists(eseq).ephemeral_owner == zk.session_id
    path, stat = zk.create(base + "/cont", container=True, include_data=True)
    assert path == base + "/cont" and stat.version == 0
    ttl = zk.create(base + "/ttl", b"t", ttl_ms=60000)
    assert zk.get(ttl)[0] == b"t"
    assert zk.create(base + "/deep/er/node", b"d", makepath=True) == base + "/deep/er/node"
    with pytest.raises(ValueError):
        zk.create(base + "/bad", ephemeral=True, ttl_ms=10)
    with pytest.raises(ValueError):
        zk.create(base + "/bad", ttl_ms=-1)
    # ephemerals go with the session
    other = cluster.client()
    other_eph = other.create(base + "/other-eph", ephemeral=True)
    other.close()
    zk.sync(base)  # reads are served locally: catch up with the closeSession first
    assert zk.exists(other_eph) is None
    assert eph in zk.get_ephemerals(base)


def test_children_and_include_data(zk):
    for name in ("x", "y", "z"):
        zk.create(f"{zk.root}/{name}")
    assert sorted(zk.get_children(zk.root)) == ["x", "y", "z"]
    names, stat = zk.get_children(zk.root, include_data=True)
    assert stat.num_children == 3 and sorted(names) == ["x", "y", "z"]
    with pytest.raises(NoNodeError):
        zk.get_children(zk.root + "/nope")


def test_transaction_and_multi(zk):
    a, b = zk.root + "/a", zk.root + "/b"
    zk.create(a, b"0")
    t = zk.transaction()
    t.check(a, 0)
    t.set_data(a, b"1")
    t.create(b, b"new")
    results = t.commit()
    assert results[0] is True and results[1].version == 1 and results[2] == b
    # a failing transaction changes nothing and says which op failed
    t = zk.transaction()
    t.delete(b)
    t.check(a, 99)
    results = t.commit()
    assert isinstance(results[0], RolledBackError) and isinstance(results[1], BadVersionError)
    assert zk.exists(b) is not None
    # multi() raises the failing op's error with every op's result attached
    with pytest.raises(BadVersionError) as e:
        zk.multi(Op.delete(b), Op.check(a, 99))
    assert len(e.value.results) == 2
    out = zk.multi(Op.check(a, 1), Op.delete(b), Op.set_data(a, b"2"))
    assert out[0] is True and out[1] is True and out[2].version == 2
    with zk.transaction() as t:
        t.create(zk.root + "/c")
    assert zk.exists(zk.root + "/c")


def test_sync_and_session_properties(zk):
    assert zk.sync(zk.root) == zk.root
    assert zk.connected and zk.session_id != 0
    sid, passwd = zk.client_id
    assert sid == zk.session_id and len(passwd) == 16
    assert zk.session_timeout > 0 and zk.last_zxid > 0
    assert zk.current_server.startswith("127.0.0.1:")


def test_acls_and_auth(zk, cluster):
    p = zk.root + "/secret"
    zk.add_auth("digest", "alice:pw")
    acl = make_digest_acl("alice", "pw", all=True)
    zk.create(p, b"s", acl=[acl])
    acls, stat = zk.get_acls(p)
    assert acls == [acl] and stat.aversion == 0
    assert Id("digest", "alice") in zk.whoami() or any(i.scheme == "digest" for i in zk.whoami())
    other = cluster.client()
    other.sync(p)  # another session: catch up with zk's writes before reading
    with pytest.raises(NoAuthError):
        other.get(p)
    other.add_auth("digest", "alice:pw")
    assert other.get(p)[0] == b"s"
    other.close()
    stat = zk.set_acls(p, [ACL(Permissions.READ | Permissions.ADMIN, Id("world", "anyone"))])
    assert stat.aversion == 1
    other = cluster.client()
    other.sync(p)
    with pytest.raises(NoAuthError):
        other.set(p, b"no write permission")
    with pytest.raises(BadVersionError):
        zk.set_acls(p, quorumlab.OPEN_ACL_UNSAFE, version=0)
    with pytest.raises(ValueError):
        zk.create(zk.root + "/noacl", acl=[])


def test_one_shot_watches(zk):
    p = zk.root + "/w"
    data_events, exist_events, child_events = Events(), Events(), Events()
    assert zk.exists(p, watch=exist_events) is None
    zk.create(p, b"0")
    ev = exist_events.wait(1)[0]
    assert ev.type is EventType.CREATED and ev.path == p
    zk.get(p, watch=data_events)
    zk.get_children(p, watch=child_events)
    zk.set(p, b"1")
    zk.set(p, b"2")  # one-shot: no second event
    zk.create(p + "/c")
    assert data_events.wait(1)[0].type is EventType.CHANGED
    assert child_events.wait(1)[0].type is EventType.CHILD
    # a later event proves nothing more came for the first watch
    marker = Events()
    zk.get(p, watch=marker)
    zk.set(p, b"3")
    marker.wait(1)
    assert len(data_events.items) == 1 and len(exist_events.items) == 1


def test_persistent_and_recursive_watches(zk):
    p = zk.root + "/pw"
    zk.create(p)
    persistent, recursive = Events(), Events()
    zk.add_watch(p, persistent)
    zk.add_watch(p, recursive, recursive=True)
    zk.set(p, b"1")
    zk.set(p, b"2")
    zk.create(p + "/kid")
    zk.set(p + "/kid", b"k")
    got = persistent.wait(3)
    assert [e.type for e in got[:3]] == [EventType.CHANGED, EventType.CHANGED, EventType.CHILD]
    rec = recursive.wait(4)
    assert {(e.type, e.path) for e in rec} >= {(EventType.CHANGED, p),
                                                (EventType.CREATED, p + "/kid"),
                                                (EventType.CHANGED, p + "/kid")}
    zk.remove_watches(p, "persistent")
    zk.remove_watches(p, "persistent_recursive")


def test_watch_iterator(zk):
    p = zk.root + "/it"
    zk.create(p)
    with zk.watch(p, recursive=True) as events:
        zk.create(p + "/a")
        zk.set(p + "/a", b"x")
        zk.delete(p + "/a")
        seen = [next(events) for _ in range(3)]
        assert [e.type for e in seen] == [EventType.CREATED, EventType.CHANGED,
                                           EventType.DELETED]
    # after the block the watch is gone: no event for this change reaches a new watch's queue
    with zk.watch(p) as events:
        zk.set(p, b"y")
        assert events.get(timeout=20).type is EventType.CHANGED
        with pytest.raises(queue.Empty):
            events.get(timeout=0.01)
        zk.set(p, b"z")
        zk.close()  # the iteration ends with the client, after the events it got
        assert [e.type for e in events] == [EventType.CHANGED]


def test_async_variants(zk):
    p = zk.root + "/async"
    f = zk.create_async(p, b"v")
    assert isinstance(f, Future) and f.result(20) == p
    assert zk.get_async(p).result(20)[0] == b"v"
    assert zk.set_async(p, b"w").result(20).version == 1
    assert zk.exists_async(p).result(20).version == 1
    assert zk.exists_async(p + "/none").result(20) is None
    assert zk.get_children_async(zk.root).result(20) == ["async"]
    assert zk.sync_async(p).result(20) == p
    assert zk.get_acls_async(p).result(20)[0] == quorumlab.OPEN_ACL_UNSAFE
    assert zk.set_acls_async(p, quorumlab.OPEN_ACL_UNSAFE).result(20).aversion == 1
    with pytest.raises(NoNodeError):
        zk.get_async(p + "/none").result(20)
    # many in flight at once, completed in order
    futures = [zk.set_async(p, str(i).encode()) for i in range(200)]
    versions = [f.result(20).version for f in futures]
    assert versions == list(range(2, 202))
    t = zk.transaction()
    t.delete(p)
    assert zk.delete_async(zk.root + "/none").exception(20).code == -101
    assert t.commit_async().result(20) == [True]
    assert zk.add_auth_async("digest", "bob:pw").result(20) is None
    assert zk.multi_async(Op.create(p)).result(20) == [p]


def test_async_futures_in_asyncio(zk):
    import asyncio

    async def main():
        p = await asyncio.wrap_future(zk.create_async(zk.root + "/aio", b"a"))
        data, _ = await asyncio.wrap_future(zk.get_async(p))
        many = await asyncio.gather(*(asyncio.wrap_future(zk.exists_async(p))
                                      for _ in range(50)))
        return data, len(many)

    assert asyncio.run(main()) == (b"a", 50)


def test_callbacks_reenter_the_client(zk):
    """A watch callback and a future callback call back into the client, blocking and not."""
    p = zk.root + "/re"
    zk.create(p, b"0")
    results = Events()

    def on_change(event):
        data, stat = zk.get(p, watch=on_change)  # blocking call (re-arming) from the callback
        zk.set(p + "-seen", data)                # a write too
        results(("watch", data, zk.exists(p + "-seen").version))

    zk.create(p + "-seen")
    zk.get(p, watch=on_change)
    zk.set(p, b"1")
    assert results.wait(1)[0][:2] == ("watch", b"1")
    zk.set(p, b"2")
    assert results.wait(2)[1][:2] == ("watch", b"2")

    def on_done(future):
        results(("future", zk.get(p)[0], zk.get_async(p).result(20)[0]))

    zk.get_async(p).add_done_callback(on_done)
    assert results.wait(3)[2] == ("future", b"2", b"2")


def test_callback_may_close_the_client(cluster):
    c = cluster.client()
    closed = Events()
    p = "/close-in-callback-" + str(c.session_id)
    c.create(p, ephemeral=True)

    def on_change(event):
        c.close()
        closed(c.closed)

    c.exists(p, watch=on_change)
    other = cluster.client()
    other.sync(p)
    other.set(p, b"x")
    assert closed.wait(1) == [True]
    wait_watched(other, lambda w: other.exists(p, watch=w) is None,
                 what="the closed session's ephemeral to go")
    other.close()


def test_session_listener(cluster):
    states = Events()
    c = cluster.client()
    c.add_listener(states)
    assert c.session_state is SessionState.CONNECTED
    c.close()
    assert states.wait(1)[-1] is SessionState.LOST


def test_resumed_and_expired_sessions(cluster):
    first = cluster.client(timeout=2.0)
    eph = first.create("/resume-" + str(first.session_id), ephemeral=True)
    sid, passwd = first.client_id
    first.detach()  # the session lives on without a client
    resumed = Client(cluster.connect_string, timeout=2.0, session_id=sid,
                     session_passwd=passwd)
    assert resumed.session_id == sid and resumed.exists(eph).ephemeral_owner == sid
    resumed.detach()
    watcher = cluster.client()
    wait_watched(watcher, lambda w: watcher.exists(eph, watch=w) is None,
                 what="the session to expire")
    late = Client(cluster.connect_string, timeout=2.0, connect_timeout=0, session_id=sid,
                  session_passwd=passwd)
    states = Events()
    late.add_listener(states)  # a change before this line is seen by the predicate
    states.wait_for(lambda _: late.state == "EXPIRED" and late.session_state is SessionState.LOST,
                    what="the client and its listeners to learn of the expiry")
    with pytest.raises(SessionExpiredError):
        late.get("/")
    with pytest.raises(SessionExpiredError):
        late.create_async("/x").result(10)
    late.close()
    with pytest.raises(SessionExpiredError, match="expired"):
        Client(cluster.connect_string, timeout=2.0, session_id=sid, session_passwd=passwd)


def test_gil_released_while_cpp_waits(cluster):
    """A blocking wait in C++ does not hold the GIL: the main thread keeps running Python."""
    c = Client("127.0.0.1:1", timeout=5, connect_timeout=0)  # nothing listens there
    done = threading.Event()

    def wait():
        c.wait_connected(3.0)
        done.set()

    t = threading.Thread(target=wait)
    t.start()
    loops = 0
    while loops < 100000 and not done.is_set():
        loops += 1
    assert not done.is_set(), "the wait returned before Python could run: GIL held?"
    c.close()
    t.join()


def test_bad_input_raises_clear_errors(cluster, zk):
    with pytest.raises(ValueError, match="connect string"):
        Client("not a host list", timeout=1)
    with pytest.raises(ValueError, match="connect string"):
        Client("127.0.0.1:99999", timeout=1)
    with pytest.raises(TypeError):
        Client(None)
    with pytest.raises(ValueError, match="1 MiB"):
        zk.create(zk.root + "/big", b"x" * (1024 * 1024 + 1))
    with pytest.raises(ValueError, match="1 MiB"):
        zk.set(zk.root, b"x" * (2 * 1024 * 1024))
    zk.create(zk.root + "/max", b"x" * (1024 * 1024 - 100))
    with pytest.raises(TypeError, match="bytes"):
        zk.create(zk.root + "/str", "text")
    with pytest.raises(TypeError):
        zk.get(42)
    with pytest.raises(ValueError):
        zk.set(zk.root, b"", version=-5)
    with pytest.raises(TypeError, match="ACL"):
        zk.create(zk.root + "/acl", acl=[(31, ("world",))])
    with pytest.raises(BadArgumentsError):
        zk.create(zk.root + "/nul\0byte")
    with pytest.raises(ConnectionLossError):
        Client("127.0.0.1:1", timeout=1, connect_timeout=0.2)
    c = cluster.client()
    c.close()
    c.close()  # idempotent
    for call in (lambda: c.get("/"), lambda: c.create("/x"), lambda: c.get_async("/"),
                 lambda: c.exists("/"), lambda: c.sync("/"), lambda: c.transaction().commit()):
        with pytest.raises(ConnectionClosedError, match="closed"):
            call()


def test_help_is_useful():
    import pydoc
    text = pydoc.render_doc(quorumlab.Client, renderer=pydoc.plaintext)
    assert "get_children" in text and "Future" in text and "watch" in text
    doc = Client.__doc__ + Client.create.__doc__
    assert "kazoo" in doc and "sequence" in doc
    assert quorumlab.Client.get.__annotations__
