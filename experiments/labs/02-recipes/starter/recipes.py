"""Lab 2: coordination recipes on znodes.

Fill in the parts marked TODO; keep the names and signatures (the grader calls them), and
do not use quorumlab.recipes. Check your work with:  python3 -m quorumlab.lab check recipes

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



class Lock:
    """A lock without the herd effect: each contender creates an ephemeral sequential node
    under `path` and waits for the node just before its own to go. `lost` is set when the
    session expires (the lock is then no longer held)."""

    def __init__(self, client: Client, path: str) -> None:
        self.client = client
        self.path = path.rstrip("/")
        self.lost = threading.Event()
        # TODO: listen to the session (client.add_listener) and set `lost` on
        # SessionState.LOST.

    def acquire(self, timeout: Optional[float] = None) -> bool:
        """Blocks until the lock is ours (True) or `timeout` seconds passed (False, and no
        node of ours is left behind). Raises LostError if the session expires meanwhile."""
        # TODO: create PATH/<unique>-lock- as ephemeral and sequential (after a connection
        # loss, find it again by its unique prefix instead of creating a second one); if
        # yours is the lowest you hold the lock; else watch (exists with a watch) only the
        # node just before yours, and look again when it changes.
        raise NotImplementedError("Lock.acquire")

    def release(self) -> None:
        # TODO: delete your node (it may already be gone).
        raise NotImplementedError("Lock.release")


class Election:
    """Leader election: candidates queue like a lock; the first is the leader. `lost` is set
    when the session expires."""

    def __init__(self, client: Client, path: str, identifier: str) -> None:
        self.client = client
        self.path = path.rstrip("/")
        self.identifier = identifier
        self.lost = threading.Event()

    def volunteer(self) -> None:
        """Joins the candidates (an ephemeral sequential node holding the identifier)."""
        # TODO
        raise NotImplementedError("Election.volunteer")

    def wait_for_leadership(self, timeout: Optional[float] = None) -> bool:
        """Volunteers if needed, then blocks until this candidate leads (True) or `timeout`
        passed (False)."""
        # TODO
        raise NotImplementedError("Election.wait_for_leadership")

    def leader(self) -> Optional[str]:
        """The current leader's identifier (None when there are no candidates)."""
        # TODO
        raise NotImplementedError("Election.leader")

    def resign(self) -> None:
        # TODO
        raise NotImplementedError("Election.resign")


class DoubleBarrier:
    """A double barrier for `count` processes: enter() returns once all have entered; leave()
    once all have left (ZooKeeper's recipes page)."""

    def __init__(self, client: Client, path: str, count: int, identifier: str) -> None:
        self.client = client
        self.path = path.rstrip("/")
        self.count = count
        self.node = f"{self.path}/{identifier}"

    def enter(self, timeout: Optional[float] = None) -> bool:
        # TODO: create your node; wait until `count` nodes exist. Careful: by the time a slow
        # process looks, fast ones may already be leaving (a "ready" node helps).
        raise NotImplementedError("DoubleBarrier.enter")

    def leave(self, timeout: Optional[float] = None) -> bool:
        # TODO: delete your node; wait until no process node is left.
        raise NotImplementedError("DoubleBarrier.leave")


def coordinate(client: Client, path: str, txid: str, participants: List[str],
               timeout: float) -> str:
    """Two-phase commit, the coordinator: waits up to `timeout` for every participant's vote
    under PATH/TXID/votes, decides "commit" (all voted yes) or "abort" (a no, or a vote
    missing at the timeout) and records the decision in PATH/TXID/decision. A coordinator
    that finds a decision already recorded (it is a replacement) returns that decision."""
    # TODO
    raise NotImplementedError("coordinate")


def participate(client: Client, path: str, txid: str, name: str, vote: bool,
                timeout: float) -> Optional[str]:
    """Two-phase commit, a participant: records its vote in PATH/TXID/votes/NAME (persistent:
    a vote must survive the participant's crash) and waits up to `timeout` for the decision.
    Returns "commit", "abort", or None when no decision came in time (2PC blocks)."""
    # TODO
    raise NotImplementedError("participate")
