"""Lab 1, part B: configuration with the ready znode (reference solution).

The ZooKeeper paper (section 2.3): a new leader deletes ``ready``, changes the configuration
znodes, then creates ``ready``. A process that sees ``ready`` sees the whole configuration it
guards, because ZooKeeper executes a client's operations in order and a session never reads
an older state than it has seen.
"""
from __future__ import annotations

import threading
from typing import Callable, Dict, Optional

from quorumlab import Client, SessionState
from quorumlab.exceptions import (ConnectionLossError, NoNodeError, SessionExpiredError,
                                  ZooKeeperError)


def publish(client: Client, root: str, config: Dict[str, bytes], version: int) -> None:
    """Publishes `config` (key -> value) as version `version` under `root`: delete
    ROOT/ready, write every ROOT/KEY (create or set), create ROOT/ready holding the version."""
    client.ensure_path(root)
    try:
        client.delete(f"{root}/ready")
    except NoNodeError:
        pass
    for key, value in sorted(config.items()):
        path = f"{root}/{key}"
        try:
            client.set(path, value)
        except NoNodeError:
            client.create(path, value)
    client.create(f"{root}/ready", str(version).encode())


class ConfigWatcher:
    """Calls ``on_config(version, config)`` for the configurations published under `root`:
    never a half-written one (every key from the version announced by ready), versions
    strictly increasing, each at most once; the latest one is always delivered eventually.
    Survives connection loss and session expiry (`connect()` makes a new client)."""

    def __init__(self, connect: Callable[[], Client], root: str,
                 on_config: Callable[[int, Dict[str, bytes]], None]) -> None:
        self._connect = connect
        self.root = root
        self.on_config = on_config
        self._wake = threading.Event()
        self._stopped = False
        self._lost = False
        self._client: Optional[Client] = None
        self._last_version = 0
        self._thread = threading.Thread(target=self._run, name="config", daemon=True)

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
        self._wake.set()

    def _read(self, client: Client):
        """(version, config) when ready exists and stayed the same ready while the keys were
        read; None when there is no complete configuration now (a watch is set)."""
        ready = f"{self.root}/ready"
        stat = client.exists(ready, watch=lambda e: self._wake.set())
        if stat is None:
            return None
        try:
            data, stat = client.get(ready)
        except NoNodeError:
            return None
        config: Dict[str, bytes] = {}
        for key in client.get_children(self.root):
            if key == "ready":
                continue
            try:
                config[key], _ = client.get(f"{self.root}/{key}")
            except NoNodeError:
                return None
        # The same ready (same creation) after the reads: no publication began in between.
        after = client.exists(ready)
        if after is None or after.czxid != stat.czxid:
            return None
        return int(data.decode()), config

    def _run(self) -> None:
        while not self._stopped:
            if self._client is None or self._lost:
                try:
                    if self._client is not None:
                        self._client.close()
                    self._lost = False
                    self._client = self._connect()
                    self._client.add_listener(self._on_state)
                except ZooKeeperError:
                    self._wake.wait(0.5)
                    continue
            self._wake.clear()
            client = self._client
            try:
                got = self._read(client)
            except SessionExpiredError:
                self._lost = True
                continue
            except (ConnectionLossError, ZooKeeperError):
                client.wait_connected(1.0)
                continue
            if got is None:
                self._wake.wait()
                continue
            version, config = got
            if version > self._last_version:
                self._last_version = version
                self.on_config(version, config)
            self._wake.wait()
