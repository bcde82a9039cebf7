"""Fixtures: real clusters of `qlab server` processes on loopback (ports chosen at run time).

Tests wait on conditions (events, futures, or `wait_until` polling with a deadline), never
on sleeps."""
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


def wait_until(predicate: Callable[[], object], timeout: float = 20.0,
               what: str = "condition") -> object:
    """Polls `predicate` until it returns a true value; fails the test after `timeout` s.
    A connection loss inside the predicate (a server stalled on a loaded machine; the client
    reconnects with its session) counts as "not yet"."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except quorumlab.exceptions.ConnectionLossError:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)  # a polling interval, not a synchronisation


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
