"""Apache ZooKeeper as a baseline system: a local ensemble of real ZooKeeper servers.

Debian's ``zookeeper`` package (3.8) is started the way an operator would: one
``QuorumPeerMain`` JVM per server on loopback, a ``zoo.cfg`` and a data directory each,
``forceSync=yes`` (every transaction fsynced, like quorumlab's wal with fsync on), four-letter
words allowed. One server runs standalone. An experiment drives it with the same client as a
quorumlab cluster (``qlab bench --protocol zookeeper``), so the two are compared like for like.

>>> with Ensemble(nodes=3) as zk:
...     print(zk.connect_string, zk.leader())

Leaving the ``with`` block stops every JVM (SIGTERM, then SIGKILL).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import List, Optional

ZK_JAR = "/usr/share/java/zookeeper.jar"


def _free_ports(n: int) -> List[int]:
    # The cluster launcher's choice: outside the ephemeral range, so a killed server gets its
    # ports back on restart.
    from . import _native
    return list(_native.free_ports(n))


def four_letter(port: int, word: str, timeout: float = 1.0) -> str:
    """A four-letter-word command (``srvr``, ``ruok``, ``mntr``) to one server; "" when it
    does not answer."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(word.encode())
            out = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    return out.decode(errors="replace")
                out += chunk
    except OSError:
        return ""


class Ensemble:
    """`nodes` Apache ZooKeeper servers on loopback (ports chosen at run time).

    Args:
        nodes: servers (1: standalone).
        dir: where configurations, data and logs go; a temporary folder (removed by stop())
            when None.
        timeout: seconds allowed for the ensemble to serve clients.
        heap_mb: the JVMs' heap.
    """

    def __init__(self, nodes: int = 3, dir: Optional[str] = None, timeout: float = 60.0,
                 heap_mb: int = 512) -> None:
        if not os.path.exists(ZK_JAR):
            raise RuntimeError(f"Apache ZooKeeper is not installed ({ZK_JAR} is missing; "
                               "Debian package 'zookeeper')")
        if not isinstance(nodes, int) or nodes < 1:
            raise ValueError(f"nodes must be a positive int, got {nodes!r}")
        self.nodes, self.timeout, self.heap_mb = nodes, float(timeout), heap_mb
        self._own_dir = dir is None
        self.dir = dir or tempfile.mkdtemp(prefix="quorumlab-zookeeper-")
        self._procs: List[Optional[subprocess.Popen]] = []
        self.client_ports: List[int] = []

    # ---- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> "Ensemble":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def connect_string(self) -> str:
        return ",".join(f"127.0.0.1:{p}" for p in self.client_ports)

    def start(self) -> None:
        ports = _free_ports(3 * self.nodes)
        self.client_ports = ports[0::3]
        self._procs = [None] * self.nodes
        for i in range(1, self.nodes + 1):
            d = os.path.join(self.dir, f"zk{i}")
            os.makedirs(os.path.join(d, "data"), exist_ok=True)
            with open(os.path.join(d, "data", "myid"), "w") as f:
                f.write(f"{i}\n")
            cfg = ["tickTime=2000", "initLimit=10", "syncLimit=5",
                   f"dataDir={d}/data", f"clientPort={self.client_ports[i - 1]}",
                   "clientPortAddress=127.0.0.1", "forceSync=yes", "4lw.commands.whitelist=*",
                   "admin.enableServer=false", "maxClientCnxns=0",
                   "globalOutstandingLimit=100000"]
            if self.nodes > 1:
                cfg += [f"server.{j}=127.0.0.1:{ports[(j - 1) * 3 + 1]}:{ports[(j - 1) * 3 + 2]}"
                        for j in range(1, self.nodes + 1)]
            with open(os.path.join(d, "zoo.cfg"), "w") as f:
                f.write("\n".join(cfg) + "\n")
            self._launch(i)
        self.wait_serving()

    def _launch(self, i: int) -> None:
        d = os.path.join(self.dir, f"zk{i}")
        with open(os.path.join(d, "server.log"), "ab") as log:
            self._procs[i - 1] = subprocess.Popen(
                ["java", f"-Xms{self.heap_mb // 2}m", f"-Xmx{self.heap_mb}m", "-cp", ZK_JAR,
                 f"-Dzookeeper.log.dir={d}", "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                 os.path.join(d, "zoo.cfg")], stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

    def modes(self) -> List[str]:
        """Each server's mode from ``srvr``: leader, follower, standalone, or "down"."""
        out = []
        for port in self.client_ports:
            text = four_letter(port, "srvr")
            mode = next((l.split(":", 1)[1].strip() for l in text.splitlines()
                         if l.startswith("Mode:")), "down")
            out.append(mode)
        return out

    def wait_serving(self) -> None:
        """Waits until every running server is part of a serving ensemble (a leader and the
        rest followers, or standalone), or raises after `timeout` with the servers' modes."""
        deadline = time.monotonic() + self.timeout
        while True:
            modes = self.modes()
            running = [m for m, p in zip(modes, self._procs) if p is not None]
            if running and all(m in ("leader", "follower", "standalone") for m in running) \
                    and (self.nodes == 1 or running.count("leader") == 1):
                return
            for i, p in enumerate(self._procs):
                if p is not None and p.poll() is not None:
                    raise RuntimeError(f"ZooKeeper server {i + 1} exited with {p.returncode}; "
                                       f"see {self.dir}/zk{i + 1}/server.log")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the ZooKeeper ensemble did not serve within "
                                   f"{self.timeout:.0f} s (modes {modes}; logs in {self.dir})")
            # The JVM offers no readiness signal: asking each server its mode is the wait.
            time.sleep(0.2)

    def leader(self) -> int:
        """The id (1-based) of the current leader (1 for a standalone server)."""
        modes = self.modes()
        for i, m in enumerate(modes):
            if m in ("leader", "standalone"):
                return i + 1
        raise RuntimeError(f"no ZooKeeper leader (modes {modes})")

    def kill(self, node: int) -> None:
        """kill -9 one server (returns once it is gone)."""
        p = self._procs[node - 1]
        if p is not None:
            p.kill()
            p.wait()
            self._procs[node - 1] = None

    def restart(self, node: int) -> None:
        self.kill(node)
        self._launch(node)

    def stop(self) -> None:
        for p in self._procs:
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for i, p in enumerate(self._procs):
            if p is None:
                continue
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            self._procs[i] = None
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __repr__(self) -> str:
        return f"Ensemble({self.nodes} ZooKeeper servers, {self.connect_string or 'stopped'})"
