"""Apache ZooKeeper 3.8 and quorumlab side by side (issue 18, "wire and semantic differences").

Every test runs the same calls against a real standalone ZooKeeper (Debian's `zookeeper`
package, started once per run on a free loopback port with its own temporary dataDir) and
against `qlab server --zk-port 0`, and asserts that the outcomes are equal, so the suite itself
shows agreement. kazoo is used where it can express the call, raw jute (zkraw.py) where it
cannot. Each scenario works under its own fresh base path, so both servers see the same
sequence of operations and sequence numbers agree.

The ZooKeeper server runs with its defaults (tickTime 2000, so sessions are negotiated into
[4000, 40000] ms; extended types, i.e. TTL nodes, disabled) except:
- znode.container.checkIntervalMs=200 so empty containers are removed quickly (the default
  is one minute); only the container test depends on it.
- 4lw.commands.whitelist=* for `conf`.
"""
import hashlib
import base64
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import QLAB, ZKCLI, Server, die_with_parent, kazoo_client
from zkraw import (ADD_WATCH, CHECK, CHECK_WATCHES, CLOSE_SESSION, CREATE, CREATE2,
                   CREATE_CONTAINER, DELETE, EXISTS, GET_ALL_CHILDREN_NUMBER, GET_CHILDREN,
                   GET_CHILDREN2, GET_DATA, GET_EPHEMERALS, MULTI, MULTI_READ, OPEN_ACL,
                   NOTIFICATION_XID, REMOVE_WATCHES, SET_DATA, SYNC, Closed, RawClient, jacl,
                   jbool, jbuf, jint, jstr)

ZK_JAR = "/usr/share/java/zookeeper.jar"
GET_ACL, SET_ACL = 6, 7
READY_TIMEOUT_S = 60
_counter = itertools.count()

if not os.path.exists(ZK_JAR):  # pragma: no cover - the package is a build dependency
    pytest.skip("Apache ZooKeeper is not installed (%s)" % ZK_JAR, allow_module_level=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def four_letter(address, word, timeout=5.0):
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(word.encode())
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out.decode(errors="replace")
            out += chunk


class ZooKeeper:
    """A standalone Apache ZooKeeper 3.8 (QuorumPeerMain with a standalone zoo.cfg)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ql_zk_apache_")
        data = os.path.join(self.dir, "data")
        os.makedirs(data)
        self.port = free_port()
        self.address = "127.0.0.1:%d" % self.port
        cfg = os.path.join(self.dir, "zoo.cfg")
        with open(cfg, "w") as f:
            f.write("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                    "maxClientCnxns=0\nadmin.enableServer=false\n4lw.commands.whitelist=*\n"
                    % (data, self.port))
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen(
            ["java", "-Xmx256m", "-Dznode.container.checkIntervalMs=200", "-cp", ZK_JAR,
             "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg],
            stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        self.wait_ready()

    def wait_ready(self):
        """Polls until a session handshake succeeds, with a deadline. (`ruok` is not enough:
        ZooKeeper answers imok as soon as its port listens, and closes session connections
        until its database is loaded.) A failed attempt waits on the child process for a
        moment instead of spinning."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ZooKeeper exited: %s" % self.log_text())
            try:
                c = RawClient(self.address, timeout=2.0)
                try:
                    if c.connect()["timeOut"] > 0:
                        c.call(CLOSE_SESSION)
                        return
                finally:
                    c.close()
            except (OSError, Closed):
                pass
            try:
                self.proc.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                pass
        raise RuntimeError("ZooKeeper not ready after %d s: %s" % (READY_TIMEOUT_S,
                                                                  self.log_text()))

    def log_text(self):
        self.log.flush()
        with open(os.path.join(self.dir, "server.log"), "rb") as f:
            return f.read().decode(errors="replace")[-4000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def zookeeper():
    z = ZooKeeper()
    yield z
    z.stop()


@pytest.fixture(scope="session")
def quorumlab():
    s = Server()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def targets(zookeeper, quorumlab):
    return {"zookeeper": zookeeper.address, "quorumlab": quorumlab.zk_address}


def agree(targets, scenario):
    """Runs scenario(address, base) on both servers under the same fresh base path and
    asserts equal outcomes; returns ZooKeeper's."""
    base = "/agree%d" % next(_counter)
    out = {}
    for name, address in targets.items():
        c = RawClient(address)
        c.connect()
        assert c.create(base)[0] == 0
        c.close()
        out[name] = scenario(address, base)
    assert out["quorumlab"] == out["zookeeper"]
    return out["zookeeper"]


def raw(address, timeout=5.0):
    c = RawClient(address, timeout=timeout)
    c.connect()
    return c


def call_or_closed(c, op, body):
    """(err, bytes of the reply body) or "closed"."""
    try:
        err, r, _ = c.call(op, body)
        return err, r.data[r.pos:]
    except (Closed, ConnectionResetError):
        return "closed"


def mhdr(t, done=False):
    return jint(t) + jbool(done) + jint(-1)


MULTI_END = mhdr(-1, True)


def create_body(path, data=b"", flags=0):
    return jstr(path) + jbuf(data) + jacl(OPEN_ACL) + jint(flags)


def read_multi(r):
    """A MultiResponse as a list of (type, err, path or None, has_stat)."""
    out = []
    while True:
        t, done, err = r.int(), r.bool(), r.int()
        if done:
            return out
        if t == -1:
            out.append((t, r.int(), None, False))
        elif t in (CREATE, CREATE2):
            path = r.str()
            if t == CREATE2:
                r.stat()
            out.append((t, err, path, t == CREATE2))
        elif t == SET_DATA:
            r.stat()
            out.append((t, err, None, True))
        elif t == GET_DATA:
            r.buf()
            r.stat()
            out.append((t, err, None, True))
        elif t == GET_CHILDREN:
            r.strs()
            out.append((t, err, None, False))
        else:
            out.append((t, err, None, False))


# ------------------------------------------------------------------ exists and ACLs

def test_exists_checks_no_acl(targets):
    """ZooKeeper's exists checks no permission: a node the caller may not READ still gets its
    Stat (and an exists watch); getData and getChildren answer NOAUTH."""
    def scenario(address, base):
        owner = kazoo_client(address, auth_data=[("digest", "u:p")])
        digest = base64.b64encode(hashlib.sha1(b"u:p").digest()).decode()
        from kazoo.security import ACL, Id
        from kazoo.exceptions import NoAuthError
        owner.create(base + "/secret", b"s", acl=[ACL(31, Id("digest", "u:" + digest))])
        other = kazoo_client(address)
        out = []
        st = other.exists(base + "/secret")
        out.append(("exists", st is not None and st.dataLength))
        events = []
        other.exists(base + "/secret", watch=events.append)
        for call in (other.get, other.get_children):
            try:
                call(base + "/secret")
                out.append((call.__name__, "ok"))
            except NoAuthError:
                out.append((call.__name__, "NoAuth"))
        owner.delete(base + "/secret")
        deadline = time.monotonic() + 10
        while not events and time.monotonic() < deadline:
            other.sync(base)
        out.append(("watch", [e.type for e in events]))
        for c in (owner, other):
            c.stop()
            c.close()
        return out
    assert agree(targets, scenario)[0] == ("exists", 1)


# ------------------------------------------------------------------ null data

def test_null_data_round_trips(targets):
    """create(path, null) and setData(path, null) store null; getData answers a buffer of
    length -1 (kazoo: None), and dataLength 0. An empty buffer stays empty."""
    def scenario(address, base):
        zk = kazoo_client(address)
        out = []
        zk.create(base + "/null", None)
        zk.create(base + "/empty", b"")
        for p in ("/null", "/empty"):
            value, st = zk.get(base + p)
            out.append((p, value, st.dataLength))
        zk.set(base + "/empty", None)
        zk.set(base + "/null", b"")
        for p in ("/null", "/empty"):
            value, st = zk.get(base + p)
            out.append(("after set", p, value, st.dataLength))
        zk.stop()
        zk.close()
        # Raw (kazoo's transactions refuse None): a multi with null data, then the exact
        # buffer length on the wire, in getData and in a multiRead.
        c = raw(address)
        body = mhdr(CREATE) + jstr(base + "/mnull") + jbuf(None) + jacl(OPEN_ACL) + jint(0)
        body += mhdr(SET_DATA) + jstr(base + "/null") + jbuf(None) + jint(-1) + MULTI_END
        out.append(("multi", c.call(MULTI, body)[0]))
        e, r, _ = c.get_data(base + "/mnull")
        out.append(("raw getData", e, r.int()))
        e, r, _ = c.call(MULTI_READ, mhdr(GET_DATA) + jstr(base + "/mnull") + jbool(False) +
                         MULTI_END)
        r.int(), r.bool(), r.int()
        out.append(("raw multiRead", e, r.int()))
        c.close()
        return out
    out = agree(targets, scenario)
    assert out[0] == ("/null", None, 0) and out[1] == ("/empty", b"", 0)


# ------------------------------------------------------------------ paths

PATH_OPS = [
    ("create", CREATE, lambda p: create_body(p)),
    ("create2", CREATE2, lambda p: create_body(p)),
    ("exists", EXISTS, lambda p: jstr(p) + jbool(False)),
    ("existsWatch", EXISTS, lambda p: jstr(p) + jbool(True)),
    ("getData", GET_DATA, lambda p: jstr(p) + jbool(False)),
    ("setData", SET_DATA, lambda p: jstr(p) + jbuf(b"") + jint(-1)),
    ("delete", DELETE, lambda p: jstr(p) + jint(-1)),
    ("getChildren", GET_CHILDREN, lambda p: jstr(p) + jbool(False)),
    ("getChildren2", GET_CHILDREN2, lambda p: jstr(p) + jbool(False)),
    ("getACL", GET_ACL, lambda p: jstr(p)),
    ("setACL", SET_ACL, lambda p: jstr(p) + jacl(OPEN_ACL) + jint(-1)),
    ("getAllChildrenNumber", GET_ALL_CHILDREN_NUMBER, lambda p: jstr(p)),
]


def path_matrix(address, paths):
    out = {}
    c = raw(address)
    for p in paths:
        for name, op, body in PATH_OPS:
            res = call_or_closed(c, op, body(p))
            if res == "closed":
                c = raw(address)
            out[(p, name)] = res if res == "closed" else res[0]
    c.close()
    return out


def test_path_with_nul_character(targets):
    """ZooKeeper refuses a NUL in the path of the writes and of exists with BADARGUMENTS (it
    never cuts the path at the NUL); the other reads look the path up and find nothing."""
    def scenario(address, base):
        c = raw(address)
        assert c.create(base + "/n")[0] == 0
        c.close()
        out = path_matrix(address, [base + "/n\x00", base + "/n\x00x", base + "/b\x00"])
        c = raw(address)
        out["/b exists afterwards"] = c.exists(base + "/b")[0]
        c.close()
        return out
    out = agree(targets, scenario)
    assert out["/b exists afterwards"] == -101


def test_null_path(targets):
    """A path string of length -1: MARSHALLINGERROR for most requests, BADARGUMENTS for
    setData and setACL, and the connection goes on."""
    def scenario(address, base):
        out = path_matrix(address, [None])
        c = raw(address)
        # Requests that do not look the path up: answered OK (bodies not compared).
        for name, op, body in [("sync", SYNC, jstr(None)),
                               ("addWatch", ADD_WATCH, jstr(None) + jint(0)),
                               ("getEphemerals", GET_EPHEMERALS, jstr(None))]:
            out[(None, name)] = c.call(op, body)[0]
        out["still connected"] = c.exists(base)[0]
        c.close()
        return out
    agree(targets, scenario)


def test_empty_path_is_the_root_and_chroot(targets):
    """The empty path reads the root (ZooKeeper's DataTree keys the root by ""); through a
    chroot, kazoo's "" is the chroot itself."""
    def scenario(address, base):
        out = path_matrix(address, [""])
        zk = kazoo_client(address + base)
        zk.create("/child", b"c")
        out["chroot exists"] = zk.exists("") is not None
        out["chroot children"] = zk.get_children("")
        out["chroot get"] = zk.get("")[0]
        zk.stop()
        zk.close()
        return out
    out = agree(targets, scenario)
    assert out[("", "exists")] == 0 and out["chroot children"] == ["child"]


# ------------------------------------------------------------------ containers

def wait_gone(c, path, timeout_s=20):
    """True once `path` is deleted: an exists watch, then its NodeDeleted notification (the
    read waits at most timeout_s)."""
    node_deleted = 2
    err, _, events = c.exists(path, watch=True)
    if err == -101 or (node_deleted, path) in [(e[0], e[2]) for e in events]:
        return True
    saved, c.timeout = c.timeout, timeout_s
    try:
        while True:
            xid, _, _, r = c.read_reply()
            if xid == NOTIFICATION_XID:
                event_type, _state, event_path = r.int(), r.int(), r.str()
                if (event_type, event_path) == (node_deleted, path):
                    return True
    except socket.timeout:
        return False
    finally:
        c.timeout = saved


def test_container_flags(targets):
    """Outside a multi the opcode decides: createContainer makes a container whatever its
    flags (sequential for 2 and 3, never ephemeral; TTL flags UNIMPLEMENTED as TTL nodes are
    disabled; invalid flags BADARGUMENTS), create and create2 with the container flag make a
    plain persistent node. Inside a multi the flags decide (ZooKeeper rebuilds each op with
    Op.create(flags)): flag 4 is a container with a create2 result, anything else is an
    ordinary create with a create result, even under the createContainer opcode."""
    # Not compared: createContainer with the TTL flags 5 and 6. ZooKeeper runs with TTL nodes
    # disabled by default and answers UNIMPLEMENTED; quorumlab always enables TTL nodes and
    # answers BADARGUMENTS (the request carries no TTL), as ZooKeeper would with
    # zookeeper.extendedTypesEnabled=true.
    cases = [(CREATE, 4), (CREATE2, 4)] + [(CREATE_CONTAINER, f) for f in (0, 1, 2, 3, 4, 7, -1)]

    def scenario(address, base):
        out = []
        c = raw(address)
        made = []
        for op, flags in cases:
            err, r, _ = c.create("%s/c%d_%d" % (base, op, flags), flags=flags, op=op)
            path = r.str() if err == 0 else None
            out.append((op, flags, err, path and path[len(base):]))
            if path:
                made.append(path)
        for op, flags in [(CREATE, 0), (CREATE, 4), (CREATE2, 0), (CREATE2, 4),
                          (CREATE_CONTAINER, 0), (CREATE_CONTAINER, 1), (CREATE_CONTAINER, 4)]:
            path = "%s/m%d_%d" % (base, op, flags)
            err, r, _ = c.call(MULTI, mhdr(op) + create_body(path, flags=flags) + MULTI_END)
            out.append(("multi", op, flags, err, read_multi(r)))
            if flags == 1:  # an ephemeral node (no children): check its owner instead
                err, r, _ = c.exists(path)
                out.append(("multi ephemeral owner", err, r.stat()["ephemeralOwner"] ==
                            c.session_id))
            else:
                made.append(path)
        # A container is removed once its last child goes: give each node a child, delete it,
        # then wait for two sentinel containers, the second made once the first is gone. A
        # cleanup pass deletes its candidates in no particular order, so the first sentinel
        # alone may go before the others of its pass; the second can only go in a later pass,
        # after every deletion of the earlier one.
        for p in made:
            assert c.create(p + "/x")[0] == 0, p
            assert c.delete(p + "/x")[0] == 0
        for sentinel in ("/sentinel1", "/sentinel2"):
            assert c.create(base + sentinel, op=CREATE_CONTAINER, flags=4)[0] == 0
            assert c.create(base + sentinel + "/x")[0] == 0
            assert c.delete(base + sentinel + "/x")[0] == 0
            assert wait_gone(c, base + sentinel)
        out.append(("left", sorted(p[len(base):] for p in made if c.exists(p)[0] == 0)))
        # The ephemeral flag with createContainer: the node outlives its session.
        e = raw(address)
        assert e.create(base + "/ce", flags=1, op=CREATE_CONTAINER)[0] == 0
        e.call(CLOSE_SESSION)
        e.close()
        out.append(("container with the ephemeral flag after its session", c.exists(
            base + "/ce")[0]))
        c.close()
        return out
    out = agree(targets, scenario)
    assert (CREATE_CONTAINER, 0, 0, "/c19_0") in out


# ------------------------------------------------------------------ unknown opcodes

def test_unknown_opcode_answers_unimplemented_then_closes(targets):
    def scenario(address, base):
        out = []
        for op in (77, 0, 10, 4242):  # not 20, deleteContainer: ZooKeeper knows it
            c = raw(address)
            xid = c.send(op, b"whatever")
            rxid, _, err, r = c.read_reply()
            out.append((op, rxid == xid, err, r.left(), c.expect_closed()))
            c.close()
        return out
    assert agree(targets, scenario)[0] == (77, True, -6, 0, True)


# ------------------------------------------------------------------ sessions

def test_session_timeout_is_negotiated_into_min_max(targets):
    """[minSessionTimeout, maxSessionTimeout] = [2, 20] x tickTime 2000 by default; `conf`
    shows both."""
    def scenario(address, base):
        out = []
        for t in (1, 1000, 3999, 4000, 10000, 40000, 40001, 10 ** 9, 0, -5):
            c = RawClient(address)
            out.append((t, c.connect(timeout_ms=t)["timeOut"]))
            c.close()
        conf = dict(line.split("=", 1) for line in four_letter(address, "conf").splitlines()
                    if "=" in line)
        out.append(("conf", conf.get("minSessionTimeout"), conf.get("maxSessionTimeout")))
        return out
    out = agree(targets, scenario)
    assert out[-1] == ("conf", "4000", "40000")


def test_reattach_with_wrong_password(targets):
    """The new connection gets an expired answer (timeOut 0, session 0, zero password) and is
    closed; the connection that holds the session is closed too; the session itself lives
    on and a reattach with the right password keeps it."""
    def scenario(address, base):
        a = raw(address)
        assert a.create(base + "/eph", flags=1)[0] == 0
        b = RawClient(address)
        r = b.connect(session_id=a.session_id, passwd=b"\x01" * 16)
        out = [("answer", r["timeOut"], r["sessionId"], r["passwd"]), ("closed", b.expect_closed())]
        try:
            a.exists("/")
            out.append(("original", "open"))
        except (Closed, ConnectionResetError):
            out.append(("original", "closed"))
        c = RawClient(address)
        r = c.connect(session_id=a.session_id, passwd=a.passwd, last_zxid=a.last_zxid)
        out.append(("right password", r["sessionId"] == a.session_id, c.exists(base + "/eph")[0]))
        c.call(CLOSE_SESSION)
        c.close()
        return out
    out = agree(targets, scenario)
    assert out[2] == ("original", "closed")


# ------------------------------------------------------------------ watches

def drain_events(c, until_path):
    """Notifications (type, path, header zxid) until one for `until_path` (a marker)."""
    out = []
    while True:
        xid, zxid, err, r = c.read_reply()
        assert xid == -1
        t, state, path = r.int(), r.int(), r.str()
        if path == until_path:
            return out
        out.append((t, path, zxid))


def test_notifications_carry_zxid_minus_one(targets):
    def scenario(address, base):
        w, c = raw(address), raw(address)
        assert c.create(base + "/w")[0] == 0
        assert c.create(base + "/marker")[0] == 0
        w.get_data(base + "/w", watch=True)
        w.call(GET_CHILDREN, jstr(base + "/w") + jbool(True))
        w.exists(base + "/new", watch=True)
        w.call(ADD_WATCH, jstr(base) + jint(1))  # recursive
        w.exists(base + "/marker", watch=True)
        c.set_data(base + "/w", b"1")
        c.create(base + "/w/k")
        c.create(base + "/new")
        c.delete(base + "/marker")
        out = sorted(drain_events(w, base + "/marker"))
        w.close()
        c.close()
        return out
    out = agree(targets, scenario)
    assert out and all(zxid == -1 for _, _, zxid in out)


def test_remove_watches_of_type_data_on_a_persistent_watch(targets):
    """ZooKeeper 3.8 files a persistent (and a recursive) watch in both its data and its
    child watch tables: removeWatches/checkWatches of type data or children act on that half,
    type any on both. What is left keeps firing."""
    def scenario(address, base):
        w, c = raw(address, timeout=10), raw(address)
        out = []
        for p in ("/p", "/q", "/r"):
            assert c.create(base + p)[0] == 0
        assert c.create(base + "/marker")[0] == 0

        def call(op, path, mode):
            out.append((op, path[len(base):], mode, w.call(op, jstr(path) + jint(mode))[0]))

        call(ADD_WATCH, base + "/p", 0)
        call(CHECK_WATCHES, base + "/p", 2)
        call(CHECK_WATCHES, base + "/p", 1)
        call(REMOVE_WATCHES, base + "/p", 2)
        call(CHECK_WATCHES, base + "/p", 2)
        call(CHECK_WATCHES, base + "/p", 1)
        call(REMOVE_WATCHES, base + "/p", 2)
        call(ADD_WATCH, base + "/q", 0)
        call(REMOVE_WATCHES, base + "/q", 1)
        call(CHECK_WATCHES, base + "/q", 2)
        call(ADD_WATCH, base + "/r", 0)
        call(REMOVE_WATCHES, base + "/r", 2)
        call(REMOVE_WATCHES, base + "/r", 1)
        call(REMOVE_WATCHES, base + "/r", 3)
        w.exists(base + "/marker", watch=True)
        for p in ("/p", "/q"):
            c.set_data(base + p, b"x")
            c.create(base + p + "/k")
            c.delete(base + p + "/k")
            c.delete(base + p)
        c.delete(base + "/marker")
        out.append(("events", [(t, p[len(base):]) for t, p, _ in
                               drain_events(w, base + "/marker")]))
        w.close()
        c.close()
        return out
    out = agree(targets, scenario)
    assert out[3] == (REMOVE_WATCHES, "/p", 2, 0)


def test_add_watch_with_an_unknown_mode(targets):
    def scenario(address, base):
        c = raw(address)
        out = [(m, c.call(ADD_WATCH, jstr(base) + jint(m))[0]) for m in (0, 1, 2, 5, -1)]
        out.append(("still connected", c.exists(base)[0]))
        c.close()
        return out
    assert agree(targets, scenario)[2] == (2, -5)


# ------------------------------------------------------------------ multi

def test_multi_mixing_reads_and_writes(targets):
    def scenario(address, base):
        c = raw(address)
        out = []
        body = mhdr(CREATE) + create_body(base + "/mx") + mhdr(GET_DATA) + jstr(base) + \
            jbool(False) + MULTI_END
        out.append(("multi", call_or_closed(c, MULTI, body)))
        body = mhdr(GET_DATA) + jstr(base) + jbool(False) + mhdr(SET_DATA) + jstr(base) + \
            jbuf(b"z") + jint(-1) + MULTI_END
        out.append(("multi read first", call_or_closed(c, MULTI, body)))
        out.append(("created", c.exists(base + "/mx")[0], "data", c.get_data(base)[1].buf()))
        c.close()
        return out
    out = agree(targets, scenario)
    assert out[0] == ("multi", (-5, b""))


def test_create2_inside_multi_result_shape(targets):
    """ZooKeeper answers a create2 inside a multi with a plain create result (type 1, the
    path, no Stat)."""
    def scenario(address, base):
        c = raw(address)
        body = mhdr(CREATE2) + create_body(base + "/a", b"x") + mhdr(CREATE) + \
            create_body(base + "/b") + mhdr(CREATE2) + create_body(base + "/s-", flags=2) + \
            MULTI_END
        err, r, _ = c.call(MULTI, body)
        out = [err, [(t, e, p and p[len(base):], s) for t, e, p, s in read_multi(r)]]
        body = mhdr(CREATE2) + create_body(base + "/a") + MULTI_END  # fails: NODEEXISTS
        err, r, _ = c.call(MULTI, body)
        out += [err, read_multi(r)]
        c.close()
        return out
    out = agree(targets, scenario)
    assert out[1][0] == (CREATE, 0, "/a", False)


# ------------------------------------------------------------------ qlab shell and zkCli

def test_shell_get_prints_like_zkcli(targets, quorumlab):
    """`get` prints the data and a newline, `null` for null data and an empty line for empty
    data: zkCli against ZooKeeper and `qlab shell -c` against quorumlab print the same."""
    nodes = [("/shell-get", b"hello"), ("/shell-null", None), ("/shell-empty", b"")]
    for address in targets.values():
        c = raw(address)
        for path, data in nodes:
            assert c.create(path, data)[0] == 0
        c.close()
    tails = {}
    for path, _ in nodes:
        zkcli = subprocess.run([ZKCLI, "-server", targets["zookeeper"], "get", path],
                               capture_output=True, text=True, timeout=120)
        ours = subprocess.run([QLAB, "shell", "--connect", quorumlab.native_address, "-c",
                               "get " + path], capture_output=True, text=True, timeout=60)
        assert ours.returncode == 0, ours.stderr
        # What follows the session event line, if any (`qlab shell -c` prints none).
        tails[path] = [out[out.rindex("path:null\n") + 10:] if "path:null\n" in out else out
                       for out in (zkcli.stdout, ours.stdout)]
    assert tails == {"/shell-get": ["hello\n"] * 2, "/shell-null": ["null\n"] * 2,
                     "/shell-empty": ["\n"] * 2}
