"""kazoo's recipes against a 3-node `qlab cluster` (zab, wal): Lock, Election, Barrier,
DoubleBarrier, Queue, LockingQueue, Counter, Party, DataWatch/ChildrenWatch and
TransactionRequest. Each recipe runs between two or more sessions, each connected to a
different server (one of them the leader), so every recipe crosses servers; threads wait on
Events with deadlines.

A server may answer a read before it has applied a write another session made through another
server (ZooKeeper's guarantees are per session, reference §1.17). Where a test reads what
another client wrote without a watch or a write of its own in between, the reader calls sync
first, as a ZooKeeper application must."""
import threading

import pytest

from conftest import kazoo_client

WAIT_S = 15


@pytest.fixture
def clients(cluster):
    # Client i starts at node i and fails over to the others.
    cs = [kazoo_client(cluster.hosts_starting_at(i), randomize_hosts=False) for i in range(3)]
    ports = {c._connection._socket.getpeername()[1] for c in cs}
    assert len(ports) == 3, "the clients should sit on three different servers"
    yield cs
    for c in cs:
        c.stop()
        c.close()


def run_in_thread(fn):
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    return t


def test_lock(clients):
    a, b, _ = clients
    la, lb = a.Lock("/recipes/lock", "a"), b.Lock("/recipes/lock", "b")
    assert la.acquire(timeout=WAIT_S)
    assert not lb.acquire(blocking=False)
    assert lb.contenders() == ["a"]
    got = threading.Event()
    t = run_in_thread(lambda: lb.acquire(timeout=WAIT_S) and got.set())
    la.release()
    assert got.wait(WAIT_S)
    t.join(WAIT_S)
    assert lb.is_acquired
    lb.release()


def test_read_write_lock(clients):
    a, b, c = clients
    r1, r2 = a.ReadLock("/recipes/rw"), b.ReadLock("/recipes/rw")
    w = c.WriteLock("/recipes/rw")
    assert r1.acquire(timeout=WAIT_S) and r2.acquire(timeout=WAIT_S)
    assert not w.acquire(blocking=False)
    r1.release()
    r2.release()
    assert w.acquire(timeout=WAIT_S)
    w.release()


def test_semaphore(clients):
    a, b, c = clients
    sa, sb, sc = (x.Semaphore("/recipes/sem", max_leases=2) for x in (a, b, c))
    assert sa.acquire(timeout=WAIT_S) and sb.acquire(timeout=WAIT_S)
    assert not sc.acquire(blocking=False)
    sa.release()
    assert sc.acquire(timeout=WAIT_S)
    sb.release()
    sc.release()


def test_election(clients):
    a, b, _ = clients
    leaders = []
    lead_a, done_a = threading.Event(), threading.Event()
    lead_b = threading.Event()

    def as_a():
        leaders.append("a")
        lead_a.set()
        done_a.wait(WAIT_S)

    def as_b():
        leaders.append("b")
        lead_b.set()

    ea, eb = a.Election("/recipes/election", "a"), b.Election("/recipes/election", "b")
    run_in_thread(lambda: ea.run(as_a))
    assert lead_a.wait(WAIT_S)
    run_in_thread(lambda: eb.run(as_b))
    b.sync("/recipes/election")
    assert sorted(eb.contenders()) in (["a"], ["a", "b"])
    assert not lead_b.is_set()
    done_a.set()  # a's term ends: b takes over
    assert lead_b.wait(WAIT_S)
    assert leaders == ["a", "b"]


def test_barrier(clients):
    a, b, _ = clients
    ba, bb = a.Barrier("/recipes/barrier"), b.Barrier("/recipes/barrier")
    ba.create()
    b.sync("/recipes/barrier")
    passed = threading.Event()
    run_in_thread(lambda: bb.wait(timeout=WAIT_S) and passed.set())
    assert not passed.is_set()
    ba.remove()
    assert passed.wait(WAIT_S)


def test_double_barrier(clients):
    members = [c.DoubleBarrier("/recipes/double", 3) for c in clients]
    entered = [threading.Event() for _ in members]
    left = [threading.Event() for _ in members]

    def member(i):
        members[i].enter()
        entered[i].set()
        members[i].leave()
        left[i].set()

    for i in range(3):
        run_in_thread(lambda i=i: member(i))
    for e in entered + left:
        assert e.wait(WAIT_S)


def test_queue(clients):
    a, b, _ = clients
    qa, qb = a.Queue("/recipes/queue"), b.Queue("/recipes/queue")
    for i in range(5):
        qa.put(b"item-%d" % i)
    qa.put(b"urgent", priority=1)
    b.sync("/recipes/queue")
    assert len(qb) == 6
    assert qb.get() == b"urgent"
    assert [qb.get() for _ in range(5)] == [b"item-%d" % i for i in range(5)]
    assert qb.get() is None


def test_locking_queue(clients):
    a, b, _ = clients
    qa, qb = a.LockingQueue("/recipes/lq"), b.LockingQueue("/recipes/lq")
    qa.put_all([b"x", b"y"])
    assert qb.get(timeout=WAIT_S) == b"x"
    assert qb.consume()
    assert qb.get(timeout=WAIT_S) == b"y"
    assert qb.holds_lock()
    assert qb.consume()
    a.sync("/recipes/lq")
    assert len(qa) == 0


def test_counter(clients):
    counters = [c.Counter("/recipes/counter") for c in clients]
    done = [threading.Event() for _ in counters]

    def bump(i):
        for _ in range(20):
            counters[i] += 1
        done[i].set()

    for i in range(3):
        run_in_thread(lambda i=i: bump(i))
    for e in done:
        assert e.wait(WAIT_S * 2)
    clients[0].sync("/recipes/counter")
    assert counters[0].value == 60
    counters[1] -= 10
    clients[2].sync("/recipes/counter")
    assert counters[2].value == 50


def test_party(clients):
    a, b, c = clients
    pa, pb = a.Party("/recipes/party", "a"), b.Party("/recipes/party", "b")
    pa.join()
    pb.join()
    c.sync("/recipes/party")
    watcher = c.Party("/recipes/party")
    assert sorted(watcher) == ["a", "b"] and len(watcher) == 2
    pa.leave()
    c.sync("/recipes/party")
    assert list(watcher) == ["b"]
    sa = a.ShallowParty("/recipes/shallow", "a")
    sa.join()
    c.sync("/recipes/shallow")
    assert list(c.ShallowParty("/recipes/shallow")) == ["a"]


def test_data_and_children_watch(clients):
    a, b, _ = clients
    a.ensure_path("/recipes/dw")
    values, children = [], []
    last_value, all_children = threading.Event(), threading.Event()

    @a.DataWatch("/recipes/dw")
    def on_data(data, stat):
        values.append(data)
        if data == b"9":
            last_value.set()

    @a.ChildrenWatch("/recipes/dw")
    def on_children(kids):
        children.append(sorted(kids))
        if len(kids) == 5:
            all_children.set()

    for i in range(10):
        b.set("/recipes/dw", str(i).encode())
    for i in range(5):
        b.create("/recipes/dw/c%d" % i)
    assert last_value.wait(WAIT_S) and all_children.wait(WAIT_S)
    # DataWatch re-reads after each event: it may skip values but never goes back (§1.11).
    seen = [int(v) for v in values if v]
    assert seen == sorted(seen) and seen[-1] == 9
    sizes = [len(k) for k in children]
    assert sizes == sorted(sizes) and sizes[-1] == 5


def test_transaction_request(clients):
    a, b, _ = clients
    a.ensure_path("/recipes/tx")
    with a.transaction() as t:
        t.create("/recipes/tx/one", b"1")
        t.create("/recipes/tx/two", b"2")
    b.sync("/recipes/tx")
    assert sorted(b.get_children("/recipes/tx")) == ["one", "two"]
    t = a.transaction()
    t.check("/recipes/tx/one", 5)  # wrong version: nothing applies
    t.delete("/recipes/tx/two")
    results = t.commit()
    assert type(results[0]).__name__ == "BadVersionError"
    assert b.exists("/recipes/tx/two") is not None
