"""The wire protocol byte by byte against `qlab server --zk-port 0` (reference §2): handshake
variants, session reconnect and expiry, special xids, reply order, opcodes no client library
here exercises, malformed frames, and the four-letter words on a raw socket."""
import struct

import pytest

from zkraw import (ADD_WATCH, AUTH, AUTH_XID, CHECK_WATCHES, CLOSE_SESSION, CREATE2,
                   CREATE_CONTAINER, CREATE_TTL, GET_ALL_CHILDREN_NUMBER, GET_CHILDREN,
                   GET_DATA, GET_EPHEMERALS, MULTI, MULTI_READ, NOTIFICATION_XID, PING, PING_XID,
                   RECONFIG, REMOVE_WATCHES, SASL, SET_WATCHES, SET_WATCHES2, SET_WATCHES_XID,
                   WHO_AM_I, Closed, RawClient, frame, jacl, jbool, jbuf, jint, jlong, jstr,
                   jstrs, OPEN_ACL)


@pytest.fixture
def raw(server):
    c = RawClient(server.zk_address)
    c.connect()
    yield c
    c.close()


# ------------------------------------------------------------------ §2.3 handshake

def test_connect_without_read_only_byte_gets_none_back(server):
    c = RawClient(server.zk_address)
    r = c.connect(with_read_only_byte=False)
    assert r["timeOut"] > 0 and r["sessionId"] != 0 and len(r["passwd"]) == 16
    assert r["readOnly"] is None and r["extra"] == 0
    c.close()


def test_connect_with_read_only_byte_gets_it_back(server):
    c = RawClient(server.zk_address)
    r = c.connect(read_only=True)
    assert r["readOnly"] is False  # a read-write server
    c.close()


def test_timeout_is_clamped(server):
    c = RawClient(server.zk_address)
    assert c.connect(timeout_ms=1)["timeOut"] == 4000           # min_session_timeout_ms
    c.close()
    c = RawClient(server.zk_address)
    assert c.connect(timeout_ms=10 ** 9)["timeOut"] == 40000    # max_session_timeout_ms
    c.close()


def test_reconnect_keeps_session_and_ephemerals(server):
    a = RawClient(server.zk_address)
    a.connect()
    err, _, _ = a.create("/raw-eph", flags=1)
    assert err == 0
    session, passwd = a.session_id, a.passwd
    a.close()
    b = RawClient(server.zk_address)
    r = b.connect(session_id=session, passwd=passwd, last_zxid=a.last_zxid)
    assert r["sessionId"] == session and r["timeOut"] > 0
    err, body, _ = b.exists("/raw-eph")
    assert err == 0 and body.stat()["ephemeralOwner"] == session
    assert b.delete("/raw-eph")[0] == 0
    b.close()


def test_wrong_password_is_an_expired_session(server):
    a = RawClient(server.zk_address)
    a.connect()
    c = RawClient(server.zk_address)
    r = c.connect(session_id=a.session_id, passwd=b"\x01" * 16)
    assert (r["timeOut"], r["sessionId"], r["passwd"]) == (0, 0, b"\x00" * 16)
    assert c.expect_closed()
    assert a.expect_closed()  # ZooKeeper closes the session's connection too
    a.close()


def test_unknown_session_is_expired(server):
    c = RawClient(server.zk_address)
    r = c.connect(session_id=0x7F00000000000001, passwd=b"\x00" * 16)
    assert (r["timeOut"], r["sessionId"]) == (0, 0)
    assert c.expect_closed()


def test_client_ahead_of_the_server_is_refused_without_reply(server):
    c = RawClient(server.zk_address)
    body = jint(0) + jlong(1 << 60) + jint(10000) + jlong(0) + jbuf(b"\x00" * 16) + jbool(False)
    c.send_raw(frame(body))
    assert c.expect_closed()


def test_requests_pipelined_behind_the_connect_are_served(server):
    """Clients send auth, setWatches and requests right after the ConnectRequest (§2.3)."""
    c = RawClient(server.zk_address)
    connect = jint(0) + jlong(0) + jint(10000) + jlong(0) + jbuf(b"\x00" * 16) + jbool(False)
    burst = frame(connect)
    burst += frame(jint(AUTH_XID) + jint(AUTH) + jint(0) + jstr("digest") + jbuf(b"u:p"))
    burst += frame(jint(1) + jint(GET_DATA) + jstr("/zookeeper") + jbool(False))
    burst += frame(jint(2) + jint(GET_DATA) + jstr("/nope") + jbool(False))
    c.send_raw(burst)
    c.read_frame()  # ConnectResponse
    replies = [c.read_reply()[:3] for _ in range(3)]
    assert [(x, e) for x, _, e in replies] == [(AUTH_XID, 0), (1, 0), (2, -101)]
    c.close()


# ------------------------------------------------------------------ §2.4, §2.5 xids and order

def test_ping(raw):
    raw.send(PING, xid=PING_XID)
    xid, zxid, err, _ = raw.read_reply()
    assert (xid, err) == (PING_XID, 0)


def test_replies_keep_request_order_and_client_xids(raw):
    xids = [raw.send(GET_DATA, jstr("/zookeeper") + jbool(False), xid=x)
            for x in (7, 7, 3, 1000)]
    got = [raw.read_reply()[0] for _ in xids]
    assert got == [7, 7, 3, 1000]


def test_notification_comes_before_the_reply_that_sees_the_change(server, raw):
    raw.create("/raw-watch", b"0")
    err, _, _ = raw.get_data("/raw-watch", watch=True)
    assert err == 0
    other = RawClient(server.zk_address)
    other.connect()
    assert other.set_data("/raw-watch", b"1")[0] == 0
    err, body, events = raw.get_data("/raw-watch")
    assert events == [(3, 3, "/raw-watch")]  # NodeDataChanged, SyncConnected
    assert body.buf() == b"1"
    assert raw.delete("/raw-watch")[0] == 0
    other.close()


def test_set_watches_after_reconnect_fires_missed_changes(server):
    a = RawClient(server.zk_address)
    a.connect()
    assert a.create("/sw", b"0")[0] == 0
    assert a.create("/sw-gone", b"0")[0] == 0
    a.get_data("/sw")
    session, passwd, seen = a.session_id, a.passwd, a.last_zxid
    a.close()
    b = RawClient(server.zk_address)
    b.connect()
    b.set_data("/sw", b"changed")
    b.delete("/sw-gone")
    b.create("/sw-new")
    a = RawClient(server.zk_address)
    a.connect(session_id=session, passwd=passwd, last_zxid=b.last_zxid)
    body = jlong(seen) + jstrs(["/sw", "/sw-gone"]) + jstrs(["/sw-new", "/sw-none"]) + jstrs([])
    err, _, events = a.call(SET_WATCHES, body, xid=SET_WATCHES_XID)
    assert err == 0
    assert sorted(events) == sorted([(3, 3, "/sw"), (2, 3, "/sw-gone"), (1, 3, "/sw-new")])
    # The exist watch on /sw-none stays armed.
    assert b.create("/sw-none")[0] == 0
    xid, _, _, r = a.read_reply()
    assert xid == NOTIFICATION_XID and (r.int(), r.int(), r.str()) == (1, 3, "/sw-none")
    for p in ("/sw", "/sw-new", "/sw-none"):
        b.delete(p)
    a.close()
    b.close()


# ------------------------------------------------------------------ opcodes (§1.1)

def test_create_family_result_shapes(raw):
    err, r, _ = raw.create("/shape2", b"ab", op=CREATE2)
    assert err == 0 and r.str() == "/shape2" and r.stat()["dataLength"] == 2
    err, r, _ = raw.create("/shape-c", flags=4, op=CREATE_CONTAINER)
    assert err == 0 and r.str() == "/shape-c" and r.stat()["ephemeralOwner"] == 0
    body = jstr("/shape-t") + jbuf(b"") + jacl(OPEN_ACL) + jint(5) + jlong(60000)
    err, r, _ = raw.call(CREATE_TTL, body)
    assert err == 0 and r.str() == "/shape-t"
    # createContainer makes a container whatever its flags (ZooKeeper 3.8); invalid flags are
    # BADARGUMENTS.
    assert raw.create("/shape-x", flags=0, op=CREATE_CONTAINER)[0] == 0
    assert raw.create("/shape-y", flags=9, op=CREATE_CONTAINER)[0] == -8
    for p in ("/shape2", "/shape-c", "/shape-t", "/shape-x"):
        assert raw.delete(p)[0] == 0


def test_multi_result_types(raw):
    def hdr(t):
        return jint(t) + jbool(False) + jint(-1)
    body = hdr(1) + jstr("/m1") + jbuf(b"") + jacl(OPEN_ACL) + jint(0)
    body += hdr(15) + jstr("/m2") + jbuf(b"x") + jacl(OPEN_ACL) + jint(0)
    body += hdr(5) + jstr("/m2") + jbuf(b"yy") + jint(-1)
    body += hdr(13) + jstr("/m1") + jint(0)
    body += hdr(2) + jstr("/m1") + jint(-1)
    body += jint(-1) + jbool(True) + jint(-1)
    err, r, _ = raw.call(MULTI, body)
    assert err == 0
    assert (r.int(), r.bool(), r.int(), r.str()) == (1, False, 0, "/m1")
    # ZooKeeper 3.8 answers a create2 inside a multi as a plain create (type 1, no Stat).
    assert (r.int(), r.bool(), r.int(), r.str()) == (1, False, 0, "/m2")
    assert (r.int(), r.bool(), r.int()) == (5, False, 0)
    assert r.stat()["dataLength"] == 2
    assert (r.int(), r.bool(), r.int()) == (13, False, 0)
    assert (r.int(), r.bool(), r.int()) == (2, False, 0)
    assert (r.int(), r.bool(), r.int()) == (-1, True, -1)
    # multiRead: independent results, header err 0.
    body = hdr(GET_DATA) + jstr("/m2") + jbool(False)
    body += hdr(GET_CHILDREN) + jstr("/nope") + jbool(False)
    body += jint(-1) + jbool(True) + jint(-1)
    err, r, _ = raw.call(MULTI_READ, body)
    assert err == 0
    assert (r.int(), r.bool(), r.int()) == (GET_DATA, False, 0)
    assert r.buf() == b"yy"
    r.stat()
    assert (r.int(), r.bool(), r.int(), r.int()) == (-1, False, -101, -101)
    assert raw.delete("/m2")[0] == 0


def test_session_ops(raw):
    assert raw.create("/eph-a", flags=1)[0] == 0
    assert raw.create("/eph-b", flags=1)[0] == 0
    err, r, _ = raw.call(GET_EPHEMERALS, jstr("/eph-a"))
    assert err == 0 and r.strs() == ["/eph-a"]
    err, r, _ = raw.call(GET_EPHEMERALS, jstr("/"))
    assert sorted(r.strs()) == ["/eph-a", "/eph-b"]
    err, r, _ = raw.call(GET_ALL_CHILDREN_NUMBER, jstr("/zookeeper"))
    assert err == 0 and r.int() == 2  # quota and config
    err, r, _ = raw.call(WHO_AM_I)
    assert err == 0
    infos = [(r.str(), r.str()) for _ in range(r.int())]
    assert ("ip", "127.0.0.1") in infos


def test_watch_management_ops(raw):
    raw.create("/wm")
    assert raw.call(CHECK_WATCHES, jstr("/wm") + jint(2))[0] == -121  # NOWATCHER
    err, r, _ = raw.call(ADD_WATCH, jstr("/wm") + jint(1))
    assert err == 0 and r.int() == 0 and r.left() == 0  # ErrorResponse{0}
    assert raw.call(CHECK_WATCHES, jstr("/wm") + jint(3))[0] == 0
    assert raw.call(REMOVE_WATCHES, jstr("/wm") + jint(3))[0] == 0
    assert raw.call(CHECK_WATCHES, jstr("/wm") + jint(3))[0] == -121
    body = jlong(0) + jstrs([]) + jstrs([]) + jstrs([]) + jstrs(["/wm"]) + jstrs([])
    assert raw.call(SET_WATCHES2, body, xid=SET_WATCHES_XID)[0] == 0
    err, _, events = raw.set_data("/wm", b"x")
    assert err == 0 and events == [(3, 3, "/wm")]  # the persistent watch fires, before the reply
    err, _, events = raw.set_data("/wm", b"y")
    assert events == [(3, 3, "/wm")]  # and again: persistent
    raw.delete("/wm")


def test_reconfig_sasl_and_unknown_opcodes_are_answered_in_order(raw):
    raw.send(GET_DATA, jstr("/zookeeper") + jbool(False), xid=1)
    raw.send(RECONFIG, jstr("server.9=h:1:2;3") + jstr(None) + jstr(None) + jlong(-1), xid=2)
    raw.send(SASL, jbuf(b"token"), xid=3)
    raw.send(4242, b"whatever", xid=4)
    raw.send(GET_DATA, jstr("/nope") + jbool(False), xid=5)
    got = [raw.read_reply()[::2][:2] for _ in range(4)]
    assert got == [(1, 0), (2, -123), (3, -6), (4, -6)]
    assert raw.expect_closed()  # after an unknown opcode, as ZooKeeper


def test_auth_failure_replies_then_closes(raw):
    raw.send(AUTH, jint(0) + jstr("nosuchscheme") + jbuf(b"x"), xid=AUTH_XID)
    xid, zxid, err, _ = raw.read_reply()
    assert (xid, err) == (AUTH_XID, -115)
    assert raw.expect_closed()


def test_close_session_replies_then_closes(server):
    c = RawClient(server.zk_address)
    c.connect()
    c.create("/closing-eph", flags=1)
    err, _, _ = c.call(CLOSE_SESSION)
    assert err == 0
    assert c.expect_closed()
    d = RawClient(server.zk_address)
    d.connect()
    assert d.exists("/closing-eph")[0] == -101
    d.close()


# ------------------------------------------------------------------ malformed input (§1.9, §2.2)

@pytest.mark.parametrize("length", [-1, -2 ** 31, 1048577, 2 ** 31 - 1])
def test_bad_frame_lengths_close_the_connection(server, length):
    c = RawClient(server.zk_address)
    c.connect()
    c.send_raw(struct.pack(">i", length) + b"\x00" * 16)
    assert c.expect_closed()


def test_bad_first_frame_length_closes(server):
    c = RawClient(server.zk_address)
    c.send_raw(struct.pack(">i", -5))
    assert c.expect_closed()


def test_truncated_connect_request_closes(server):
    c = RawClient(server.zk_address)
    c.send_raw(frame(jint(0) + jlong(0)))
    assert c.expect_closed()


def test_frame_shorter_than_a_header_closes(raw):
    raw.send_raw(frame(b"\x00\x00\x01"))
    assert raw.expect_closed()


def test_malformed_bodies_get_marshalling_error_and_the_session_goes_on(raw):
    raw.send_raw(frame(jint(1) + jint(GET_DATA) + jint(2 ** 31 - 1) + b"/"))
    raw.send_raw(frame(jint(2) + jint(GET_DATA) + jint(-7)))
    raw.send_raw(frame(jint(3) + jint(MULTI) + jint(1) + jbool(False)))
    raw.send_raw(frame(jint(4) + jint(SET_WATCHES) + jlong(0) + jint(10 ** 6)))
    got = [raw.read_reply()[::2][:2] for _ in range(4)]
    assert got == [(1, -5), (2, -5), (3, -5), (4, -5)]
    err, r, _ = raw.get_data("/zookeeper")
    assert err == 0


def test_largest_frame_is_accepted(raw):
    data = b"d" * (1048576 - 200)
    err, _, _ = raw.create("/big", data)
    assert err == 0
    err, r, _ = raw.get_data("/big")
    assert err == 0 and len(r.buf()) == len(data)
    assert raw.delete("/big")[0] == 0


# ------------------------------------------------------------------ four-letter words (§1.15)

@pytest.mark.parametrize("word,expect", [(b"ruok", "imok"), (b"isro", "rw"),
                                         (b"srvr", "Mode: standalone"), (b"stat", "Clients:"),
                                         (b"mntr", "zk_server_state\tstandalone"),
                                         (b"cons", "queued="), (b"conf", "clientPort="),
                                         (b"envi", "Environment:"), (b"wchs", "watch"),
                                         (b"dump", "not in the whitelist")])
def test_four_letter_words(server, word, expect):
    c = RawClient(server.zk_address)
    c.send_raw(word)
    assert expect in c.read_all_until_close().decode()


def test_telnet_close_sequence(server):
    c = RawClient(server.zk_address)
    c.send_raw(b"\xff\xf4\xff\xfd")
    assert c.expect_closed()


def test_four_letter_word_split_across_packets(server):
    c = RawClient(server.zk_address)
    c.send_raw(b"ru")
    c.send_raw(b"ok")
    assert c.read_all_until_close() == b"imok"
