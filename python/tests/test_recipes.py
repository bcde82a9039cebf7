"""Every recipe on a real 3-node cluster, each under one fault: a session that expires (the
lock holder, a reader, a member, a voter) or the leader server process killed."""
from __future__ import annotations

import threading
from collections import Counter as Multiset
from concurrent.futures import ThreadPoolExecutor

import pytest

import quorumlab
from quorumlab import recipes

from conftest import STALL_TOLERANT, Events, wait_watched


@pytest.fixture(scope="module")
def rc():
    """A 3-node zab cluster whose servers accept 1 s sessions (so expiry is quick)."""
    with quorumlab.Cluster(nodes=3, broadcast="zab", storage="memory",
                           params=STALL_TOLERANT) as c:
        yield c


class LeaderKilled:
    """kill -9 the leader server inside the block; restart it after."""

    def __init__(self, cluster):
        self.cluster = cluster

    def kill(self):
        self.node = self.cluster.leader()
        self.cluster.kill(self.node)

    def __enter__(self):
        self.node = None
        return self

    def __exit__(self, *exc):
        if self.node is not None:
            self.cluster.restart(self.node, wait_for_leader=True)


def short_session(cluster):
    """A session that expires 2 s after its client stops talking (2 s, not less: a loaded
    2-core machine can delay a client's pings by a good part of a second)."""
    c = cluster.client(timeout=2.0)
    assert c.session_timeout <= 2.5
    return c


def expire(client):
    """Stops talking to the servers without closing: the cluster expires the session."""
    client.detach()


def test_lock_passes_on_when_the_holder_session_expires(rc):
    holder, waiter = short_session(rc), rc.client()
    a = recipes.Lock(holder, "/locks/one", "holder")
    b = recipes.Lock(waiter, "/locks/one", "waiter")
    assert a.acquire(timeout=10)
    assert not b.acquire(blocking=False)
    assert a.contenders() == ["holder"]
    with ThreadPoolExecutor(1) as pool:
        got = pool.submit(b.acquire, True, 30)
        wait_watched(waiter, lambda w: waiter.get_children("/locks/one", watch=w) is not None
                     and b.contenders() == ["holder", "waiter"], what="the waiter to queue")
        assert not got.done()
        expire(holder)
        assert got.result(30) is True
    assert b.is_acquired and b.contenders() == ["waiter"]
    b.release()
    assert b.contenders() == []
    with waiter.Lock("/locks/one") as again:  # kazoo's spelling
        assert again.is_acquired


def test_shared_exclusive_lock_with_an_expiring_reader(rc):
    r1c, r2c, wc = short_session(rc), rc.client(), rc.client()
    r1 = recipes.ReadWriteLock(r1c, "/rw/one", "r1").read_lock
    r2 = recipes.ReadWriteLock(r2c, "/rw/one", "r2").read_lock
    w = recipes.ReadWriteLock(wc, "/rw/one", "w").write_lock
    assert r1.acquire(timeout=10) and r2.acquire(timeout=10)  # readers share
    assert not w.acquire(blocking=False)
    with ThreadPoolExecutor(1) as pool:
        got = pool.submit(w.acquire, True, 30)
        wait_watched(wc, lambda watch: wc.get_children("/rw/one", watch=watch) is not None
                     and len(w.contenders()) == 3, what="the writer to queue")
        r2.release()
        assert not got.done()
        expire(r1c)  # the last reader's session expires: the writer gets the lock
        assert got.result(30) is True
    late_reader = recipes.ReadWriteLock(r2c, "/rw/one", "r3").read_lock
    assert not late_reader.acquire(blocking=False)  # a writer holds it: readers wait
    w.release()
    assert late_reader.acquire(timeout=10)
    late_reader.release()


def test_election_with_the_leader_server_killed(rc):
    clients = [rc.client() for _ in range(3)]
    elections = [recipes.Election(c, "/election/svc", f"cand-{i}")
                 for i, c in enumerate(clients)]
    for e in elections:
        e.volunteer()
    assert elections[0].wait_for_leadership(10)
    assert elections[0].leader() == "cand-0"
    assert not elections[2].wait_for_leadership(0.1)  # times out, keeps its place
    assert elections[0].contenders() == ["cand-0", "cand-1", "cand-2"]
    with LeaderKilled(rc) as fault:
        fault.kill()
        # the sessions live on through the server's death: leadership does not move
        assert elections[0].is_leader and not elections[1].is_leader
        assert elections[0].leader() == "cand-0"
        with ThreadPoolExecutor(1) as pool:
            f = pool.submit(elections[1].wait_for_leadership, 30)
            elections[0].resign()
            assert f.result(30) is True
    assert elections[1].leader() == "cand-1"
    elections[1].resign()
    assert elections[2].run(lambda: "ran") == "ran"
    assert elections[2].leader() is None


def test_barrier_with_the_leader_server_killed(rc):
    owner = rc.client()
    barrier = recipes.Barrier(owner, "/barriers/b1")
    barrier.create()
    waiters = [recipes.Barrier(rc.client(), "/barriers/b1") for _ in range(3)]
    with ThreadPoolExecutor(3) as pool, LeaderKilled(rc) as fault:
        futures = [pool.submit(w.wait, 30) for w in waiters]
        assert not any(f.done() for f in futures)
        fault.kill()
        assert barrier.remove()
        assert [f.result(30) for f in futures] == [True, True, True]


def test_double_barrier_with_the_leader_server_killed(rc):
    clients = [rc.client() for _ in range(3)]
    barriers = [recipes.DoubleBarrier(c, "/dbarrier/d1", 3, f"p{i}")
                for i, c in enumerate(clients)]
    entered = Events()
    with ThreadPoolExecutor(3) as pool, LeaderKilled(rc) as fault:
        first = pool.submit(lambda: (barriers[0].enter(30), entered(0)))
        wait_watched(clients[1], lambda w: clients[1].exists("/dbarrier/d1/p0", watch=w),
                     what="p0 to enter")
        assert not first.done()
        fault.kill()
        rest = [pool.submit(lambda b=b: b.enter(30)) for b in barriers[1:]]
        first.result(30)
        assert all(f.result(30) for f in rest)
        leaving = [pool.submit(b.leave, 30) for b in barriers]
        assert all(f.result(30) for f in leaving)
    assert clients[0].get_children("/dbarrier/d1") == []


def test_queue_loses_and_duplicates_nothing_when_the_leader_dies(rc):
    producer = recipes.Queue(rc.client(), "/queues/q1")
    consumers = [recipes.Queue(rc.client(), "/queues/q1") for _ in range(2)]
    items = [f"item-{i}".encode() for i in range(60)]
    taken = []
    lock = threading.Lock()

    def consume(q):
        while True:
            v = q.get(timeout=10)
            if v is None or v == b"stop":
                return
            with lock:
                taken.append(v)

    with ThreadPoolExecutor(2) as pool, LeaderKilled(rc) as fault:
        futures = [pool.submit(consume, q) for q in consumers]
        for i, item in enumerate(items):
            producer.put(item)
            if i == 20:
                fault.kill()
        for _ in consumers:
            producer.put(b"stop", priority=999)
        for f in futures:
            f.result(60)
    assert Multiset(taken) == Multiset(items)
    first = recipes.Queue(rc.client(), "/queues/prio")
    first.put(b"low", priority=500)
    first.put(b"high", priority=1)
    assert first.get(block=False) == b"high" and first.get(block=False) == b"low"
    assert first.get(block=False) is None


def test_counter_is_exact_when_the_leader_dies(rc):
    counters = [recipes.Counter(rc.client(), "/counters/c1") for _ in range(3)]
    start = threading.Event()

    def bump(c):
        start.wait()
        for _ in range(40):
            c.add(1)

    with ThreadPoolExecutor(3) as pool, LeaderKilled(rc) as fault:
        futures = [pool.submit(bump, c) for c in counters]
        start.set()
        zk0 = counters[0].client
        wait_watched(zk0, lambda w: zk0.exists("/counters/c1", watch=w) is not None
                     and counters[0].value >= 30, what="some increments")
        fault.kill()
        for f in futures:
            f.result(60)
    assert counters[0].value == 120
    counters[1] += 5
    counters[1] -= 2
    assert counters[2].value == 123


def test_group_membership_drops_an_expired_member(rc):
    watcher = rc.client()
    group = recipes.Group(watcher, "/groups/g1", "watcher")
    views = Events()
    stop = group.watch(views)
    members = [recipes.Group(short_session(rc), "/groups/g1", "m1"),
               recipes.Group(rc.client(), "/groups/g1", "m2")]
    for m in members:
        m.join()
    views.wait_for(lambda items: items and items[-1] == ["m1", "m2"], what="both members")
    expire(members[0].client)
    views.wait_for(lambda items: items[-1] == ["m2"], what="the expired member to go")
    assert group.members() == ["m2"]
    members[1].leave()
    views.wait_for(lambda items: items[-1] == [], what="the last member to leave")
    stop()


def test_ready_znode_config_is_never_seen_half_written(rc):
    writer = recipes.ReadyConfig(rc.client(), "/config/app")
    reader = recipes.ReadyConfig(rc.client(), "/config/app")
    writer.publish({"a": b"0", "b": b"0", "c": b"0"})
    seen = Events()
    done = threading.Event()

    def read_loop():
        while not done.is_set():
            seen(reader.read(timeout=30))

    with ThreadPoolExecutor(1) as pool, LeaderKilled(rc) as fault:
        f = pool.submit(read_loop)
        for version in range(1, 16):
            writer.publish({k: str(version).encode() for k in "abc"})
            if version == 5:
                fault.kill()
        seen.wait_for(lambda items: items and items[-1]["a"] == b"15", what="the reader to see v15")
        done.set()
        f.result(30)
    assert all(len(set(cfg.values())) == 1 and set(cfg) == {"a", "b", "c"} for cfg in seen.items)


def test_two_phase_commit_aborts_on_an_expired_voter_and_commits_across_a_leader_kill(rc):
    coord = recipes.TwoPhaseCommit(rc.client(), "/2pc")
    p1 = recipes.TwoPhaseParticipant(rc.client(), "p1")
    p2c = short_session(rc)
    p2 = recipes.TwoPhaseParticipant(p2c, "p2")
    tx = coord.begin(["p1", "p2"], b"payload")
    p1.vote(tx, True)
    expire(p2c)  # p2 dies before voting: the coordinator times out and aborts
    assert coord.decide(tx, timeout=2.0) == "abort"
    assert p1.outcome(tx, 10) == "abort"

    p2 = recipes.TwoPhaseParticipant(rc.client(), "p2")
    tx = coord.begin(["p1", "p2"])
    with LeaderKilled(rc) as fault:
        p1.vote(tx, True)
        fault.kill()
        p2.vote(tx, True)
        assert coord.decide(tx, timeout=30) == "commit"
        assert p1.outcome(tx, 30) == "commit" and p2.outcome(tx, 30) == "commit"
    tx = coord.begin(["p1", "p2"])
    p1.vote(tx, True)
    p2.vote(tx, False)
    assert coord.decide(tx, timeout=10) == "abort"
