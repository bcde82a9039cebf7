"""Fixtures for the ZooKeeper compatibility tests: a `qlab server --zk-port 0` child process
(ready lines read from its stdout, never a sleep), a 3-node `qlab cluster` (fixture
`cluster`, one per module), kazoo clients.

Environment (set by CTest, see CMakeLists.txt): QLAB = the qlab executable, ZK_C_TEST = the C
client test program. Every wait has a deadline.
"""
import ctypes
import json
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
QLAB = os.environ.get("QLAB") or os.path.join(HERE, "..", "..", "build", "bin", "qlab")
ZKCLI = os.environ.get("ZKCLI", "/usr/share/zookeeper/bin/zkCli.sh")
READY_TIMEOUT_S = 60


class LineReader:
    """Reads a child's stdout line by line with a deadline (select on the pipe, no sleeps)."""

    def __init__(self, proc):
        self.proc = proc
        self.buf = b""
        self.seen = []

    def until(self, pattern, timeout_s):
        """Returns the match of the first line matching `pattern`; raises with the output seen
        if the child exits or the deadline passes first."""
        deadline = time.monotonic() + timeout_s
        fd = self.proc.stdout.fileno()
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                text = line.decode(errors="replace")
                self.seen.append(text)
                m = re.search(pattern, text)
                if m:
                    return m
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError("timed out waiting for %r; output so far: %s"
                                   % (pattern, self.seen))
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError("process exited (%s) before printing %r; output: %s"
                                   % (self.proc.wait(), pattern, self.seen))
            self.buf += chunk


def die_with_parent():
    """Runs in the child before exec: SIGKILL it if the test process dies first (a CTest
    timeout kills pytest, and the server must not outlive it)."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Server:
    """One `qlab server` with the ZooKeeper front-end on a free port."""

    def __init__(self, extra=(), node_id=1):
        self.dir = tempfile.mkdtemp(prefix="ql_zk_test_")
        self.log_path = os.path.join(self.dir, "server.log")
        self.log = open(self.log_path, "wb")
        args = [QLAB, "--log-level", "warn", "server", "--id", str(node_id), "--client-port", "0",
                "--zk-port", "0", "--data-dir", os.path.join(self.dir, "data"), "--broadcast",
                "solo", "--storage", "memory"] + list(extra)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log,
                                     preexec_fn=die_with_parent)
        lines = LineReader(self.proc)
        zk = lines.until(r"serving ZooKeeper clients on (\S+)", READY_TIMEOUT_S)
        native = lines.until(r"serving clients on (\S+)", READY_TIMEOUT_S)
        self.zk_address = zk.group(1)
        self.native_address = native.group(1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()


def kazoo_client(hosts, **kw):
    from kazoo.client import KazooClient
    kw.setdefault("timeout", 10.0)
    c = KazooClient(hosts=hosts, **kw)
    c.start(timeout=15)
    return c


@pytest.fixture
def zk(server):
    c = kazoo_client(server.zk_address)
    yield c
    c.stop()
    c.close()


@pytest.fixture
def zk2(server):
    c = kazoo_client(server.zk_address)
    yield c
    c.stop()
    c.close()


# The broadcast plugin of the `cluster` fixture: zab unless QL_BROADCAST names another (CTest
# runs the client suites against raft too).
BROADCAST = os.environ.get("QL_BROADCAST", "zab")
# More `qlab cluster start` arguments for the `cluster` fixture (CTest runs suites under other
# read policies: "--read-policy lease --set broadcast.lease=true").
CLUSTER_ARGS = shlex.split(os.environ.get("QL_CLUSTER_ARGS", ""))


class Cluster:
    """`qlab cluster start --nodes 3 --broadcast BROADCAST --storage wal` in a temporary
    directory."""

    def __init__(self, nodes=3, extra=(), broadcast=None):
        self.dir = tempfile.mkdtemp(prefix="ql_zk_cluster_")
        self.broadcast = broadcast or BROADCAST
        args = [QLAB, "--log-level", "warn", "cluster", "start", "--dir", self.dir, "--nodes",
                str(nodes), "--broadcast", self.broadcast, "--storage", "wal", "--timeout",
                "60"] + list(extra)
        out = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            self.stop()  # the nodes that did start
            raise RuntimeError("cluster start failed: %s\n%s" % (out.stdout, out.stderr))
        m = re.search(r"zookeeper connect: (\S+)", out.stdout)
        if not m:
            raise RuntimeError("no zookeeper connect line in: %s" % out.stdout)
        self.connect = m.group(1)

    def status(self):
        out = subprocess.run([QLAB, "cluster", "status", "--dir", self.dir, "--json"],
                             capture_output=True, text=True, timeout=60)
        return json.loads(out.stdout)

    def node(self, node_id):
        return next(n for n in self.status() if n["id"] == node_id)

    def zk_address(self, node_id):
        return "127.0.0.1:%d" % self.node(node_id)["zk_port"]

    def leader(self):
        return next(n["id"] for n in self.status() if n["role"] == "leader")

    def followers(self):
        return [n["id"] for n in self.status() if n["role"] == "follower"]

    def zk_addresses(self):
        """Every node's ZooKeeper address, in node id order."""
        nodes = sorted(self.status(), key=lambda n: n["id"])
        return ["127.0.0.1:%d" % n["zk_port"] for n in nodes]

    def hosts_starting_at(self, i):
        """The full connect string rotated so that node i's (0-based, in id order) address comes
        first: a kazoo client with randomize_hosts=False connects there and fails over to the
        others."""
        a = self.zk_addresses()
        i %= len(a)
        return ",".join(a[i:] + a[:i])

    def run(self, *what):
        out = subprocess.run([QLAB, "cluster"] + list(what) + ["--dir", self.dir],
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError("qlab cluster %s failed: %s" % (what, out.stderr))

    def stop(self):
        subprocess.run([QLAB, "cluster", "stop", "--dir", self.dir], capture_output=True,
                       timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster():
    """One 3-node cluster (zab, or QL_BROADCAST) per test module (tests of the module share it; CMakeLists.txt
    labels the modules that use it `cluster`)."""
    c = Cluster(nodes=3, extra=CLUSTER_ARGS)
    yield c
    c.stop()
