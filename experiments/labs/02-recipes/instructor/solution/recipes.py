"""Lab 2: coordination recipes on znodes (reference solution).

The recipes of the ZooKeeper paper (section 2.4) and ZooKeeper's recipes page: a lock without
the herd effect, leader election, a double barrier and a two-phase commit coordinator.
"""
from __future__ import annotations

import threading
import time
import uuid
from typing import Callable, Dict, List, Optional

from quorumlab import Client, SessionState
from quorumlab.exceptions import (ConnectionLossError, NodeExistsError, NoNodeError,
                                  SessionExpiredError)

SEQ_DIGITS = 10


def seq_of(name: str) -> int:
    return int(name[-SEQ_DIGITS:])


def retry(client: Client, fn: Callable, *args, **kwargs):
    """Calls fn again after a connection loss (the session lives on)."""
    while True:
        try:
            return fn(*args, **kwargs)
        except ConnectionLossError:
            client.wait_connected(1.0)


class LostError(Exception):
    """The session expired: whatever it held (a lock, leadership) is gone."""


class _Queue:
    """A place in a queue of ephemeral sequential nodes under `path`, and waiting until
    the node just before ours is gone (only that one is watched: no herd effect)."""

    def __init__(self, client: Client, path: str, prefix: str, data: bytes = b"") -> None:
        self.client = client
        self.path = path.rstrip("/")
        self.prefix = prefix
        self.data = data
        self.node: Optional[str] = None
        self.lost = threading.Event()
        self._guid = uuid.uuid4().hex[:12]
        client.add_listener(self._on_state)

    def _on_state(self, state: SessionState) -> None:
        if state == SessionState.LOST:
            self.lost.set()

    def _join(self) -> str:
        retry(self.client, self.client.ensure_path, self.path)
        name = f"{self.path}/{self._guid}-{self.prefix}"
        while True:
            try:
                return self.client.create(name, self.data, ephemeral=True, sequence=True)
            except ConnectionLossError:
                # The create may have happened: look for our guid before trying again.
                self.client.wait_connected(1.0)
                for c in retry(self.client, self.client.get_children, self.path):
                    if c.startswith(f"{self._guid}-"):
                        return f"{self.path}/{c}"

    def queue(self) -> List[str]:
        return sorted(retry(self.client, self.client.get_children, self.path), key=seq_of)

    def wait_first(self, timeout: Optional[float]) -> bool:
        """Waits until our node is the first; False after `timeout` (the node stays)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self.node is None:
            self.node = self._join()
        mine = self.node.rsplit("/", 1)[1]
        while True:
            if self.lost.is_set():
                self.node = None
                raise LostError("the session expired while waiting")
            try:
                children = self.queue()
            except SessionExpiredError:
                self.lost.set()
                continue
            if mine not in children:
                self.node = None
                self.lost.set()
                raise LostError(f"our node {mine} is gone (the session expired)")
            i = children.index(mine)
            if i == 0:
                return True
            woke = threading.Event()
            before = f"{self.path}/{children[i - 1]}"
            if retry(self.client, self.client.exists, before,
                     watch=lambda e: woke.set()) is None:
                continue
            while not woke.wait(0.2):  # also notice an expiry, which fires no watch
                if self.lost.is_set():
                    break
                if deadline is not None and time.monotonic() > deadline:
                    return False

    def leave(self) -> None:
        node, self.node = self.node, None
        if node is None:
            return
        try:
            retry(self.client, self.client.delete, node)
        except (NoNodeError, SessionExpiredError):
            pass


class Lock:
    """A lock without the herd effect: each contender creates an ephemeral sequential node
    under `path` and waits for the node just before its own to go. `lost` is set when the
    session expires (the lock is then no longer held)."""

    def __init__(self, client: Client, path: str) -> None:
        self._q = _Queue(client, path, "lock-")
        self.lost = self._q.lost

    def acquire(self, timeout: Optional[float] = None) -> bool:
        """Blocks until the lock is ours (True) or `timeout` seconds passed (False, and no
        node of ours is left behind). Raises LostError if the session expires meanwhile."""
        self.lost.clear()
        if self._q.wait_first(timeout):
            return True
        self._q.leave()
        return False

    def release(self) -> None:
        self._q.leave()


class Election:
    """Leader election: candidates queue like a lock; the first is the leader. `lost` is set
    when the session expires."""

    def __init__(self, client: Client, path: str, identifier: str) -> None:
        self._q = _Queue(client, path, "n-", identifier.encode())
        self.client = client
        self.lost = self._q.lost

    def volunteer(self) -> None:
        if self._q.node is None:
            self._q.node = self._q._join()

    def wait_for_leadership(self, timeout: Optional[float] = None) -> bool:
        self.volunteer()
        return self._q.wait_first(timeout)

    def leader(self) -> Optional[str]:
        """The current leader's identifier (None when there are no candidates)."""
        for c in self._q.queue():
            try:
                return retry(self.client, self.client.get, f"{self._q.path}/{c}")[0].decode()
            except NoNodeError:
                continue
        return None

    def resign(self) -> None:
        self._q.leave()


class DoubleBarrier:
    """A double barrier for `count` processes: enter() returns once all have entered; leave()
    once all have left (ZooKeeper's recipes page)."""

    def __init__(self, client: Client, path: str, count: int, identifier: str) -> None:
        self.client = client
        self.path = path.rstrip("/")
        self.count = count
        self.node = f"{self.path}/{identifier}"

    def _wait(self, done: Callable[[List[str]], bool], timeout: Optional[float]) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            woke = threading.Event()
            children = retry(self.client, self.client.get_children, self.path,
                             watch=lambda e: woke.set())
            if done([c for c in children if c != "ready"]):
                return True
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            woke.wait(left)

    def enter(self, timeout: Optional[float] = None) -> bool:
        retry(self.client, self.client.ensure_path, self.path)
        try:
            retry(self.client, self.client.create, self.node, ephemeral=True)
        except NodeExistsError:
            pass
        # "ready" marks that everyone arrived: a late reader that sees fewer children (some
        # already left) still passes.
        ready = f"{self.path}/ready"
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            woke = threading.Event()
            if retry(self.client, self.client.exists, ready, watch=lambda e: woke.set()):
                return True
            children = [c for c in retry(self.client, self.client.get_children, self.path)
                        if c != "ready"]
            if len(children) >= self.count:
                try:
                    retry(self.client, self.client.create, ready)
                except NodeExistsError:
                    pass
                return True
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            woke.wait(left)

    def leave(self, timeout: Optional[float] = None) -> bool:
        try:
            retry(self.client, self.client.delete, self.node)
        except NoNodeError:
            pass
        return self._wait(lambda children: not children, timeout)


def coordinate(client: Client, path: str, txid: str, participants: List[str],
               timeout: float) -> str:
    """Two-phase commit, the coordinator: waits up to `timeout` for every participant's vote
    under PATH/TXID/votes, decides "commit" (all voted yes) or "abort" (a no, or a vote
    missing at the timeout) and records the decision in PATH/TXID/decision. A coordinator
    that finds a decision already recorded (it is a replacement) returns that decision."""
    tx = f"{path.rstrip('/')}/{txid}"
    retry(client, client.ensure_path, f"{tx}/votes")
    decision_path = f"{tx}/decision"
    deadline = time.monotonic() + timeout
    while True:
        try:
            return retry(client, client.get, decision_path)[0].decode()
        except NoNodeError:
            pass
        woke = threading.Event()
        votes = retry(client, client.get_children, f"{tx}/votes", watch=lambda e: woke.set())
        values = {}
        for v in votes:
            try:
                values[v] = retry(client, client.get, f"{tx}/votes/{v}")[0].decode()
            except NoNodeError:
                pass
        decision = None
        if any(val == "no" for val in values.values()):
            decision = "abort"
        elif all(values.get(p) == "yes" for p in participants):
            decision = "commit"
        elif time.monotonic() >= deadline:
            decision = "abort"
        if decision is not None:
            try:
                retry(client, client.create, decision_path, decision.encode())
            except NodeExistsError:
                pass  # another coordinator decided first: that decision stands
            return retry(client, client.get, decision_path)[0].decode()
        woke.wait(max(0.0, min(0.5, deadline - time.monotonic())))


def participate(client: Client, path: str, txid: str, name: str, vote: bool,
                timeout: float) -> Optional[str]:
    """Two-phase commit, a participant: records its vote in PATH/TXID/votes/NAME (persistent:
    a vote must survive the participant's crash) and waits up to `timeout` for the decision.
    Returns "commit", "abort", or None when no decision came in time (2PC blocks)."""
    tx = f"{path.rstrip('/')}/{txid}"
    retry(client, client.ensure_path, f"{tx}/votes")
    try:
        retry(client, client.create, f"{tx}/votes/{name}", b"yes" if vote else b"no")
    except NodeExistsError:
        pass  # a retry after a connection loss, or a restart: the first vote stands
    deadline = time.monotonic() + timeout
    while True:
        woke = threading.Event()
        stat = retry(client, client.exists, f"{tx}/decision", watch=lambda e: woke.set())
        if stat is not None:
            return retry(client, client.get, f"{tx}/decision")[0].decode()
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        woke.wait(left)
