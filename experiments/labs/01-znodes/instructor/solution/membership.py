"""Lab 1, part A: group membership on ephemeral znodes (reference solution)."""
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
        self.client.ensure_path(self.group)
        try:
            self.client.create(self.path, self.data, ephemeral=True)
        except NodeExistsError:
            _, stat = self.client.get(self.path)
            if stat.ephemeral_owner != self.client.session_id:
                raise

    def leave(self) -> None:
        """Deletes the member's znode; leaving a group one is not in does nothing."""
        try:
            self.client.delete(self.path)
        except NoNodeError:
            pass


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
        self._wake = threading.Event()
        self._stopped = False
        self._lost = False
        self._client: Optional[Client] = None
        self._last: Optional[List[str]] = None
        self._thread = threading.Thread(target=self._run, name="membership", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        self._thread.join(10)
        if self._client is not None:
            self._client.close()

    def _on_state(self, state: SessionState) -> None:
        if state == SessionState.LOST:
            self._lost = True
        self._wake.set()  # re-read after any change of the connection: dedup keeps it quiet

    def _fresh_client(self) -> None:
        if self._client is not None:
            self._client.close()
        self._lost = False
        self._client = self._connect()
        self._client.add_listener(self._on_state)

    def _run(self) -> None:
        while not self._stopped:
            if self._client is None or self._lost:
                try:
                    self._fresh_client()
                except ZooKeeperError:
                    self._wake.wait(0.5)
                    continue
            self._wake.clear()
            client = self._client
            try:
                try:
                    members = client.get_children(self.group, watch=lambda e: self._wake.set())
                except NoNodeError:
                    # No group yet: watch for its creation, then read again.
                    if client.exists(self.group, watch=lambda e: self._wake.set()) is not None:
                        continue
                    members = []
            except SessionExpiredError:
                self._lost = True
                continue
            except (ConnectionLossError, ZooKeeperError):
                client.wait_connected(1.0)
                continue
            self._report(sorted(members))
            self._wake.wait()

    def _report(self, members: List[str]) -> None:
        if members != self._last:
            self._last = members
            self.on_change(list(members))
