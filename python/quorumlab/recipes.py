"""Coordination recipes on :class:`quorumlab.Client`, as the ZooKeeper paper and docs teach them.

- :class:`Lock`: a mutex from ephemeral sequential nodes, each waiter watching its predecessor
  (no herd effect).
- :class:`ReadWriteLock` (``.read_lock`` / ``.write_lock``): shared/exclusive locks.
- :class:`Election`: leader election; the lowest candidate leads.
- :class:`Barrier` and :class:`DoubleBarrier`.
- :class:`Queue`: a distributed FIFO (priority) queue.
- :class:`Counter`: an atomic counter (compare-and-set on the node version), exact even when a
  connection loss hides whether a write applied.
- :class:`Group`: group membership (ephemeral member nodes).
- :class:`ReadyConfig`: the "ready znode" configuration pattern.
- :class:`TwoPhaseCommit` / :class:`TwoPhaseParticipant`: a two-phase-commit coordinator.

Every recipe survives the loss of its server (the client reconnects with its session; calls
that failed with ConnectionLossError are retried where that is safe, and writes whose outcome is
unknown are resolved by looking for the writer's own mark). A session that expires loses what
it held: a lock, a leadership, a membership; the recipes report it (``LockLostError``, the
listener states) instead of pretending.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .client import Client, SessionState, WatchedEvent
from .exceptions import (BadVersionError, ConnectionLossError, NodeExistsError, NoNodeError,
                         OperationTimeoutError, SessionExpiredError, ZooKeeperError)

_SEQ_DIGITS = 10


class LockLostError(ZooKeeperError):
    """The lock (or leadership) was lost: its session expired or its node was removed."""


class RecipeTimeout(TimeoutError):
    """A recipe's wait passed its timeout."""


# ------------------------------------------------------------------------------- helpers

class _Deadline:
    def __init__(self, timeout: Optional[float]) -> None:
        self.at = None if timeout is None else time.monotonic() + timeout

    def left(self) -> Optional[float]:
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    def passed(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at


def _retry(client: Client, fn: Callable[..., Any], *args: Any,
           deadline: Optional[_Deadline] = None, **kwargs: Any) -> Any:
    """Calls fn, retrying after a connection loss once the client is connected again. Only for
    calls that are safe to repeat (reads, deletes of one's own node, conditional writes)."""
    while True:
        try:
            return fn(*args, **kwargs)
        except (ConnectionLossError, OperationTimeoutError):
            if deadline is not None and deadline.passed():
                raise
            left = deadline.left() if deadline is not None else None
            client.wait_connected(min(left, 1.0) if left is not None else 1.0)


def _catch_up(client: Client, path: str) -> None:
    """sync_op on `path` (retried across connection losses): the server we talk to catches up
    with the leader. Needed before reading back the outcome of a write whose reply was lost:
    a write the old leader had proposed may commit in the new epoch, and a server that has not
    applied it yet would say it never happened."""
    _retry(client, client.sync, path)


def _seq(name: str) -> int:
    return int(name[-_SEQ_DIGITS:])


def _create_sequential(client: Client, prefix_path: str, value: bytes, ephemeral: bool,
                       guid: str, deadline: Optional[_Deadline] = None) -> str:
    """Creates `prefix_path` + sequence, where the prefix holds `guid`. After a connection
    loss the node may or may not exist: it is looked up by its guid before trying again."""
    parent, prefix = prefix_path.rsplit("/", 1)
    assert guid in prefix
    while True:
        try:
            return client.create(prefix_path, value, ephemeral=ephemeral, sequence=True)
        except (ConnectionLossError, OperationTimeoutError):
            client.wait_connected(1.0)
            _catch_up(client, parent)
            for child in _retry(client, client.get_children, parent, deadline=deadline):
                if child.startswith(prefix):
                    return parent + "/" + child
            if deadline is not None and deadline.passed():
                raise


def _delete_quietly(client: Client, path: str) -> None:
    try:
        _retry(client, client.delete, path)
    except (NoNodeError, SessionExpiredError):
        pass


class _Wakeup:
    """A watch callback that sets an event (re-usable per wait)."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, _event: WatchedEvent) -> None:
        self.event.set()


# ------------------------------------------------------------------------------ locks

class _SequentialWaiter:
    """The common part of locks and elections: a contender node, and waiting until no node
    that blocks ours remains."""

    prefix = "lock-"

    def __init__(self, client: Client, path: str, identifier: str = "") -> None:
        self.client = client
        self.path = path.rstrip("/")
        self.identifier = identifier
        self.node: Optional[str] = None
        self._guid = uuid.uuid4().hex
        self._mutex = threading.RLock()
        self._lost = threading.Event()
        client.add_listener(self._on_session)

    def _on_session(self, state: SessionState) -> None:
        if state is SessionState.LOST:
            self._lost.set()

    def _blocks(self, mine: str, other: str) -> bool:
        """True when node `other` (earlier than mine) keeps us waiting."""
        return True

    def _contenders(self) -> List[str]:
        names = _retry(self.client, self.client.get_children, self.path)
        return sorted((n for n in names if "-" in n and n[-_SEQ_DIGITS:].isdigit()), key=_seq)

    def _wait_turn(self, blocking: bool, timeout: Optional[float],
                   withdraw: bool = True) -> bool:
        deadline = _Deadline(timeout)
        self._lost.clear()
        if self.node is None:
            _retry(self.client, self.client.ensure_path, self.path)
            self.node = _create_sequential(
                self.client, f"{self.path}/{self._guid}-{self.prefix}",
                self.identifier.encode(), True, self._guid)
        mine = self.node.rsplit("/", 1)[1]
        while True:
            children = self._contenders()
            if mine not in children:
                self.node = None
                raise LockLostError(f"the contender node {self.path}/{mine} is gone "
                                    "(session expired?)")
            earlier = children[:children.index(mine)]
            blockers = [c for c in earlier if self._blocks(mine, c)]
            if not blockers:
                return True
            if not blocking or deadline.passed():
                if withdraw:
                    self._cancel()
                return False
            wake = _Wakeup()
            if _retry(self.client, self.client.exists, f"{self.path}/{blockers[-1]}",
                      watch=wake) is None:
                continue
            left = deadline.left()
            # Wake up on the predecessor's change, or now and then to notice a lost session.
            while not wake.event.wait(0.5 if left is None else min(left, 0.5)):
                if self._lost.is_set():
                    self.node = None
                    raise LockLostError("the session expired while waiting")
                left = deadline.left()
                if left is not None and left <= 0:
                    break

    def _cancel(self) -> None:
        if self.node is not None:
            _delete_quietly(self.client, self.node)
            self.node = None

    def contenders(self) -> List[str]:
        """The identifiers of the contenders, in queue order (the holder first)."""
        out = []
        for c in self._contenders():
            try:
                out.append(_retry(self.client, self.client.get, f"{self.path}/{c}")[0].decode())
            except NoNodeError:
                pass
        return out


class Lock(_SequentialWaiter):
    """A distributed mutex.

    >>> lock = Lock(zk, "/locks/db", identifier="worker-1")
    >>> with lock:            # or lock.acquire(timeout=5) / lock.release()
    ...     ...

    The lock is held while the session lives: when it expires the server removes the node and
    the next contender gets the lock; ``is_acquired`` turns False and ``lost`` is set.
    """

    prefix = "lock-"

    def __init__(self, client: Client, path: str, identifier: str = "") -> None:
        super().__init__(client, path, identifier)
        self.is_acquired = False

    @property
    def lost(self) -> threading.Event:
        """Set when the session that held (or waited for) the lock ended."""
        return self._lost

    def _on_session(self, state: SessionState) -> None:
        super()._on_session(state)
        if state is SessionState.LOST:
            self.is_acquired = False

    def acquire(self, blocking: bool = True, timeout: Optional[float] = None) -> bool:
        """Takes the lock; False when not blocking (or after `timeout`) and it is held."""
        with self._mutex:
            if self.is_acquired:
                return True
            ok = self._wait_turn(blocking, timeout)
            self.is_acquired = ok
            return ok

    def release(self) -> None:
        with self._mutex:
            self._cancel()
            self.is_acquired = False

    def __enter__(self) -> "Lock":
        if not self.acquire():
            raise RecipeTimeout("lock not acquired")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


class _ReadLock(Lock):
    prefix = "read-"

    def _blocks(self, mine: str, other: str) -> bool:
        return "-write-" in other  # readers share; any earlier writer blocks


class _WriteLock(Lock):
    prefix = "write-"


class ReadWriteLock:
    """Shared/exclusive locks on one path: many holders of ``read_lock`` at once, or one of
    ``write_lock``; waiters are served in arrival order."""

    def __init__(self, client: Client, path: str, identifier: str = "") -> None:
        self.read_lock: Lock = _ReadLock(client, path, identifier)
        self.write_lock: Lock = _WriteLock(client, path, identifier)


# --------------------------------------------------------------------------- election

class Election(_SequentialWaiter):
    """Leader election: every candidate volunteers; the lowest node leads, each other watches
    its predecessor (a candidate that dies hands over to the next one only).

    >>> e = Election(zk, "/election/service", identifier="node-a")
    >>> e.run(serve)          # blocks until elected, then calls serve(); resigns after
    """

    prefix = "candidate-"

    def volunteer(self) -> None:
        """Adds this candidate (idempotent) without waiting."""
        with self._mutex:
            if self.node is None:
                _retry(self.client, self.client.ensure_path, self.path)
                self.node = _create_sequential(
                    self.client, f"{self.path}/{self._guid}-{self.prefix}",
                    self.identifier.encode(), True, self._guid)

    def wait_for_leadership(self, timeout: Optional[float] = None) -> bool:
        """Blocks until this candidate leads (True) or `timeout` passes (False; it stays a
        candidate)."""
        self.volunteer()
        with self._mutex:
            return self._wait_turn(True, timeout, withdraw=False)  # stays in line on timeout

    @property
    def is_leader(self) -> bool:
        if self.node is None or self._lost.is_set():
            return False
        children = self._contenders()
        return bool(children) and children[0] == self.node.rsplit("/", 1)[1]

    def leader(self) -> Optional[str]:
        """The identifier of the current leader (None without candidates)."""
        ids = self.contenders()
        return ids[0] if ids else None

    def resign(self) -> None:
        with self._mutex:
            self._cancel()

    def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Waits for leadership, calls func, resigns."""
        self.wait_for_leadership()
        try:
            return func(*args, **kwargs)
        finally:
            self.resign()


# --------------------------------------------------------------------------- barriers

class Barrier:
    """A barrier: while the node exists, wait() blocks; remove() lets everyone through."""

    def __init__(self, client: Client, path: str) -> None:
        self.client, self.path = client, path

    def create(self) -> None:
        try:
            _retry(self.client, self.client.ensure_path, self.path.rsplit("/", 1)[0] or "/")
            _retry(self.client, self.client.create, self.path)
        except NodeExistsError:
            pass  # ours after a connection loss, or someone else's: the barrier is up

    def remove(self) -> bool:
        """Takes the barrier down; True once it is down (also when a delete whose reply was
        lost with the connection had removed it, or it was not up)."""
        _delete_quietly(self.client, self.path)
        return _retry(self.client, self.client.exists, self.path) is None

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Blocks until the barrier node is gone; False after `timeout`."""
        deadline = _Deadline(timeout)
        while True:
            wake = _Wakeup()
            if _retry(self.client, self.client.exists, self.path, watch=wake,
                      deadline=deadline) is None:
                return True
            left = deadline.left()
            if not wake.event.wait(left) and deadline.passed():
                return False


class DoubleBarrier:
    """Enter together, leave together: enter() blocks until `num_clients` have entered,
    leave() until every one of them has left."""

    def __init__(self, client: Client, path: str, num_clients: int,
                 identifier: Optional[str] = None) -> None:
        self.client, self.path, self.num_clients = client, path.rstrip("/"), num_clients
        self.name = identifier or uuid.uuid4().hex
        self.node = f"{self.path}/{self.name}"
        self.ready = f"{self.path}/ready"

    def enter(self, timeout: Optional[float] = None) -> bool:
        deadline = _Deadline(timeout)
        _retry(self.client, self.client.ensure_path, self.path)
        wake = _Wakeup()
        # Watch `ready` before joining, so its creation cannot be missed.
        _retry(self.client, self.client.exists, self.ready, watch=wake)
        try:
            _retry(self.client, self.client.create, self.node, ephemeral=True)
        except NodeExistsError:
            pass  # created before a connection loss
        while True:
            members = [c for c in _retry(self.client, self.client.get_children, self.path)
                       if c != "ready"]
            if len(members) >= self.num_clients:
                try:
                    _retry(self.client, self.client.create, self.ready)
                except NodeExistsError:
                    pass
                return True
            if _retry(self.client, self.client.exists, self.ready) is not None:
                return True
            if not wake.event.wait(deadline.left()) and deadline.passed():
                _delete_quietly(self.client, self.node)
                return False
            if _retry(self.client, self.client.exists, self.ready) is not None:
                return True
            wake = _Wakeup()
            _retry(self.client, self.client.exists, self.ready, watch=wake)

    def leave(self, timeout: Optional[float] = None) -> bool:
        deadline = _Deadline(timeout)
        _delete_quietly(self.client, self.node)
        while True:
            wake = _Wakeup()
            members = [c for c in _retry(self.client, self.client.get_children, self.path,
                                         watch=wake) if c != "ready"]
            if not members:
                _delete_quietly(self.client, self.ready)
                return True
            if not wake.event.wait(deadline.left()) and deadline.passed():
                return False


# ------------------------------------------------------------------------------ queue

class Queue:
    """A distributed FIFO queue with priorities (lower first, then arrival order).

    put() appends a persistent sequential node; get() takes the first entry with one multi
    that deletes it and records the taker under ``claims/`` (only one consumer's multi
    succeeds). After a connection loss the claim tells the consumer whether the entry is its
    own: no entry is lost or taken twice.
    """

    def __init__(self, client: Client, path: str) -> None:
        self.client, self.path = client, path.rstrip("/")
        self.claims = self.path + "/claims"
        self._guid = uuid.uuid4().hex
        _retry(client, client.ensure_path, self.claims)

    def put(self, value: bytes, priority: int = 100) -> str:
        if not 0 <= priority <= 999:
            raise ValueError("priority must be 0..999")
        guid = uuid.uuid4().hex
        return _create_sequential(self.client, f"{self.path}/entry-{priority:03d}-{guid}-",
                                  value, False, guid)

    def _entries(self, watch: Optional[Callable[[WatchedEvent], Any]] = None) -> List[str]:
        names = _retry(self.client, self.client.get_children, self.path, watch=watch)
        return sorted((n for n in names if n.startswith("entry-")), key=self._order)

    def __len__(self) -> int:
        return len(self._entries())

    @staticmethod
    def _order(name: str) -> Tuple[int, int]:
        return int(name[6:9]), _seq(name)

    def get(self, block: bool = True, timeout: Optional[float] = None) -> Optional[bytes]:
        """The first entry's value; None when empty and not blocking (or after `timeout`)."""
        deadline = _Deadline(timeout)
        while True:
            wake = _Wakeup()
            for name in self._entries(watch=wake):
                try:
                    value, stat = _retry(self.client, self.client.get, f"{self.path}/{name}")
                except NoNodeError:
                    continue  # another consumer took it
                if self._take(name, stat.version):
                    return value
            if not block or deadline.passed():
                return None
            wake.event.wait(deadline.left())

    def _take(self, name: str, version: int) -> bool:
        from .client import Op
        claim = f"{self.claims}/{name}"
        while True:
            try:
                self.client.multi(Op.delete(f"{self.path}/{name}", version),
                                  Op.create(claim, self._guid.encode()))
                break
            except (NoNodeError, BadVersionError, NodeExistsError):
                return False
            except (ConnectionLossError, OperationTimeoutError):
                self.client.wait_connected(5.0)
                _catch_up(self.client, self.claims)
                try:
                    owner = _retry(self.client, self.client.get, claim)[0]
                except NoNodeError:
                    continue  # the multi did not apply: try again
                if owner != self._guid.encode():
                    return False
                break
        _delete_quietly(self.client, claim)
        return True


# ---------------------------------------------------------------------------- counter

class Counter:
    """An atomic counter: compare-and-set on the node's version.

    The node holds JSON ``{"value": v, "marks": {writer: seq}}``: each writer stamps its own
    sequence number into the write, so after a connection loss it reads the node back and knows
    whether its write applied (no double counting, no lost increment).
    """

    def __init__(self, client: Client, path: str, default: int = 0) -> None:
        self.client, self.path, self.default = client, path, default
        self._writer = uuid.uuid4().hex[:16]
        self._seq = 0
        try:
            _retry(client, client.create, path, self._encode(default, {}), makepath=True)
        except NodeExistsError:
            pass

    @staticmethod
    def _encode(value: int, marks: Dict[str, int]) -> bytes:
        return json.dumps({"value": value, "marks": marks}).encode()

    @staticmethod
    def _decode(data: bytes) -> Tuple[int, Dict[str, int]]:
        d = json.loads(data.decode()) if data else {"value": 0, "marks": {}}
        return int(d["value"]), dict(d.get("marks", {}))

    @property
    def value(self) -> int:
        """The current value (after a sync_op, so not older than any completed add)."""
        _catch_up(self.client, self.path)
        return self._decode(_retry(self.client, self.client.get, self.path)[0])[0]

    def add(self, delta: int = 1) -> int:
        """Adds `delta` atomically; returns the new value."""
        self._seq += 1
        lost_reply = False
        while True:
            if lost_reply:
                _catch_up(self.client, self.path)
            data, stat = _retry(self.client, self.client.get, self.path)
            value, marks = self._decode(data)
            if marks.get(self._writer, 0) >= self._seq:
                return value  # our write applied before a connection loss hid the reply
            marks[self._writer] = self._seq
            new = value + delta
            try:
                self.client.set(self.path, self._encode(new, marks), version=stat.version)
                return new
            except BadVersionError:
                continue
            except (ConnectionLossError, OperationTimeoutError):
                self.client.wait_connected(5.0)
                lost_reply = True
                continue  # the (caught-up) read tells whether it applied

    def __iadd__(self, delta: int) -> "Counter":
        self.add(delta)
        return self

    def __isub__(self, delta: int) -> "Counter":
        self.add(-delta)
        return self


# ----------------------------------------------------------------------------- group

class Group:
    """Group membership: each member is an ephemeral node named after it, gone with its
    session. ``watch(callback)`` calls back with the member list on every change."""

    def __init__(self, client: Client, path: str, identifier: str,
                 data: bytes = b"") -> None:
        self.client, self.path = client, path.rstrip("/")
        self.identifier, self.data = identifier, data
        self.node = f"{self.path}/{identifier}"
        _retry(client, client.ensure_path, self.path)

    def join(self) -> None:
        try:
            _retry(self.client, self.client.create, self.node, self.data, ephemeral=True)
        except NodeExistsError:
            _catch_up(self.client, self.node)
            stat = _retry(self.client, self.client.exists, self.node)
            if stat is not None and stat.ephemeral_owner != self.client.session_id:
                raise

    def leave(self) -> None:
        _delete_quietly(self.client, self.node)

    def members(self) -> List[str]:
        return sorted(_retry(self.client, self.client.get_children, self.path))

    def watch(self, callback: Callable[[List[str]], Any]) -> Callable[[], None]:
        """Calls callback(members) now and after each change; returns a function to stop."""
        stopped = threading.Event()

        def rearm(_event: Optional[WatchedEvent] = None) -> None:
            if stopped.is_set() or self.client.closed:
                return
            try:
                names = self.client.get_children(self.path, watch=rearm)
            except ZooKeeperError:
                return
            callback(sorted(names))

        rearm()
        return stopped.set

    def __enter__(self) -> "Group":
        self.join()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.leave()


# ------------------------------------------------------------------------ ready znode

class ReadyConfig:
    """The "ready znode" pattern of the ZooKeeper paper (§2.3): the writer deletes ``ready``,
    changes the configuration nodes, then creates ``ready``; readers read the configuration
    only while ``ready`` exists, so they never act on half of a new configuration.

    The reader does not depend on when its watch callback runs (this client runs callbacks on
    their own thread, so a blocking read may return before the callback of a notification
    that arrived earlier): it reads ``ready``, the items, then ``ready`` again, and keeps the
    items only if the same ``ready`` (same czxid) is still there. A session's reads never go
    back in the history, so an item read that saw any change of a later publish is followed by
    a ``ready`` check that sees ``ready`` gone or re-created."""

    def __init__(self, client: Client, path: str) -> None:
        self.client, self.path = client, path.rstrip("/")
        self.ready = f"{self.path}/ready"
        self.items = f"{self.path}/items"
        _retry(client, client.ensure_path, self.items)

    def publish(self, config: Dict[str, bytes]) -> None:
        """Replaces the configuration (writer side)."""
        _delete_quietly(self.client, self.ready)
        old = set(_retry(self.client, self.client.get_children, self.items))
        for key, value in config.items():
            path = f"{self.items}/{key}"
            try:
                _retry(self.client, self.client.create, path, value)
            except NodeExistsError:
                _retry(self.client, self.client.set, path, value)
        for key in old - set(config):
            _delete_quietly(self.client, f"{self.items}/{key}")
        try:
            _retry(self.client, self.client.create, self.ready)
        except NodeExistsError:
            pass

    def read(self, timeout: Optional[float] = None) -> Dict[str, bytes]:
        """The configuration, once ready (blocks while a publish is under way)."""
        deadline = _Deadline(timeout)
        while True:
            before = _retry(self.client, self.client.exists, self.ready)
            if before is not None:
                out: Optional[Dict[str, bytes]] = {}
                for key in _retry(self.client, self.client.get_children, self.items):
                    try:
                        out[key] = _retry(self.client, self.client.get,
                                          f"{self.items}/{key}")[0]
                    except NoNodeError:
                        out = None  # a publish removed it meanwhile
                        break
                after = _retry(self.client, self.client.exists, self.ready)
                if out is not None and after is not None and after.czxid == before.czxid:
                    return out
                continue  # a publish began meanwhile: read again once it is ready
            # Not ready: a watch (armed only now, so readers in a loop do not pile up
            # watchers) wakes us when it appears.
            wake = _Wakeup()
            if _retry(self.client, self.client.exists, self.ready, watch=wake) is not None:
                continue
            if not wake.event.wait(deadline.left()) and deadline.passed():
                raise RecipeTimeout(f"{self.ready} did not appear")


# ----------------------------------------------------------------------- two-phase commit

class TwoPhaseCommit:
    """A two-phase-commit coordinator over znodes.

    ``begin(participants, payload)`` makes ``PATH/tx-N`` (the proposal) with ``votes`` under
    it; each :class:`TwoPhaseParticipant` votes ``commit`` or ``abort`` by creating
    ``votes/NAME``. ``decide(timeout)`` waits for every vote: all commit -> ``commit``; an
    abort vote, or a missing vote at the timeout -> ``abort``. The decision is written once
    (``decision``, created so it cannot change) and participants apply it.
    """

    def __init__(self, client: Client, path: str) -> None:
        self.client, self.path = client, path.rstrip("/")
        _retry(client, client.ensure_path, self.path)

    def begin(self, participants: Sequence[str], payload: bytes = b"") -> str:
        guid = uuid.uuid4().hex
        meta = json.dumps({"participants": list(participants)}).encode()
        tx = _create_sequential(self.client, f"{self.path}/tx-{guid}-", payload, False, guid)
        _retry(self.client, self.client.ensure_path, tx + "/votes")
        try:
            _retry(self.client, self.client.create, tx + "/participants", meta)
        except NodeExistsError:
            pass
        return tx

    def decide(self, tx: str, timeout: float) -> str:
        participants = json.loads(_retry(self.client, self.client.get,
                                         tx + "/participants")[0])["participants"]
        deadline = _Deadline(timeout)
        outcome = None
        while outcome is None:
            wake = _Wakeup()
            votes = _retry(self.client, self.client.get_children, tx + "/votes", watch=wake)
            values = {}
            for name in votes:
                try:
                    values[name] = _retry(self.client, self.client.get, f"{tx}/votes/{name}")[0]
                except NoNodeError:
                    pass
            if any(v == b"abort" for v in values.values()):
                outcome = "abort"
            elif all(values.get(p) == b"commit" for p in participants):
                outcome = "commit"
            elif not wake.event.wait(deadline.left()) and deadline.passed():
                outcome = "abort"
        try:
            _retry(self.client, self.client.create, tx + "/decision", outcome.encode())
        except NodeExistsError:
            pass  # decided already (by us before a connection loss): the first decision holds
        return _retry(self.client, self.client.get, tx + "/decision")[0].decode()


class TwoPhaseParticipant:
    """One participant: ``vote(tx, ok)`` then ``outcome(tx, timeout)``."""

    def __init__(self, client: Client, name: str) -> None:
        self.client, self.name = client, name

    def transactions(self, path: str) -> List[str]:
        return [f"{path.rstrip('/')}/{c}" for c in sorted(
            _retry(self.client, self.client.get_children, path), key=_seq)]

    def vote(self, tx: str, commit: bool) -> None:
        try:
            _retry(self.client, self.client.create, f"{tx}/votes/{self.name}",
                   b"commit" if commit else b"abort")
        except NodeExistsError:
            pass  # our vote, before a connection loss

    def outcome(self, tx: str, timeout: Optional[float] = None) -> str:
        deadline = _Deadline(timeout)
        while True:
            wake = _Wakeup()
            stat = _retry(self.client, self.client.exists, tx + "/decision", watch=wake)
            if stat is not None:
                return _retry(self.client, self.client.get, tx + "/decision")[0].decode()
            if not wake.event.wait(deadline.left()) and deadline.passed():
                raise RecipeTimeout(f"no decision for {tx}")


__all__ = ["Lock", "ReadWriteLock", "Election", "Barrier", "DoubleBarrier", "Queue", "Counter",
           "Group", "ReadyConfig", "TwoPhaseCommit", "TwoPhaseParticipant", "LockLostError",
           "RecipeTimeout"]
