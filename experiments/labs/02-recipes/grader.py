"""Lab 2's autograder: the student's recipes on a real 3-node zab cluster, each process with
its own session, under server crashes and session expiries. Every critical section,
leadership and barrier crossing is recorded with the grader's clock, and the properties are
checked over that recorded history: mutual exclusion (no two holders at once), one leader at
a time, nobody through a barrier early, one outcome per transaction. A holder whose session the
grader expires is counted as holding until the grader expired it (the server frees its nodes
only then)."""
from __future__ import annotations

import random
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from quorumlab import Client
from quorumlab.lab import Context, Failed, test

WAIT = 25.0


def recipes(ctx: Context) -> Any:
    src = (ctx.work / "recipes.py").read_text() if (ctx.work / "recipes.py").exists() else ""
    if "quorumlab.recipes" in src or "from quorumlab import recipes" in src:
        raise Failed("recipes.py uses quorumlab.recipes: build the recipes yourself on znodes")
    return ctx.import_student("recipes")


class Counting:
    """A client for the student's code that records the watches it sets: (method, path)."""

    def __init__(self, client: Client) -> None:
        self._c = client
        self.watches: List[Tuple[str, str]] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._c, name)
        if name in ("get", "exists", "get_children") and callable(attr):
            def call(path, *args, **kwargs):
                if kwargs.get("watch") is not None or (args and callable(args[0])):
                    self.watches.append((name, path))
                return attr(path, *args, **kwargs)
            return call
        return attr


def overlaps(intervals: List[Tuple[float, float, str]]) -> Optional[str]:
    s = sorted(intervals)
    base = s[0][0] if s else 0.0  # times shown from the first interval's start
    for (a0, a1, an), (b0, b1, bn) in zip(s, s[1:]):
        if b0 < a1:
            return (f"{bn} held it from {b0 - base:.3f} s while {an} held it from "
                    f"{a0 - base:.3f} s to {a1 - base:.3f} s")
    return None


class Faults(threading.Thread):
    """Kills and restarts servers (not the one the grader's own client needs) while a phase
    runs: `rounds` times, one at a time, each after `every` completed operations."""

    def __init__(self, ctx: Context, cluster: Any, done: threading.Event) -> None:
        super().__init__(daemon=True)
        self.ctx, self.cluster, self.done = ctx, cluster, done
        self.progress = threading.Semaphore(0)
        self.error: Optional[BaseException] = None

    def run(self) -> None:
        rng = random.Random(self.ctx.seed)
        try:
            while not self.done.is_set():
                for _ in range(4):
                    while not self.progress.acquire(timeout=0.2):
                        if self.done.is_set():
                            return
                n = rng.choice(self.cluster.node_ids)
                self.ctx.log(f"kill -9 node {n}, then restart it")
                self.cluster.kill(n)
                self.cluster.restart(n)
        except BaseException as e:  # reported by the test
            self.error = e


@test("the lock gives mutual exclusion under contention and server crashes",
      hint="create an ephemeral sequential node under the lock's path; you hold the lock when "
           "yours is the lowest; otherwise wait (with a watch) for the node just before yours",
      part="lock")
def lock_mutex(ctx: Context) -> None:
    r = recipes(ctx)
    c = ctx.cluster(nodes=3, broadcast="zab")
    held: List[Tuple[float, float, str]] = []
    mu = threading.Lock()
    done = threading.Event()
    faults = Faults(ctx, c, done)
    errors: List[str] = []

    def worker(i: int) -> None:
        client = c.client(timeout=10)
        lock = r.Lock(Counting(client), "/lab2/lock")
        try:
            for k in range(5):
                if not lock.acquire(timeout=WAIT):
                    errors.append(f"worker {i} waited {WAIT:.0f} s for the lock")
                    return
                t0 = time.monotonic()
                # A critical section of three round trips: read, write, read back.
                client.retry(client.get, "/lab2", timeout=WAIT)
                client.retry(client.set, "/lab2", f"w{i}-{k}".encode(), timeout=WAIT)
                client.retry(client.get, "/lab2", timeout=WAIT)
                t1 = time.monotonic()
                lock.release()
                with mu:
                    held.append((t0, t1, f"worker {i}"))
                faults.progress.release()
        except Exception as e:
            errors.append(f"worker {i}: {type(e).__name__}: {e}")

    c.client(timeout=10).ensure_path("/lab2")
    faults.start()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    done.set()
    faults.join(60)
    ctx.check(not errors, "; ".join(errors))
    ctx.check(faults.error is None, f"the grader's faults failed: {faults.error}")
    ctx.equal(len(held), 25, "critical sections completed")
    bad = overlaps(held)
    ctx.check(bad is None, f"two holders at once: {bad}")
    left = c.client(timeout=10).get_children("/lab2/lock")
    ctx.equal(left, [], "nodes left under the lock's path after every release")


@test("waiters watch only their predecessor (no herd effect)",
      hint="do not watch the lock's children: when the lock is released every waiter would "
           "wake up (the herd); watch the node just before yours with exists(path, watch=...)",
      part="lock")
def lock_no_herd(ctx: Context) -> None:
    r = recipes(ctx)
    c = ctx.cluster(nodes=3, broadcast="zab")
    holder = r.Lock(Counting(c.client(timeout=10)), "/lab2/herd")
    ctx.check(holder.acquire(timeout=WAIT), "the first contender did not get the free lock")
    waiters = []
    got: Dict[int, threading.Event] = {}
    for i in range(4):
        counting = Counting(c.client(timeout=10))
        lock = r.Lock(counting, "/lab2/herd")
        got[i] = threading.Event()
        waiters.append((lock, counting))

        def wait(i=i, lock=lock) -> None:
            try:
                if lock.acquire(timeout=60):
                    got[i].set()
            except Exception:  # the test's end closes the clients under waiting contenders
                pass
        threading.Thread(target=wait, daemon=True).start()
        # The next waiter queues only once this one is queued (a node and a watch).
        deadline = time.monotonic() + WAIT
        while not counting.watches and time.monotonic() < deadline:
            time.sleep(0.01)  # polling the grader's own record of the student's calls
        ctx.check(bool(counting.watches), f"waiter {i} set no watch while the lock is held")
    for i, (lock, counting) in enumerate(waiters):
        ctx.log(f"waiter {i} watches: {counting.watches}")
        for method, path in counting.watches:
            ctx.check(method != "get_children" and path.rstrip("/") != "/lab2/herd",
                      f"waiter {i} watches {method}({path!r}): every waiter wakes up when "
                      f"the lock's children change")
    holder.release()
    ctx.check(got[0].wait(WAIT), "the first waiter did not get the lock after the release")
    for i in range(1, 4):
        ctx.check(not got[i].is_set(), f"waiter {i} got the lock while waiter 0 holds it")
    for i in range(1, 4):
        waiters[i - 1][0].release()
        ctx.check(got[i].wait(WAIT), f"waiter {i} did not get the lock in its turn")


@test("a holder whose session expires loses the lock to the next waiter",
      hint="listen to the session (client.add_listener): on SessionState.LOST set `lost`; the "
           "ephemeral node is gone, so the next waiter's watch fires",
      part="lock")
def lock_expiry(ctx: Context) -> None:
    r = recipes(ctx)
    c = ctx.cluster(nodes=3, broadcast="zab")
    a_client = c.client(timeout=4)
    a = r.Lock(a_client, "/lab2/exp")
    b = r.Lock(c.client(timeout=10), "/lab2/exp")
    ctx.check(a.acquire(timeout=WAIT), "the first contender did not get the free lock")
    got = threading.Event()
    def wait_b() -> None:
        try:
            if b.acquire(timeout=60):
                got.set()
        except Exception:  # the test's end closes the clients
            pass
    threading.Thread(target=wait_b, daemon=True).start()
    ctx.check(not got.wait(0.5), "the second contender got the lock while the first held it")
    ctx.expire_session(c, a_client)
    ctx.check(a.lost.wait(WAIT), "the expired holder's `lost` event was not set")
    ctx.check(got.wait(WAIT), "the waiter did not get the lock after the holder's session "
                              "expired")


@test("acquire with a timeout gives up and leaves no node behind",
      hint="on timeout delete your own node before returning False",
      part="lock")
def lock_timeout(ctx: Context) -> None:
    r = recipes(ctx)
    c = ctx.cluster(nodes=3, broadcast="zab")
    a = r.Lock(c.client(timeout=10), "/lab2/to")
    b = r.Lock(c.client(timeout=10), "/lab2/to")
    ctx.check(a.acquire(timeout=WAIT), "the first contender did not get the free lock")
    ctx.check(b.acquire(timeout=0.5) is False, "acquire(timeout=0.5) on a held lock did not "
                                               "return False")
    left = c.client(timeout=10).get_children("/lab2/to")
    ctx.equal(len(left), 1, f"nodes under the lock's path (only the holder's): {left}")


@test("one leader at a time; leadership passes on resignation and on expiry",
      hint="an election is a lock nobody releases until resigning: the first node is the "
           "leader; leader() reads the first node's data",
      part="election")
def election(ctx: Context) -> None:
    r = recipes(ctx)
    c = ctx.cluster(nodes=3, broadcast="zab")
    reign: List[Tuple[float, float, str]] = []
    clients, elections, crowned = [], [], []
    for i in range(4):
        cl = c.client(timeout=4)
        clients.append(cl)
        e = r.Election(cl, "/lab2/election", f"cand-{i}")
        e.volunteer()
        elections.append(e)
        crowned.append(threading.Event())
    starts: Dict[int, float] = {}

    def campaign(i: int) -> None:
        try:
            if elections[i].wait_for_leadership(timeout=60):
                starts[i] = time.monotonic()
                crowned[i].set()
        except Exception:  # the test's end closes the clients under waiting candidates
            pass
    for i in range(4):
        threading.Thread(target=campaign, args=(i,), daemon=True).start()
    order = []
    for turn in range(4):
        deadline = time.monotonic() + WAIT
        leader = None
        while leader is None and time.monotonic() < deadline:
            leader = next((i for i in range(4) if crowned[i].is_set() and i not in order), None)
            if leader is None:
                time.sleep(0.01)  # polling the grader's own record
        ctx.check(leader is not None, f"no new leader after {order} led")
        name = elections[(leader + 1) % 4].leader() if len(order) < 3 else f"cand-{leader}"
        ctx.log(f"leader: cand-{leader}; leader() says {name}")
        ctx.equal(name, f"cand-{leader}", "leader() seen from another candidate")
        order.append(leader)
        if turn == 1:
            t = ctx.expire_session(c, clients[leader])
            ctx.check(elections[leader].lost.wait(WAIT), "the expired leader's `lost` event "
                                                         "was not set")
        else:
            t = time.monotonic()
            elections[leader].resign()
        reign.append((starts[leader], t, f"cand-{leader}"))
    bad = overlaps(reign)
    ctx.check(bad is None, f"two leaders at once: {bad}")
    ctx.equal(sorted(order), [0, 1, 2, 3], "every candidate led once")


@test("nobody leaves enter() before all entered, nor leave() before all left",
      hint="enter: create your node, then wait until `count` nodes exist (a 'ready' node set by "
           "the last to arrive helps late readers); leave: delete yours, wait until none is left",
      part="barrier")
def double_barrier(ctx: Context) -> None:
    r = recipes(ctx)
    c = ctx.cluster(nodes=3, broadcast="zab")
    n = 4
    calls: Dict[str, List[float]] = {"enter": [], "entered": [], "leave": [], "left": []}
    mu = threading.Lock()
    gate = [threading.Event() for _ in range(n)]
    errors: List[str] = []

    def note(what: str) -> None:
        with mu:
            calls[what].append(time.monotonic())

    def proc(i: int) -> None:
        try:
            b = r.DoubleBarrier(c.client(timeout=10), "/lab2/barrier", n, f"p{i}")
            gate[i].wait()
            note("enter")
            if not b.enter(timeout=60):
                errors.append(f"p{i}: enter timed out")
                return
            note("entered")
            note("leave")
            if not b.leave(timeout=60):
                errors.append(f"p{i}: leave timed out")
                return
            note("left")
        except Exception as e:
            errors.append(f"p{i}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=proc, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for i in range(n):  # arrivals one by one; a server crash between the second and third
        gate[i].set()
        if i == 1:
            victim = c.node_ids[ctx.seed % 3]
            ctx.log(f"kill -9 node {victim}, then restart it")
            c.kill(victim)
            c.restart(victim)
    for t in threads:
        t.join(120)
    ctx.check(not errors, "; ".join(errors))
    ctx.check(max(calls["enter"]) <= min(calls["entered"]),
              "a process passed enter() before the last process called it")
    ctx.check(max(calls["leave"]) <= min(calls["left"]),
              "a process passed leave() before the last process called it")


@test("two-phase commit: all yes commits, a no aborts, a missing vote aborts",
      hint="the coordinator waits for every vote under TXID/votes, decides, and records the "
           "decision in TXID/decision; participants wait for that node",
      part="2pc")
def two_phase(ctx: Context) -> None:
    r = recipes(ctx)
    c = ctx.cluster(nodes=3, broadcast="zab")
    for txid, votes, expected in (("t1", [True, True, True], "commit"),
                                  ("t2", [True, False, True], "abort"),
                                  ("t3", [True, True, None], "abort")):
        outcome: Dict[str, Any] = {}

        def part(name: str, vote: bool) -> None:
            outcome[name] = r.participate(c.client(timeout=10), "/lab2/2pc", txid, name, vote,
                                          timeout=30)
        names = [f"p{i}" for i in range(3)]
        threads = [threading.Thread(target=part, args=(nm, v), daemon=True)
                   for nm, v in zip(names, votes) if v is not None]
        for t in threads:
            t.start()
        decided = r.coordinate(c.client(timeout=10), "/lab2/2pc", txid, names, timeout=3)
        for t in threads:
            t.join(60)
        ctx.log(f"{txid}: votes {votes}, coordinator {decided}, participants {outcome}")
        ctx.equal(decided, expected, f"the coordinator's decision for {txid} (votes {votes})")
        for nm, got in outcome.items():
            ctx.equal(got, expected, f"participant {nm}'s outcome of {txid}")


@test("a replacement coordinator keeps the recorded decision",
      hint="before deciding, look for TXID/decision: a decision once recorded never changes "
           "(create it, and on NodeExistsError read the one that is there)",
      part="2pc")
def two_phase_recovery(ctx: Context) -> None:
    r = recipes(ctx)
    c = ctx.cluster(nodes=3, broadcast="zab")
    names = ["p0", "p1"]
    first_client = c.client(timeout=4)
    threads = [threading.Thread(target=r.participate, args=(c.client(timeout=10), "/lab2/2pc",
                                                            "t9", nm, True, 30), daemon=True)
               for nm in names]
    for t in threads:
        t.start()
    first = r.coordinate(first_client, "/lab2/2pc", "t9", names, timeout=10)
    ctx.equal(first, "commit", "the first coordinator's decision (every vote yes)")
    ctx.expire_session(c, first_client)
    # A late "no" must not change what was decided.
    late = c.client(timeout=10)
    late.ensure_path("/lab2/2pc/t9/votes")
    late.create("/lab2/2pc/t9/votes/p2", b"no")
    second = r.coordinate(c.client(timeout=10), "/lab2/2pc", "t9", names + ["p2"], timeout=3)
    ctx.equal(second, "commit", "a replacement coordinator's decision for an already decided "
                                "transaction")
