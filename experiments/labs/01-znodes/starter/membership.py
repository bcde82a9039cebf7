"""Lab 1, part A: group membership on ephemeral znodes.

Fill in the methods marked TODO; keep the names and signatures (the grader calls them).
Read README.md first. Check your work with:  python3 -m quorumlab.lab check znodes
"""
from __future__ import annotations

import threading
from typing import Callable, List, Optional

from quorumlab import Client, SessionState
from quorumlab.exceptions import (ConnectionLossError, NodeExistsError, NoNodeError,
                                  SessionExpiredError, ZooKeeperError)


class GroupMember:
    """A member of a group: the ephemeral znode GROUP/NAME holding `data`."""

    def __init__(self, client: Client, group: str, name: str, data: bytes = b"") -> None:
        self.client = client
        self.group = group
        self.name = name
        self.data = data
        self.path = f"{group}/{name}"

    def join(self) -> None:
        """Creates the member's ephemeral znode (and the group's path). Joining again with the
        same session does nothing; a name held by another live session raises
        NodeExistsError."""
        # TODO: ensure the group's path exists, create an *ephemeral* znode; on
        # NodeExistsError look at the node's stat.ephemeral_owner: is it your session?
        raise NotImplementedError("GroupMember.join")

    def leave(self) -> None:
        """Deletes the member's znode; leaving a group one is not in does nothing."""
        # TODO
        raise NotImplementedError("GroupMember.leave")


class MembershipWatcher:
    """Calls ``on_change(members)`` with the sorted member names: once when started and once
    after every change of the membership, in order, never twice in a row with the same list.
    Keeps watching across connection loss and session expiry; `connect()` makes a new client
    (after an expiry the old one is of no use)."""

    def __init__(self, connect: Callable[[], Client], group: str,
                 on_change: Callable[[List[str]], None]) -> None:
        self._connect = connect
        self.group = group
        self.on_change = on_change

    def start(self) -> None:
        """Starts watching (returns at once; call on_change from your own thread or from
        watch callbacks)."""
        # TODO: a watch fires once. Read the children *with* a watch, report, and when the
        # watch fires read again (with a new watch). Listen to the session's state
        # (client.add_listener): on SessionState.LOST the session expired and its watches are
        # gone; make a new client with self._connect() and read again. Report only when the
        # list differs from the last one you reported.
        raise NotImplementedError("MembershipWatcher.start")

    def stop(self) -> None:
        """Stops watching and closes the client."""
        # TODO
        raise NotImplementedError("MembershipWatcher.stop")
