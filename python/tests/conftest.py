"""Fixtures: real clusters of `qlab server` processes on loopback (ports chosen at run time).

Tests wait on conditions (events, futures, watches, session-state listeners), never on
sleeps or polling."""
from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from typing import Callable

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import quorumlab  # noqa: E402


def wait_watched(client: "quorumlab.Client", check: Callable[[Callable[..., object]], object],
                 timeout: float = 20.0, what: str = "condition") -> object:
    """Waits for a condition on the tree without polling: ``check(watch)`` reads what the
    condition is about with ``watch`` set on it (``exists(p, watch=watch)``, ...) and returns
    a true value when it holds. It is evaluated again only when that watch fires or the
    session state of `client` changes; fails the test after `timeout` s.
    A connection loss inside `check` (a server stalled on a loaded machine; the client
    reconnects with its session) counts as "not yet": the next evaluation waits until the
    session is connected again."""
    deadline = time.monotonic() + timeout
    while True:
        fired = threading.Event()
        on_state = lambda _state: fired.set()  # noqa: E731
        client.add_listener(on_state)
        try:
            value = check(lambda *_: fired.set())
            lost = None
        except quorumlab.exceptions.ConnectionLossError as e:
            value, lost = None, e
        finally:
            client.remove_listener(on_state)
        if value:
            return value
        left = deadline - time.monotonic()
        if lost is not None:
            # no watch was set: wait for the reconnection instead
            if not client.wait_connected(max(left, 0)):
                raise AssertionError(f"timed out after {timeout} s waiting for {what} "
                                     f"(connection lost: {lost})")
            continue
        if left <= 0 or not fired.wait(left):
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Events:
    """Collects callback arguments; wait(n) blocks until n arrived (no sleeps)."""

    def __init__(self) -> None:
        self.items: list = []
        self._cond = threading.Condition()

    def __call__(self, item: object) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait(self, n: int = 1, timeout: float = 20.0) -> list:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.items) >= n, timeout):
                raise AssertionError(f"got {len(self.items)} of {n} events: {self.items}")
            return list(self.items)

    def wait_for(self, predicate: Callable[[list], object], timeout: float = 20.0,
                 what: str = "condition") -> list:
        """Blocks until ``predicate(items)`` holds, evaluated on each arrival."""
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.items), timeout):
                raise AssertionError(f"timed out after {timeout} s waiting for {what}; "
                                     f"got {self.items}")
            return list(self.items)


# Servers of the shared test clusters: 1 s sessions allowed (expiry tests wait less), and a
# zab follower may stall 1 s (not 300 ms) before it leaves the quorum and drops its clients:
# these suites test the package, and a loaded 2-core CI machine stalls processes that long.
STALL_TOLERANT = {"min_session_timeout_ms": 1000, "broadcast.sync_limit_ticks": 100}


@pytest.fixture(scope="session")
def cluster():
    """One 3-node zab cluster (memory storage) shared by the client tests; its servers accept
    1 s sessions, so a session expiry takes a second."""
    with quorumlab.Cluster(nodes=3, broadcast="zab", storage="memory",
                           params=STALL_TOLERANT) as c:
        yield c


@pytest.fixture
def zk(cluster):
    """A client of the shared cluster with a fresh root node for the test."""
    client = cluster.client()
    root = "/t-" + uuid.uuid4().hex[:12]
    client.create(root)
    client.root = root
    yield client
    if not client.closed:
        client.close()
