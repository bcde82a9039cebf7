"""A minimal ZooKeeper wire-protocol client for the tests (reference/zookeeper.md §2).

Speaks jute over a blocking socket with a deadline on every read, so tests can send exactly the
bytes they want (old-style ConnectRequest without the readOnly byte, bad lengths, reconnects
with a chosen session and password, SetWatches) and look at exactly what comes back.
"""
import socket
import struct
import time

# Opcodes and special xids (§1.1, §2.4).
CREATE, DELETE, EXISTS, GET_DATA, SET_DATA = 1, 2, 3, 4, 5
GET_CHILDREN, SYNC, PING, GET_CHILDREN2, CHECK, MULTI, CREATE2 = 8, 9, 11, 12, 13, 14, 15
RECONFIG, CHECK_WATCHES, REMOVE_WATCHES, CREATE_CONTAINER, CREATE_TTL, MULTI_READ = (
    16, 17, 18, 19, 21, 22)
AUTH, SET_WATCHES, SASL, GET_EPHEMERALS, GET_ALL_CHILDREN_NUMBER = 100, 101, 102, 103, 104
SET_WATCHES2, ADD_WATCH, WHO_AM_I, CLOSE_SESSION = 105, 106, 107, -11
NOTIFICATION_XID, PING_XID, AUTH_XID, SET_WATCHES_XID = -1, -2, -4, -8

OPEN_ACL = [(31, "world", "anyone")]


def jint(v):
    return struct.pack(">i", v)


def jlong(v):
    return struct.pack(">q", v)


def jbool(v):
    return b"\x01" if v else b"\x00"


def jbuf(b):
    if b is None:
        return jint(-1)
    return jint(len(b)) + b


def jstr(s):
    return jbuf(None if s is None else s.encode())


def jstrs(items):
    return jint(len(items)) + b"".join(jstr(s) for s in items)


def jacl(acl):
    return jint(len(acl)) + b"".join(jint(p) + jstr(s) + jstr(i) for p, s, i in acl)


def frame(payload):
    return jint(len(payload)) + payload


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def int(self):
        (v,) = struct.unpack_from(">i", self.data, self.pos)
        self.pos += 4
        return v

    def long(self):
        (v,) = struct.unpack_from(">q", self.data, self.pos)
        self.pos += 8
        return v

    def bool(self):
        v = self.data[self.pos] != 0
        self.pos += 1
        return v

    def buf(self):
        n = self.int()
        if n < 0:
            return None
        v = self.data[self.pos:self.pos + n]
        self.pos += n
        return v

    def str(self):
        b = self.buf()
        return None if b is None else b.decode()

    def strs(self):
        return [self.str() for _ in range(self.int())]

    def stat(self):
        names = ("czxid mzxid ctime mtime version cversion aversion ephemeralOwner dataLength "
                 "numChildren pzxid").split()
        kinds = "llllIIIlIIl"
        out = {}
        for n, k in zip(names, kinds):
            out[n] = self.long() if k == "l" else self.int()
        return out

    def left(self):
        return len(self.data) - self.pos


class Closed(Exception):
    """The server closed the connection."""


class RawClient:
    """One TCP connection speaking jute. Every read waits at most `timeout` seconds."""

    def __init__(self, address, timeout=10.0):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.timeout = timeout
        self.xid = 0
        self.session_id = 0
        self.passwd = b"\x00" * 16
        self.last_zxid = 0

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def _read_exact(self, n):
        out = b""
        deadline = time.monotonic() + self.timeout
        while len(out) < n:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise Closed("closed by the server after %d of %d bytes" % (len(out), n))
            out += chunk
        return out

    def read_frame(self):
        (n,) = struct.unpack(">i", self._read_exact(4))
        return self._read_exact(n)

    def read_all_until_close(self):
        """Everything the server sends until it closes (for four-letter words)."""
        out = b""
        deadline = time.monotonic() + self.timeout
        while True:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                return out
            out += chunk

    def expect_closed(self):
        """True if the server closes the connection without sending anything more."""
        try:
            data = self.read_all_until_close()
        except (ConnectionResetError, socket.timeout):
            return False
        return data == b""

    # ------------------------------------------------------------------ handshake

    def connect(self, session_id=0, passwd=None, last_zxid=0, timeout_ms=10000, read_only=False,
                with_read_only_byte=True):
        body = jint(0) + jlong(last_zxid) + jint(timeout_ms) + jlong(session_id)
        body += jbuf(passwd if passwd is not None else b"\x00" * 16)
        if with_read_only_byte:
            body += jbool(read_only)
        self.send_raw(frame(body))
        r = Reader(self.read_frame())
        resp = {"protocolVersion": r.int(), "timeOut": r.int(), "sessionId": r.long(),
                "passwd": r.buf(), "readOnly": r.bool() if r.left() else None, "extra": r.left()}
        if resp["timeOut"] > 0:
            self.session_id = resp["sessionId"]
            self.passwd = resp["passwd"]
        return resp

    # ------------------------------------------------------------------ requests

    def next_xid(self):
        self.xid += 1
        return self.xid

    def send(self, op, body=b"", xid=None):
        xid = self.next_xid() if xid is None else xid
        self.send_raw(frame(jint(xid) + jint(op) + body))
        return xid

    def read_reply(self):
        """(xid, zxid, err, Reader over the body). Records zxid like a real client."""
        r = Reader(self.read_frame())
        xid, zxid, err = r.int(), r.long(), r.int()
        if zxid > 0 and xid != NOTIFICATION_XID:
            self.last_zxid = zxid
        return xid, zxid, err, r

    def call(self, op, body=b"", xid=None):
        """Sends one request and returns its reply, collecting notifications before it."""
        sent = self.send(op, body, xid)
        events = []
        while True:
            xid, zxid, err, r = self.read_reply()
            if xid == NOTIFICATION_XID:
                events.append((r.int(), r.int(), r.str()))
                continue
            assert xid == sent, "reply xid %d, expected %d" % (xid, sent)
            return err, r, events

    def create(self, path, data=b"", flags=0, acl=OPEN_ACL, op=CREATE):
        body = jstr(path) + jbuf(data) + jacl(acl) + jint(flags)
        return self.call(op, body)

    def get_data(self, path, watch=False):
        return self.call(GET_DATA, jstr(path) + jbool(watch))

    def set_data(self, path, data, version=-1):
        return self.call(SET_DATA, jstr(path) + jbuf(data) + jint(version))

    def exists(self, path, watch=False):
        return self.call(EXISTS, jstr(path) + jbool(watch))

    def delete(self, path, version=-1):
        return self.call(DELETE, jstr(path) + jint(version))
