"""Lab 1's autograder: a real 3-node zab cluster per test, the student's code as a client.

Changes are made in lockstep (the next one only after the student's callback reported the
previous one), so every change must be reported exactly once and in order; between changes the
grader kills the student's server, expires the student's session, or both. The seed chooses
the member names, the order of the changes and where the faults fall.
"""
from __future__ import annotations

import queue
import random
import threading
from typing import Any, Callable, Dict, List

from quorumlab import Client, SessionState
from quorumlab.lab import Context, Failed, test

WAIT = 20.0  # seconds allowed for one callback (reconnections and re-elections included)


class Clients:
    """The `connect` factory the student's watcher gets: remembers every client it made."""

    def __init__(self, ctx: Context, cluster: Any) -> None:
        self.cluster = cluster
        self.made: List[Client] = []
        ctx.defer(self.close_all)

    def __call__(self) -> Client:
        c = Client(self.cluster.connect_string, timeout=4.0)
        self.made.append(c)
        return c

    @property
    def current(self) -> Client:
        if not self.made:
            raise Failed("the watcher never called connect()")
        return self.made[-1]

    def close_all(self) -> None:
        for c in self.made:
            c.close()


class Reports:
    """What the student's callback reported, in order, and a way to wait for the next one."""

    def __init__(self) -> None:
        self.items: List[Any] = []
        self._q: "queue.Queue[Any]" = queue.Queue()

    def __call__(self, *args: Any) -> None:
        item = args[0] if len(args) == 1 else args
        self.items.append(item)
        self._q.put(item)

    def next(self, what: str) -> Any:
        try:
            return self._q.get(timeout=WAIT)
        except queue.Empty:
            raise Failed(f"no callback within {WAIT:.0f} s while waiting for {what} "
                         f"(reported so far: {self.items})") from None

    def expect(self, expected: Any, what: str) -> None:
        got = self.next(what)
        if got != expected:
            raise Failed(f"after {what} the callback reported {got!r}, expected {expected!r} "
                         f"(all reports: {self.items})")

    def quiet(self, what: str) -> None:
        """No further report (a duplicate) arrives while the cluster does a write round trip:
        the grader writes a marker through another client and reads it back, twice."""
        try:
            extra = self._q.get_nowait()
        except queue.Empty:
            return
        raise Failed(f"an extra report {extra!r} after {what}: every change must be reported "
                     f"exactly once (all reports: {self.items})")


def node_of(cluster: Any, client: Client) -> int:
    server = client.current_server
    for n in cluster.node_ids:
        if cluster.node_connect_string(n) == server:
            return n
    raise Failed(f"the student's client is connected to {server!r}, not a node of the cluster")


def kill_and_restart(ctx: Context, cluster: Any, clients: Clients) -> Callable[[], None]:
    """Kills the node the student's client uses; returns what restarts it."""
    n = node_of(cluster, clients.current)
    ctx.log(f"kill -9 node {n} (the student's server)")
    cluster.kill(n)

    def restart() -> None:
        ctx.log(f"restart node {n}")
        cluster.restart(n)
    return restart


def expire(ctx: Context, cluster: Any, client: Client) -> None:
    """Expires `client`'s session (Context.expire_session) and waits until its client saw
    LOST."""
    lost = threading.Event()
    client.add_listener(lambda s: lost.set() if s == SessionState.LOST else None)
    ctx.expire_session(cluster, client)
    if not lost.wait(WAIT):
        raise Failed(f"session {client.client_id[0]:#x} was closed by the grader but its client "
                     f"never saw LOST")


def sync_round(admin: Client) -> None:
    """A write and a sync through the grader's client: by the time it returns, a duplicate
    report caused by anything before it would have been made (the student's client gets
    notifications in zxid order)."""
    admin.ensure_path("/grader")
    admin.set("/grader", b"tick")
    admin.sync("/")


def membership(ctx: Context):
    return ctx.import_student("membership")


def start_watcher(ctx: Context, cls: Any, clients: Clients, path: str, reports: Reports) -> Any:
    w = cls(clients, path, reports)
    w.start()
    ctx.defer(w.stop)
    return w


def membership_script(ctx: Context, faults: List[str]) -> None:
    m = membership(ctx)
    c = ctx.cluster(nodes=3, broadcast="zab")
    admin = c.client(timeout=10)
    clients = Clients(ctx, c)
    reports = Reports()
    rng = random.Random(ctx.seed)
    group = "/lab1/group"
    admin.ensure_path(group)
    start_watcher(ctx, m.MembershipWatcher, clients, group, reports)
    reports.expect([], "the start (an empty group)")
    members: Dict[str, Any] = {}
    names = [f"m{i}-{rng.randrange(1000)}" for i in range(8)]
    steps = ["join"] * 5 + ["leave"] * 3
    rng.shuffle(steps)
    steps = ["join", "join"] + steps
    fault_at = {i: f for i, f in zip(rng.sample(range(2, len(steps)), len(faults)), faults)}
    pending_restart = None
    for i, step in enumerate(steps):
        if i in fault_at:
            if pending_restart:
                pending_restart()
                pending_restart = None
            if fault_at[i] == "kill":
                pending_restart = kill_and_restart(ctx, c, clients)
            else:
                expire(ctx, c, clients.current)
        if step == "join" or not members:
            name = names.pop()
            mc = c.client(timeout=10)
            gm = m.GroupMember(mc, group, name, b"hello")
            mc.retry(gm.join, timeout=WAIT)  # a server may be down: the grader's side retries
            members[name] = gm
            what = f"{name} joined"
        else:
            name = rng.choice(sorted(members))
            gm = members.pop(name)
            gm.client.retry(gm.leave, timeout=WAIT)
            what = f"{name} left"
        ctx.log(what)
        reports.expect(sorted(members), what)
    if pending_restart:
        pending_restart()
    admin.retry(sync_round, admin, timeout=WAIT)
    reports.quiet("the last change")


@test("joins and leaves are reported once each, in order",
      hint="read the children with a watch, and after the watch fires read again with a new "
           "watch (a watch fires only once); report only when the list changed",
      part="A")
def membership_plain(ctx: Context) -> None:
    membership_script(ctx, [])


@test("a member joins with an ephemeral znode; joining again and leaving twice are harmless",
      hint="create(path, data, ephemeral=True); a second join with the same session must not "
           "fail (check stat.ephemeral_owner); leave ignores NoNodeError",
      part="A")
def member_idempotent(ctx: Context) -> None:
    m = membership(ctx)
    c = ctx.cluster(nodes=3, broadcast="zab")
    a = c.client(timeout=10)
    gm = m.GroupMember(a, "/lab1/g2", "alice", b"data-a")
    gm.join()
    gm.join()
    data, stat = a.get("/lab1/g2/alice")
    ctx.equal(data, b"data-a", "the member's data")
    ctx.check(stat.ephemeral_owner == a.session_id,
              "the member's znode is not ephemeral (owned by the member's session)")
    other = m.GroupMember(c.client(timeout=10), "/lab1/g2", "alice")
    try:
        other.join()
    except Exception as e:  # NodeExistsError expected
        ctx.check(type(e).__name__ == "NodeExistsError",
                  f"a second session joining as 'alice' raised {type(e).__name__}, expected "
                  f"NodeExistsError")
    else:
        raise Failed("a second session joined as 'alice' while alice's session is alive")
    gm.leave()
    gm.leave()
    ctx.check(a.exists("/lab1/g2/alice") is None, "alice's znode is still there after leave()")


@test("the watcher keeps reporting when its server is killed",
      hint="after a connection loss the client reconnects to another server with the same "
           "session and the watches stay; retry the calls that failed with ConnectionLoss",
      part="A")
def membership_kill(ctx: Context) -> None:
    membership_script(ctx, ["kill", "kill"])


@test("the watcher survives the expiry of its session",
      hint="on SessionState.LOST the session and its watches are gone: make a new client with "
           "connect(), read the children again (with a watch) and report only if they changed",
      part="A")
def membership_expiry(ctx: Context) -> None:
    membership_script(ctx, ["expire", "kill", "expire"])


@test("a member whose session expires leaves the group",
      hint="the member's znode must be ephemeral: it goes with its session",
      part="A")
def member_expiry(ctx: Context) -> None:
    m = membership(ctx)
    c = ctx.cluster(nodes=3, broadcast="zab")
    clients = Clients(ctx, c)
    reports = Reports()
    c.client(timeout=10).ensure_path("/lab1/g3")
    start_watcher(ctx, m.MembershipWatcher, clients, "/lab1/g3", reports)
    reports.expect([], "the start")
    bob_client = c.client(timeout=4)
    m.GroupMember(bob_client, "/lab1/g3", "bob").join()
    reports.expect(["bob"], "bob joined")
    expire(ctx, c, bob_client)
    reports.expect([], "bob's session expired")


# ---- part B: the ready znode -------------------------------------------------------------

def config_of(version: int, keys: int = 3) -> Dict[str, bytes]:
    return {f"k{i}": f"v{version}".encode() for i in range(keys)}


def torn(version: int, config: Dict[str, bytes], keys: int = 3) -> bool:
    return config != config_of(version, keys)


@test("publish deletes ready first, writes every key, then creates ready",
      hint="the order is the whole pattern: a reader must never see ready with only part of "
           "the new configuration written",
      part="B")
def publish_order(ctx: Context) -> None:
    cw = ctx.import_student("config_watcher")
    c = ctx.cluster(nodes=3, broadcast="zab")
    a = c.client(timeout=10)
    cw.publish(a, "/lab1/cfg", config_of(1), 1)
    ctx.equal(a.get("/lab1/cfg/ready")[0], b"1", "ready's data after publishing version 1")
    for k, v in config_of(1).items():
        ctx.equal(a.get(f"/lab1/cfg/{k}")[0], v, f"key {k} of version 1")
    # A spy session watches ready and every key; notifications come in zxid order.
    spy = c.client(timeout=10)
    events: "queue.Queue[str]" = queue.Queue()
    spy.exists("/lab1/cfg/ready", watch=lambda e: events.put(f"ready {e.type.name}"))
    for k in config_of(1):
        spy.get(f"/lab1/cfg/{k}", watch=lambda e, k=k: events.put(f"{k} {e.type.name}"))
    cw.publish(a, "/lab1/cfg", config_of(2), 2)
    order = []
    for _ in range(4):
        try:
            order.append(events.get(timeout=WAIT))
        except queue.Empty:
            raise Failed(f"publishing version 2 changed only {order}: every key and ready "
                         f"must change") from None
    ctx.log(f"notifications: {order}")
    ctx.check(order[0] == "ready DELETED",
              f"the first change of version 2 was '{order[0]}', not the deletion of ready "
              f"(all: {order})")
    ctx.equal(a.get("/lab1/cfg/ready")[0], b"2", "ready's data after publishing version 2")


@test("the watcher never reports a half-written configuration",
      hint="a publication may start while you read the keys: check that ready is still the "
           "same znode (same czxid) after reading them, else read again",
      part="B")
def config_never_torn(ctx: Context) -> None:
    cw = ctx.import_student("config_watcher")
    c = ctx.cluster(nodes=3, broadcast="zab")
    publisher = c.client(timeout=10)
    clients = Clients(ctx, c)
    reports = Reports()
    cw.publish(publisher, "/lab1/cfg", config_of(1), 1)
    start_watcher(ctx, cw.ConfigWatcher, clients, "/lab1/cfg", reports)
    last = 30
    for v in range(2, last + 1):  # as fast as they go, not in lockstep
        cw.publish(publisher, "/lab1/cfg", config_of(v), v)
    seen: List[int] = []
    while not seen or seen[-1] != last:
        version, config = reports.next(f"version {last}")
        ctx.check(not torn(version, config),
                  f"reported version {version} with {config}: not one configuration")
        if seen and version <= seen[-1]:
            raise Failed(f"reported version {version} after version {seen[-1]}")
        seen.append(version)
    ctx.log(f"versions reported: {seen}")


@test("every configuration is reported once, in order, across crashes and expiries",
      hint="after SessionState.LOST make a new client and read again; report a version only "
           "if it is newer than the last one you reported",
      part="B")
def config_lockstep_faults(ctx: Context) -> None:
    cw = ctx.import_student("config_watcher")
    c = ctx.cluster(nodes=3, broadcast="zab")
    publisher = c.client(timeout=10)
    clients = Clients(ctx, c)
    reports = Reports()
    rng = random.Random(ctx.seed)
    cw.publish(publisher, "/lab1/cfg", config_of(1), 1)
    start_watcher(ctx, cw.ConfigWatcher, clients, "/lab1/cfg", reports)
    reports.expect((1, config_of(1)), "the start (version 1 published)")
    faults = ["kill", "expire", "kill", "expire"]
    rng.shuffle(faults)
    restart = None
    for v in range(2, 10):
        if faults and v % 2 == 0:
            f = faults.pop()
            if restart:
                restart()
                restart = None
            if f == "kill":
                restart = kill_and_restart(ctx, c, clients)
            else:
                expire(ctx, c, clients.current)
        publisher.retry(cw.publish, publisher, "/lab1/cfg", config_of(v), v, timeout=WAIT)
        ctx.log(f"published version {v}")
        reports.expect((v, config_of(v)), f"publishing version {v}")
    if restart:
        restart()
    publisher.retry(sync_round, publisher, timeout=WAIT)
    reports.quiet("the last version")
