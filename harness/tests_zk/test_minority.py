"""A server cut off from its quorum lets its clients go (issue 18), checked with kazoo against a
3-node `qlab cluster`: a client with an ephemeral node and a lock (kazoo's Lock recipe) on a
follower; both other servers are stopped (`qlab cluster pause`, SIGSTOP), which cuts that
follower off from any quorum. The client must see SUSPENDED within its session timeout's
disconnect window (the follower closes its connection when it loses its leader, and refuses
connections until it rejoins); once the others resume it reconnects, and its session either
survives with its ephemeral node and lock, or is reported expired (LOST) with both gone, never
a mix. A second client waiting for the lock on another server gets it only after the holder
saw SUSPENDED. Every wait is on a client state or a recipe with a deadline, never a sleep."""
import threading
import time

from kazoo.protocol.states import KazooState

from conftest import kazoo_client

SESSION_TIMEOUT_S = 4.0
# Reconnect quickly: while the cut lasts every server refuses or ignores the client, and
# kazoo's default back-off (doubling up to a minute) would leave it waiting long after.
FAST_RETRY = {"max_tries": -1, "delay": 0.05, "backoff": 1.5, "max_delay": 0.5}


class States:
    """Every state change of a kazoo client, with its time and the session id at that moment."""

    def __init__(self, client):
        self.client = client
        self.cond = threading.Condition()
        self.events = []  # (monotonic time, state, session id)
        client.add_listener(self._on_state)

    def _on_state(self, state):
        with self.cond:
            self.events.append((time.monotonic(), state, self.client._session_id))
            self.cond.notify_all()
        return False

    def mark(self):
        """The position of the next event, for wait(start=...)."""
        with self.cond:
            return len(self.events)

    def wait(self, pred, timeout_s, start=None):
        """The first event from position `start` (default: the next one) for which pred(event)
        holds, or None at the deadline."""
        deadline = time.monotonic() + timeout_s
        with self.cond:
            if start is None:
                start = len(self.events)
            while True:
                for e in self.events[start:]:
                    if pred(e):
                        return e
                start = len(self.events)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.cond.wait(remaining)

    def since(self, t):
        with self.cond:
            return [e for e in self.events if e[0] >= t]


def settled(cluster, timeout_s=60):
    """Waits (polling `qlab cluster status`, deadline) for one leader and two followers: a test
    before may have left an election under way."""
    deadline = time.monotonic() + timeout_s
    while True:
        nodes = cluster.status()
        roles = sorted(n["role"] for n in nodes)
        if roles == ["follower", "follower", "leader"]:
            leader = next(n["id"] for n in nodes if n["role"] == "leader")
            return leader, sorted(n["id"] for n in nodes if n["role"] == "follower")
        assert time.monotonic() < deadline, nodes


def peer_port(client):
    sock = getattr(client._connection, "_socket", None)
    return sock.getpeername()[1] if sock is not None else None


def test_a_follower_cut_off_lets_its_client_go_and_the_lock_passes_only_after(cluster):
    leader, (cut, other) = settled(cluster)
    majority = [leader, other]

    # The holder: on `cut` first (randomize_hosts off), every server in its connect string.
    holder = kazoo_client(",".join([cluster.zk_address(cut)] +
                                   [cluster.zk_address(i) for i in majority]),
                          timeout=SESSION_TIMEOUT_S, randomize_hosts=False,
                          connection_retry=FAST_RETRY)
    # The waiter: a long session on the other follower, so it outlives the cut.
    waiter = kazoo_client(",".join(cluster.zk_address(i) for i in [other, leader]),
                          timeout=30.0, randomize_hosts=False, connection_retry=FAST_RETRY)
    paused = []
    try:
        assert peer_port(holder) in (None, cluster.node(cut)["zk_port"])
        holder.ensure_path("/minority")
        eph = holder.create("/minority/eph", b"holder", ephemeral=True)
        holder_session = holder.client_id[0]
        holder_lock = holder.Lock("/minority/lock", "holder")
        assert holder_lock.acquire(timeout=10)
        states = States(holder)

        acquired = threading.Event()
        acquired_at = []
        waiter_lock = waiter.Lock("/minority/lock", "waiter")

        def take():
            if waiter_lock.acquire(timeout=60):
                acquired_at.append(time.monotonic())
                acquired.set()

        taker = threading.Thread(target=take, daemon=True)
        taker.start()
        # The waiter's lock node is queued behind the holder's before the cut.
        deadline = time.monotonic() + 10
        while len(holder_lock.contenders()) < 2:
            assert time.monotonic() < deadline, holder_lock.contenders()
            holder.sync("/minority/lock")
        assert holder_lock.contenders() == ["holder", "waiter"]

        cut_at = time.monotonic()
        cut_mark = states.mark()
        for i in majority:
            cluster.run("pause", str(i))
            paused.append(i)

        # SUSPENDED within the disconnect window: kazoo itself would declare the connection
        # dead after 2/3 of the session timeout without an answer; the cut-off follower closes
        # it as soon as it notices it lost its leader (zab syncLimit, 300 ms by default).
        suspended = states.wait(lambda e: e[1] == KazooState.SUSPENDED, SESSION_TIMEOUT_S,
                                start=cut_mark)
        assert suspended is not None, "no SUSPENDED; states: %s" % states.since(cut_at)
        assert suspended[0] - cut_at < SESSION_TIMEOUT_S * 2 / 3
        assert not acquired.is_set()

        # The cut lasts longer than the session timeout: the holder stays SUSPENDED all along
        # (the cut-off follower neither serves it nor can expire it).
        changed = states.wait(lambda e: e[1] != KazooState.SUSPENDED, SESSION_TIMEOUT_S * 1.5,
                              start=cut_mark)
        assert changed is None, "state changed while cut off: %s" % (changed,)

        resume_mark = states.mark()
        for i in list(paused):
            cluster.run("resume", str(i))
            paused.remove(i)

        # Back: the session survived (CONNECTED with the same session id) or it expired (LOST).
        back = states.wait(lambda e: e[1] == KazooState.LOST or
                           (e[1] == KazooState.CONNECTED and e[2] == holder_session), 60,
                           start=resume_mark)
        assert back is not None, "neither reconnected nor lost: %s" % states.since(cut_at)

        print("holder after the cut: %s; states %s" % (back[1], states.since(cut_at)))
        if back[1] == KazooState.CONNECTED:
            # Survived: its ephemeral node and its lock are there, and nobody took the lock.
            assert holder.exists(eph).ephemeralOwner == holder_session
            assert waiter.retry(waiter.exists, eph).ephemeralOwner == holder_session
            assert not acquired.is_set()
            assert holder_lock.contenders()[0] == "holder"
            assert not any(e[1] == KazooState.LOST for e in states.since(cut_at))
            holder_lock.release()
            assert acquired.wait(30), "the waiter did not get the released lock"
        else:
            # Expired: the ephemeral node went with the session, the lock passed to the waiter,
            # and the holder saw SUSPENDED before the waiter could take it.
            assert acquired.wait(30), "the lock of an expired session did not pass"
            assert suspended[0] < acquired_at[0]
            waiter.sync("/minority")
            assert waiter.exists(eph) is None
            assert not any(e[1] == KazooState.CONNECTED and e[2] == holder_session
                           for e in states.since(cut_at))
        waiter_lock.release()
        taker.join(10)
    finally:
        for i in paused:
            cluster.run("resume", str(i))
        for c in (holder, waiter):
            c.stop()
            c.close()


def test_clients_of_a_cut_off_follower_reconnect_to_the_majority_and_keep_their_session(
        cluster):
    """A short cut: the holder's follower loses its leader and drops it, the holder cannot
    reconnect anywhere while the others are stopped, and once they resume it reconnects and its
    session, ephemeral node included, is intact (the cut was shorter than the session)."""
    leader, (cut, other) = settled(cluster)
    client = kazoo_client(",".join(cluster.zk_address(i) for i in [cut, leader, other]),
                          timeout=10.0, randomize_hosts=False, connection_retry=FAST_RETRY)
    paused = []
    try:
        session = client.client_id[0]
        eph = client.create("/minority/short-", b"x", ephemeral=True, sequence=True,
                            makepath=True)
        states = States(client)
        cut_at = time.monotonic()
        cut_mark = states.mark()
        for i in (leader, other):
            cluster.run("pause", str(i))
            paused.append(i)
        suspended = states.wait(lambda e: e[1] == KazooState.SUSPENDED, 10.0 * 2 / 3,
                                start=cut_mark)
        assert suspended is not None, states.since(cut_at)
        resume_mark = states.mark()
        for i in list(paused):
            cluster.run("resume", str(i))
            paused.remove(i)
        back = states.wait(lambda e: e[1] in (KazooState.CONNECTED, KazooState.LOST), 60,
                           start=resume_mark)
        assert back is not None and back[1] == KazooState.CONNECTED, states.since(cut_at)
        assert back[2] == session
        assert client.exists(eph).ephemeralOwner == session
    finally:
        for i in paused:
            cluster.run("resume", str(i))
        client.stop()
        client.close()
