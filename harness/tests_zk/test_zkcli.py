"""ZooKeeper's own command-line client (zkCli.sh from Debian's `zookeeper` package, Java client
3.8) in one-shot mode against a follower of a 3-node `qlab cluster` (zab, wal): writes go
through the leader, reads and watches are the follower's. Each command is one JVM and one
session; the steps run in order and depend on each other. All sessions use the same follower:
a new session on another server could read from before the previous session's write (ZooKeeper
orders reads and writes per session only, reference §1.17), and zkCli's one-shot mode cannot
sync first."""
import os
import subprocess

import pytest

from conftest import ZKCLI

pytestmark = pytest.mark.skipif(not os.path.exists(ZKCLI), reason="zkCli.sh not installed")

# (command, text expected in the output, expected exit status); "=X" means a whole line of
# stdout is exactly X (not the last one: zkCli prints the session's first WatchedEvent from
# its event thread, before or after the command's answer).
STEPS = [
    ("create /cli hello", "Created /cli", 0),
    ("create /cli again", "Node already exists: /cli", 1),
    ("create -s /cli/seq- x", "Created /cli/seq-0000000000", 0),
    ("create -s /cli/seq- x", "Created /cli/seq-0000000001", 0),
    ("create -c /cli/container", "Created /cli/container", 0),
    ("create -t 600000 /cli/ttl x", "Created /cli/ttl", 0),
    ("get /cli", "hello", 0),
    ("get -s /cli", "dataLength = 5", 0),
    ("set /cli world", "", 0),
    ("get /cli", "world", 0),
    ("set -v 0 /cli stale", "version No is not valid : /cli", 1),
    ("stat /cli", "dataVersion = 1", 0),
    ("ls /cli", "[container, seq-0000000000, seq-0000000001, ttl]", 0),
    ("ls -s /", "numChildren = 2", 0),
    ("ls -R /cli", "/cli/seq-0000000001", 0),
    ("getAcl /cli", "'world,'anyone\n: cdrwa", 0),
    ("create /cli/acl x world:anyone:r", "Created /cli/acl", 0),
    ("set /cli/acl y", "Insufficient permission : /cli/acl", 1),
    ("setAcl /cli/acl world:anyone:cdrwa", "", 1),  # needs ADMIN, which r does not give
    ("sync /cli", "Sync is OK", 0),
    ("whoami", "ip: 127.0.0.1", 0),
    ("getEphemerals /", "=[]", 0),  # a new session: its ephemerals only
    ("getAllChildrenNumber /cli", "=5", 0),
    ("addWatch /cli", "", 0),
    ("removewatches /cli", "No such watcher for /cli", 1),
    ("reconfig -add server.5=127.0.0.1:1:2;3", "Reconfig is disabled", 1),
    ("config", "", 0),
    ("delete /cli/missing", "Node does not exist: /cli/missing", 1),
    ("delete /cli", "Node not empty: /cli", 1),
    ("deleteall /cli", "", 0),
    ("get /cli", "Node does not exist: /cli", 1),
    # Last: a one-shot zkCli exits without closeSession, so its ephemeral outlives it until the
    # session expires, as with ZooKeeper.
    ("create -e /cli-eph x", "Created /cli-eph", 0),
]


def zkcli(address, command):
    out = subprocess.run([ZKCLI, "-server", address] + command.split(" "), capture_output=True,
                         text=True, timeout=120)
    return out.returncode, out.stdout, out.stderr


def matches(expect, stdout, stderr):
    if expect.startswith("="):
        return expect[1:] in stdout.splitlines()
    return expect in stdout + stderr


def test_zkcli_one_shot_commands(cluster):
    address = cluster.zk_address(cluster.followers()[0])
    failures = []
    for command, expect, status in STEPS:
        rc, stdout, stderr = zkcli(address, command)
        text = stdout + stderr
        if not matches(expect, stdout, stderr) or rc != status:
            tail = "\n".join(l for l in text.splitlines() if not l.startswith("SLF4J"))[-600:]
            failures.append("%r: exit %d (want %d), want %r in:\n%s" % (command, rc, status,
                                                                      expect, tail))
    assert not failures, "\n\n".join(failures)
