"""A ZooKeeper-style client over quorumlab's native protocol, with a kazoo-like API.

>>> from quorumlab import Client
>>> with Client("127.0.0.1:7001", timeout=10) as zk:
...     zk.create("/app", b"config", makepath=True)
...     data, stat = zk.get("/app", watch=lambda event: print(event))

The C++ client (kernel/client) does the work: it pipelines requests, reconnects to another
server of the connect string with the same session, re-sends credentials and watches.

Threads. Blocking calls release the GIL while the C++ side waits. Each client has two Python
threads of its own: one completes the futures of the ``*_async`` calls, the other runs watch
callbacks and session listeners, one at a time, in the order the client received the events.
A callback may call back into the client (blocking or not) and may close it.
"""
from __future__ import annotations

import atexit
import base64
import enum
import hashlib
import itertools
import logging
import queue
import threading
import time
import weakref
from concurrent.futures import Future
from dataclasses import dataclass
from typing import (Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple,
                    Union)

from . import _native
from .exceptions import (AuthFailedError, ConnectionClosedError, ConnectionLossError,
                         RolledBackError, SessionExpiredError, ZooKeeperError, from_code)

log = logging.getLogger("quorumlab.client")

ZnodeStat = _native.ZnodeStat
#: The largest value a znode may hold (ZooKeeper's jute.maxbuffer default): 1 MiB.
MAX_DATA_BYTES = 1024 * 1024

Bytes = Union[bytes, bytearray, memoryview]


# ------------------------------------------------------------------------------------ values

class Permissions(enum.IntFlag):
    """ACL permission bits (ZooDefs.Perms)."""
    READ = 1
    WRITE = 2
    CREATE = 4
    DELETE = 8
    ADMIN = 16
    ALL = 31


class Id(NamedTuple):
    scheme: str
    id: str


class ACL(NamedTuple):
    """One access control entry: permission bits for an identity."""
    perms: int
    id: Id

    @property
    def acl_list(self) -> List[str]:
        return [p.name for p in Permissions if p != Permissions.ALL and self.perms & p]


OPEN_ACL_UNSAFE = [ACL(Permissions.ALL, Id("world", "anyone"))]
READ_ACL_UNSAFE = [ACL(Permissions.READ, Id("world", "anyone"))]
CREATOR_ALL_ACL = [ACL(Permissions.ALL, Id("auth", ""))]


def make_acl(scheme: str, credential: str, read: bool = False, write: bool = False,
             create: bool = False, delete: bool = False, admin: bool = False,
             all: bool = False) -> ACL:
    """An ACL entry for `scheme:credential` with the given permissions."""
    perms = Permissions.ALL if all else (
        (Permissions.READ if read else 0) | (Permissions.WRITE if write else 0)
        | (Permissions.CREATE if create else 0) | (Permissions.DELETE if delete else 0)
        | (Permissions.ADMIN if admin else 0))
    return ACL(int(perms), Id(scheme, credential))


def make_digest_acl_credential(username: str, password: str) -> str:
    """ZooKeeper's digest id: ``user:base64(sha1(user:password))``."""
    raw = f"{username}:{password}".encode()
    return f"{username}:{base64.b64encode(hashlib.sha1(raw).digest()).decode()}"


def make_digest_acl(username: str, password: str, **perms: bool) -> ACL:
    """A digest ACL entry for `username`/`password` (pass read=True, all=True, ...)."""
    return make_acl("digest", make_digest_acl_credential(username, password), **perms)


class EventType(enum.Enum):
    """What a watch event reports (Watcher.Event.EventType)."""
    NONE = -1
    CREATED = 1
    DELETED = 2
    CHANGED = 3
    CHILD = 4
    DATA_WATCH_REMOVED = 5
    CHILD_WATCH_REMOVED = 6
    PERSISTENT_WATCH_REMOVED = 7


class KeeperState(enum.Enum):
    """The session state an event carries (Watcher.Event.KeeperState)."""
    DISCONNECTED = 0
    CONNECTED = 3
    AUTH_FAILED = 4
    CONNECTED_RO = 5
    CLOSED = 7
    EXPIRED = -112


class SessionState(str, enum.Enum):
    """What session listeners receive, as kazoo's KazooState."""
    CONNECTED = "CONNECTED"    #: connected (first time or again, same session)
    SUSPENDED = "SUSPENDED"    #: disconnected; the client is reconnecting with its session
    LOST = "LOST"              #: the session expired or the client was closed
    AUTH_FAILED = "AUTH_FAILED"


@dataclass(frozen=True)
class WatchedEvent:
    """A watch notification (or a session event, with type NONE and an empty path)."""
    type: EventType
    state: KeeperState
    path: str
    zxid: int = -1


def _event(raw: Tuple[int, int, str, int]) -> WatchedEvent:
    t, s, path, zxid = raw
    try:
        state = KeeperState(s)
    except ValueError:
        state = KeeperState.CONNECTED
    return WatchedEvent(EventType(t), state, path, zxid)


class CreateMode(enum.IntEnum):
    PERSISTENT = 0
    EPHEMERAL = 1
    PERSISTENT_SEQUENTIAL = 2
    EPHEMERAL_SEQUENTIAL = 3
    CONTAINER = 4
    PERSISTENT_WITH_TTL = 5
    PERSISTENT_SEQUENTIAL_WITH_TTL = 6


def _create_mode(ephemeral: bool, sequence: bool, container: bool, ttl_ms: int) -> CreateMode:
    if container and (ephemeral or ttl_ms):
        raise ValueError("a container node cannot be ephemeral or have a TTL")
    if ephemeral and ttl_ms:
        raise ValueError("an ephemeral node cannot have a TTL")
    if ttl_ms < 0:
        raise ValueError(f"ttl_ms must not be negative, got {ttl_ms}")
    if container:
        if sequence:
            raise ValueError("a container node cannot be sequential")
        return CreateMode.CONTAINER
    if ttl_ms:
        return (CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL if sequence
                else CreateMode.PERSISTENT_WITH_TTL)
    if ephemeral:
        return CreateMode.EPHEMERAL_SEQUENTIAL if sequence else CreateMode.EPHEMERAL
    return CreateMode.PERSISTENT_SEQUENTIAL if sequence else CreateMode.PERSISTENT


def _path(path: Any) -> str:
    if not isinstance(path, str):
        raise TypeError(f"path must be a str, not {type(path).__name__}")
    return path


def _data(value: Any) -> bytes:
    if isinstance(value, str):
        raise TypeError("value must be bytes, not str (encode it, e.g. value.encode())")
    if value is None:
        return b""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"value must be bytes, not {type(value).__name__}")
    value = bytes(value)
    if len(value) > MAX_DATA_BYTES:
        raise ValueError(f"value is {len(value)} bytes, over the 1 MiB limit of a znode "
                         f"({MAX_DATA_BYTES} bytes)")
    return value


def _acl_tuples(acl: Optional[Sequence[ACL]]) -> List[Tuple[int, str, str]]:
    if acl is None:
        acl = OPEN_ACL_UNSAFE
    out = []
    for a in acl:
        if not isinstance(a, tuple) or len(a) != 2:
            raise TypeError(f"an ACL entry must be ACL(perms, Id(scheme, id)), got {a!r}")
        perms, ident = a
        if (not isinstance(ident, tuple) or len(ident) != 2
                or not all(isinstance(x, str) for x in ident)):
            raise TypeError(f"an ACL's id must be Id(scheme, id) with two str, got {ident!r}")
        out.append((int(perms), ident[0], ident[1]))
    if not out:
        raise ValueError("an ACL list must not be empty")
    return out


def _acls(raw: List[Tuple[int, str, str]]) -> List[ACL]:
    return [ACL(p, Id(s, i)) for p, s, i in raw]


def _version(version: int) -> int:
    if not isinstance(version, int):
        raise TypeError(f"version must be an int, not {type(version).__name__}")
    if version < -1 or version > 0x7FFFFFFF:
        raise ValueError(f"version must be -1 (any) or a non-negative int32, got {version}")
    return version


# ------------------------------------------------------------------------- transactions

class OpResult(NamedTuple):
    """One op's result in a multi: path (create), stat (create/set/check), data, children."""
    path: str
    stat: Optional[ZnodeStat]
    data: Optional[bytes] = None
    children: Optional[List[str]] = None


class TransactionRequest:
    """Ops collected and committed all or nothing (kazoo's ``client.transaction()``).

    >>> t = zk.transaction()
    >>> t.check("/a", version=3)
    >>> t.set_data("/a", b"x")
    >>> t.create("/b", b"")
    >>> results = t.commit()

    ``commit()`` returns one entry per op: the op's result (a path for create, a ZnodeStat for
    set_data, True for check and delete), or an exception instance for a failed transaction
    (the failing op's error; the others RolledBackError). Used as a context manager it commits
    on exit.
    """

    def __init__(self, client: "Client") -> None:
        self._client = client
        self.operations: List[Tuple] = []
        self.committed = False

    def create(self, path: str, value: Bytes = b"", acl: Optional[Sequence[ACL]] = None,
               ephemeral: bool = False, sequence: bool = False, container: bool = False,
               ttl_ms: int = 0) -> None:
        mode = _create_mode(ephemeral, sequence, container, ttl_ms)
        self.operations.append(("create", _path(path), _data(value), -1, int(mode),
                                _acl_tuples(acl), ttl_ms))

    def delete(self, path: str, version: int = -1) -> None:
        self.operations.append(("delete", _path(path), b"", _version(version), 0, [], 0))

    def set_data(self, path: str, value: Bytes, version: int = -1) -> None:
        self.operations.append(("set_data", _path(path), _data(value), _version(version), 0,
                                [], 0))

    def check(self, path: str, version: int) -> None:
        self.operations.append(("check", _path(path), b"", _version(version), 0, [], 0))

    def commit(self) -> List[Any]:
        """Commits the ops; returns their results (see the class doc)."""
        return self._commit(False)

    def commit_async(self) -> "Future[List[Any]]":
        return self._commit(True)

    def _commit(self, asynchronous: bool) -> Any:
        if self.committed:
            raise ValueError("the transaction was committed already")
        self.committed = True
        ops = list(self.operations)
        return self._client._op("multi", (ops, False), lambda v: _multi_results(ops, v), None,
                                asynchronous, multi=True)

    def __enter__(self) -> "TransactionRequest":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None and not self.committed:
            self.commit()


def _multi_results(ops: List[Tuple], raw: List[Tuple]) -> List[Any]:
    out: List[Any] = []
    failed = any(r[0] for r in raw)
    for op, (err, path, stat, data, children) in zip(ops, raw):
        kind = op[0]
        if failed and err in (0, -2):  # fine but rolled back with the failing op
            out.append(RolledBackError("rolled back (another op of the multi failed)",
                                       path=op[1]))
        elif err:
            out.append(from_code(err, op[1]))
        elif kind == "create":
            out.append(path)
        elif kind == "set_data":
            out.append(stat)
        elif kind == "get_data":
            out.append((data, stat))
        elif kind == "get_children":
            out.append(children)
        else:
            out.append(True)
    return out


# ------------------------------------------------------------------------------ the client

class _ClientFuture(Future):
    """A Future of one client's call. Its done-callbacks run on the client's completions
    thread; waiting there for another of the client's futures (a callback that calls
    ``zk.get_async(p).result()``) completes the pending results inline instead of waiting for
    itself."""

    def __init__(self, client: "Client") -> None:
        super().__init__()
        self._client_ref = weakref.ref(client)

    def _pump(self, timeout: Optional[float]) -> None:
        client = self._client_ref()
        if client is None or threading.current_thread() is not client._threads[0]:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return
            if not client._pump_completions(0.05 if left is None else min(left, 0.05)):
                client._fail_pending()
                return

    def result(self, timeout: Optional[float] = None) -> Any:
        self._pump(timeout)
        return super().result(timeout)

    def exception(self, timeout: Optional[float] = None) -> Optional[BaseException]:
        self._pump(timeout)
        return super().exception(timeout)


# Clients still open at interpreter exit are closed first (their C++ threads must stop before
# the interpreter goes away).
_open_clients: "weakref.WeakSet[Client]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for c in list(_open_clients):
        try:
            c.close(1.0)
        except Exception:
            pass


class WatchIterator:
    """Events of a persistent watch as an iterator; a context manager that removes the watch.

    >>> with zk.watch("/config", recursive=True) as events:
    ...     for event in events:            # blocks until the next event
    ...         print(event.type, event.path)
    ...         if event.type is EventType.DELETED: break

    ``events.get(timeout)`` waits at most `timeout` seconds (raises queue.Empty).
    """

    def __init__(self, client: "Client", path: str, recursive: bool) -> None:
        self._client = client
        self.path = path
        self.recursive = recursive
        self._queue: "queue.Queue[Optional[WatchedEvent]]" = queue.Queue()
        self._token = client._add_watch(path, self._queue.put, recursive)
        self._closed = False
        client._iterators.add(self)

    def get(self, timeout: Optional[float] = None) -> WatchedEvent:
        """The next event; raises queue.Empty after `timeout` seconds, StopIteration once the
        watch (or the client) is closed and the events before are taken."""
        event = self._queue.get(timeout=timeout)
        if event is None:
            raise StopIteration
        return event

    def __iter__(self) -> Iterator[WatchedEvent]:
        return self

    def __next__(self) -> WatchedEvent:
        return self.get()

    def close(self) -> None:
        """Removes the watch (when no other persistent watch of this client uses the path)."""
        if self._closed:
            return
        self._closed = True
        self._client._drop_watch(self._token, self.path, self.recursive)
        self._queue.put(None)

    def __enter__(self) -> "WatchIterator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Client:
    """One ZooKeeper-style session over quorumlab's native protocol (an API like kazoo's
    KazooClient: create/get/set/delete/exists/get_children, transactions, watches, ACLs).

    Args:
        hosts: ``host:port[,host:port...][/chroot]`` (``Cluster.connect_string``).
        timeout: requested session timeout in seconds (the server may clamp it).
        connect_timeout: seconds to wait for the first connection (default: `timeout`);
            ``ConnectionLossError`` when it passes. 0 returns at once (see wait_connected).
        session_id, session_passwd: resume an existing session.
        read_only: allow a read-only session on a server outside a quorum.
        auth_data: ``[(scheme, credential), ...]`` added before returning.

    Calls raise ZooKeeper's errors as :mod:`quorumlab.exceptions` (``NoNodeError``, ...);
    a call on a closed client raises ``ConnectionClosedError``. Every call has an ``*_async``
    variant returning a :class:`concurrent.futures.Future` (in asyncio code:
    ``await asyncio.wrap_future(zk.get_async(path))``).
    """

    def __init__(self, hosts: str, timeout: float = 10.0,
                 connect_timeout: Optional[float] = None, session_id: int = 0,
                 session_passwd: bytes = b"", read_only: bool = False,
                 auth_data: Optional[Sequence[Tuple[str, str]]] = None) -> None:
        if not isinstance(hosts, str):
            raise TypeError(f"hosts must be a str, not {type(hosts).__name__}")
        self.hosts = hosts
        self._tokens = itertools.count(1)
        self._lock = threading.Lock()
        self._futures: Dict[int, Tuple[Future, Tuple]] = {}  # token -> (future, op spec)
        self._watchers: Dict[int, Tuple[Callable[[WatchedEvent], Any], bool, str]] = {}
        self._listeners: List[Callable[[SessionState], Any]] = []
        self._iterators: "weakref.WeakSet[WatchIterator]" = weakref.WeakSet()
        self._state: Optional[SessionState] = None  # before the first session event
        self._native = _native.NativeClient(hosts, float(timeout), 0.0, int(session_id),
                                            bytes(session_passwd), bool(read_only))
        self._threads = [
            threading.Thread(target=self._run_completions, name="quorumlab-completions",
                             daemon=True),
            threading.Thread(target=self._run_events, name="quorumlab-events", daemon=True),
        ]
        for t in self._threads:
            t.start()
        _open_clients.add(self)
        wait = timeout if connect_timeout is None else connect_timeout
        if wait and not self._native.wait_connected(float(wait)):
            state = self._native.state()
            self.close()
            if state == "EXPIRED":
                raise SessionExpiredError(f"session {session_id:#x} has expired")
            if state == "AUTH_FAILED":
                raise AuthFailedError("the servers rejected the session's credentials")
            raise ConnectionLossError(f"could not connect to {hosts} within {wait} s "
                                      f"(client state {state})")
        if wait:
            self._set_state(SessionState.CONNECTED)
        for scheme, credential in auth_data or ():
            self.add_auth(scheme, credential)

    # ---- session ------------------------------------------------------------------------

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        native = getattr(self, "_native", None)
        if native is not None and not native.closed():
            try:
                native.close(1.0)
            except Exception:
                pass

    @property
    def closed(self) -> bool:
        return self._native.closed()

    @property
    def connected(self) -> bool:
        """True while the session is connected to a server."""
        return self._native.state() == "CONNECTED"

    @property
    def state(self) -> str:
        """The C++ client's state: CONNECTING, CONNECTED, CLOSED, EXPIRED, AUTH_FAILED."""
        return self._native.state()

    @property
    def client_id(self) -> Tuple[int, bytes]:
        """(session id, password): resume the session in another Client."""
        return self._native.session_id(), self._native.session_passwd()

    @property
    def session_id(self) -> int:
        return self._native.session_id()

    @property
    def session_timeout(self) -> float:
        """The negotiated session timeout in seconds."""
        return self._native.negotiated_timeout()

    @property
    def last_zxid(self) -> int:
        """The highest zxid seen in a reply."""
        return self._native.last_zxid()

    @property
    def current_server(self) -> str:
        """host:port of the server the session is connected (or connecting) to."""
        return self._native.current_server()

    def wait_connected(self, timeout: float) -> bool:
        """Waits until the session is connected; False after `timeout` seconds."""
        return bool(self._native_call("wait_connected", float(timeout)))

    def add_listener(self, listener: Callable[[SessionState], Any]) -> None:
        """Calls ``listener(SessionState)`` on every change of the session's state."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[SessionState], Any]) -> None:
        with self._lock:
            self._listeners.remove(listener)

    def close(self, timeout: float = 5.0) -> None:
        """Ends the session and stops the client's threads. Idempotent; safe in a callback."""
        self._native.close(float(timeout))
        self._join()

    def detach(self) -> None:
        """Stops using the session without ending it (resume it with client_id)."""
        self._native.detach()
        self._join()

    # kazoo's names
    stop = close

    def start(self, timeout: float = 15.0) -> None:
        """Waits until connected (the constructor already connects); kazoo's ``start``.
        Raises ConnectionLossError after `timeout` seconds."""
        if not self.wait_connected(timeout):
            raise ConnectionLossError(f"could not connect to {self.hosts} within {timeout} s")

    # recipes bound to this client, as kazoo offers them (zk.Lock("/path", "me"))
    def Lock(self, path: str, identifier: str = "") -> Any:
        """A :class:`quorumlab.recipes.Lock` on this client."""
        from .recipes import Lock
        return Lock(self, path, identifier)

    def ReadWriteLock(self, path: str, identifier: str = "") -> Any:
        """A :class:`quorumlab.recipes.ReadWriteLock` (``.read_lock``, ``.write_lock``)."""
        from .recipes import ReadWriteLock
        return ReadWriteLock(self, path, identifier)

    def Election(self, path: str, identifier: str = "") -> Any:
        """A :class:`quorumlab.recipes.Election` on this client."""
        from .recipes import Election
        return Election(self, path, identifier)

    def Barrier(self, path: str) -> Any:
        from .recipes import Barrier
        return Barrier(self, path)

    def DoubleBarrier(self, path: str, num_clients: int, identifier: Optional[str] = None) -> Any:
        from .recipes import DoubleBarrier
        return DoubleBarrier(self, path, num_clients, identifier)

    def Queue(self, path: str) -> Any:
        from .recipes import Queue
        return Queue(self, path)

    def Counter(self, path: str, default: int = 0) -> Any:
        from .recipes import Counter
        return Counter(self, path, default)

    def _join(self) -> None:
        me = threading.current_thread()
        for t in self._threads:
            if t is not me:
                t.join()

    # ---- operations ---------------------------------------------------------------------

    def create(self, path: str, value: Bytes = b"", acl: Optional[Sequence[ACL]] = None,
               ephemeral: bool = False, sequence: bool = False, makepath: bool = False,
               include_data: bool = False, container: bool = False,
               ttl_ms: int = 0) -> Union[str, Tuple[str, ZnodeStat]]:
        """Creates a node; returns its real path (with the sequence suffix), or (path, stat)
        with include_data. Modes: ephemeral, sequence, container, ttl_ms (a persistent node
        the server removes once it has had no children and no change for ttl_ms). makepath
        creates the missing parents (persistent, same ACL)."""
        return self._create(path, value, acl, ephemeral, sequence, makepath, include_data,
                            container, ttl_ms, False)

    def create_async(self, path: str, value: Bytes = b"", acl: Optional[Sequence[ACL]] = None,
                     ephemeral: bool = False, sequence: bool = False, makepath: bool = False,
                     include_data: bool = False, container: bool = False,
                     ttl_ms: int = 0) -> "Future[Union[str, Tuple[str, ZnodeStat]]]":
        """create() returning a Future (with makepath the parents are made before it returns)."""
        return self._create(path, value, acl, ephemeral, sequence, makepath, include_data,
                            container, ttl_ms, True)

    def _create(self, path: str, value: Bytes, acl: Optional[Sequence[ACL]], ephemeral: bool,
                sequence: bool, makepath: bool, include_data: bool, container: bool,
                ttl_ms: int, asynchronous: bool) -> Any:
        path = _path(path)
        data = _data(value)
        mode = int(_create_mode(ephemeral, sequence, container, ttl_ms))
        acls = _acl_tuples(acl)
        if makepath:
            parent = path.rsplit("/", 1)[0]
            if parent:
                self.ensure_path(parent, acl)
        return self._op("create", (path, data, mode, acls, int(ttl_ms)),
                        (lambda v: v) if include_data else (lambda v: v[0]), path, asynchronous)

    def ensure_path(self, path: str, acl: Optional[Sequence[ACL]] = None) -> bool:
        """Creates `path` and its missing parents as persistent nodes."""
        path = _path(path)
        current = ""
        for part in [p for p in path.split("/") if p]:
            current += "/" + part
            if self.exists(current) is None:
                try:
                    self.create(current, b"", acl)
                except ZooKeeperError as e:
                    if e.code != -110:  # NodeExists: someone else made it
                        raise
        return True

    def get(self, path: str, watch: Optional[Callable[[WatchedEvent], Any]] = None
            ) -> Tuple[bytes, ZnodeStat]:
        """(data, stat) of the node. `watch` is called once on its next change or delete."""
        return self._get(path, watch, False)

    def get_async(self, path: str, watch: Optional[Callable[[WatchedEvent], Any]] = None
                  ) -> "Future[Tuple[bytes, ZnodeStat]]":
        return self._get(path, watch, True)

    def _get(self, path: str, watch: Any, asynchronous: bool) -> Any:
        path = _path(path)
        token = self._watch_token(watch, path)
        return self._op("get_data", (path, token),
                        lambda v: (v[0] if v[0] is not None else b"", v[1]), path, asynchronous,
                        watch_token=token)

    def set(self, path: str, value: Bytes, version: int = -1) -> ZnodeStat:
        """Sets the node's data if its version is `version` (-1: any); returns the new stat."""
        return self._op("set_data", (_path(path), _data(value), _version(version)), None, path,
                        False)

    def set_async(self, path: str, value: Bytes, version: int = -1) -> "Future[ZnodeStat]":
        return self._op("set_data", (_path(path), _data(value), _version(version)), None, path,
                        True)

    def delete(self, path: str, version: int = -1, recursive: bool = False) -> bool:
        """Deletes the node if its version is `version` (-1: any); with recursive, its
        children first (not atomic)."""
        if recursive:
            self._delete_recursive(_path(path))
            return True
        return self._op("remove", (_path(path), _version(version)), lambda v: True, path, False)

    def delete_async(self, path: str, version: int = -1) -> "Future[bool]":
        return self._op("remove", (_path(path), _version(version)), lambda v: True, path, True)

    def _delete_recursive(self, path: str) -> None:
        try:
            children = self.get_children(path)
        except ZooKeeperError as e:
            if e.code == -101:
                return
            raise
        for child in children:
            self._delete_recursive(path.rstrip("/") + "/" + child)
        try:
            self.delete(path)
        except ZooKeeperError as e:
            if e.code != -101:
                raise

    def exists(self, path: str, watch: Optional[Callable[[WatchedEvent], Any]] = None
               ) -> Optional[ZnodeStat]:
        """The node's stat, or None. `watch` is called once when it is created, changed or
        deleted."""
        return self._exists(path, watch, False)

    def exists_async(self, path: str, watch: Optional[Callable[[WatchedEvent], Any]] = None
                     ) -> "Future[Optional[ZnodeStat]]":
        return self._exists(path, watch, True)

    def _exists(self, path: str, watch: Any, asynchronous: bool) -> Any:
        path = _path(path)
        token = self._watch_token(watch, path)
        return self._op("exists", (path, token), None, path, asynchronous, watch_token=token,
                        none_on_nonode=True)

    def get_children(self, path: str, watch: Optional[Callable[[WatchedEvent], Any]] = None,
                     include_data: bool = False
                     ) -> Union[List[str], Tuple[List[str], ZnodeStat]]:
        """The children's names (unordered), or (names, parent stat) with include_data.
        `watch` is called once when a child is created or deleted, or the node deleted."""
        return self._children(path, watch, include_data, False)

    def get_children_async(self, path: str,
                           watch: Optional[Callable[[WatchedEvent], Any]] = None,
                           include_data: bool = False) -> "Future[Any]":
        return self._children(path, watch, include_data, True)

    def _children(self, path: str, watch: Any, include_data: bool, asynchronous: bool) -> Any:
        path = _path(path)
        token = self._watch_token(watch, path)
        return self._op("get_children", (path, token),
                        (lambda v: v) if include_data else (lambda v: v[0]), path, asynchronous,
                        watch_token=token)

    def sync(self, path: str = "/") -> str:
        """sync_op: the connected server catches up with the leader before answering."""
        return self._op("sync_op", (_path(path),), None, path, False)

    def sync_async(self, path: str = "/") -> "Future[str]":
        return self._op("sync_op", (_path(path),), None, path, True)

    def check(self, path: str, version: int) -> ZnodeStat:
        """Raises BadVersionError unless the node's version is `version`."""
        return self._op("check", (_path(path), _version(version)), None, path, False)

    def get_acls(self, path: str) -> Tuple[List[ACL], ZnodeStat]:
        """(ACL list, stat) of the node."""
        return self._op("get_acl", (_path(path),), lambda v: (_acls(v[0]), v[1]), path, False)

    def get_acls_async(self, path: str) -> "Future[Tuple[List[ACL], ZnodeStat]]":
        return self._op("get_acl", (_path(path),), lambda v: (_acls(v[0]), v[1]), path, True)

    def set_acls(self, path: str, acls: Sequence[ACL], version: int = -1) -> ZnodeStat:
        """Sets the node's ACL if its ACL version is `version` (-1: any)."""
        return self._op("set_acl", (_path(path), _acl_tuples(acls), _version(version)), None,
                        path, False)

    def set_acls_async(self, path: str, acls: Sequence[ACL], version: int = -1
                       ) -> "Future[ZnodeStat]":
        return self._op("set_acl", (_path(path), _acl_tuples(acls), _version(version)), None,
                        path, True)

    def add_auth(self, scheme: str, credential: Union[str, bytes]) -> None:
        """Adds a credential to the session (``"digest", "user:password"``); re-sent on every
        reconnect. A rejected credential raises AuthFailedError and ends the session."""
        cred = credential.encode() if isinstance(credential, str) else bytes(credential)
        self._op("add_auth", (scheme, cred), None, None, False)

    def add_auth_async(self, scheme: str, credential: Union[str, bytes]) -> "Future[None]":
        cred = credential.encode() if isinstance(credential, str) else bytes(credential)
        return self._op("add_auth", (scheme, cred), None, None, True)

    def whoami(self) -> List[Id]:
        """The session's authenticated identities."""
        return self._op("who_am_i", (), lambda v: [Id(s, i) for s, i in v], None, False)

    def transaction(self) -> TransactionRequest:
        """A transaction: collect ops, then ``commit()`` (all or nothing)."""
        return TransactionRequest(self)

    def multi(self, *ops: Tuple) -> List[Any]:
        """Runs ops built with :class:`Op` all or nothing; returns their results, or raises
        the failing op's error (with ``.results``: every op's result or exception)."""
        ops_l = list(ops)
        return self._op("multi", (ops_l, False), lambda v: _multi_results(ops_l, v), None,
                        False, multi=True, raise_multi=True)

    def multi_async(self, *ops: Tuple) -> "Future[List[Any]]":
        ops_l = list(ops)
        return self._op("multi", (ops_l, False), lambda v: _multi_results(ops_l, v), None,
                        True, multi=True, raise_multi=True)

    def add_watch(self, path: str, watch: Callable[[WatchedEvent], Any],
                  recursive: bool = False) -> None:
        """A persistent watch: `watch` gets every change of the node (and with recursive, of
        every node below it) until remove_watches."""
        self._add_watch(_path(path), watch, recursive)

    def watch(self, path: str, recursive: bool = False) -> WatchIterator:
        """A persistent watch as a context-managed iterator of events."""
        return WatchIterator(self, _path(path), recursive)

    def remove_watches(self, path: str, watcher_type: str = "any", local: bool = False) -> None:
        """Removes every watcher of `watcher_type` (children, data, any, persistent,
        persistent_recursive) on `path`, here and on the server."""
        types = {"children": 1, "data": 2, "any": 3, "persistent": 4,
                 "persistent_recursive": 5}
        if watcher_type not in types:
            raise ValueError(f"watcher_type must be one of {', '.join(types)}")
        err, _ = self._native_call("remove_watches", _path(path), types[watcher_type], local)
        if err:
            raise from_code(err, path)

    def get_ephemerals(self, prefix: str = "/") -> List[str]:
        """This session's ephemeral nodes under `prefix`."""
        err, value = self._native_call("get_ephemerals", _path(prefix))
        if err:
            raise from_code(err, prefix)
        return value

    def retry(self, fn: Callable[..., Any], *args: Any, timeout: Optional[float] = None,
              **kwargs: Any) -> Any:
        """Calls ``fn(*args, **kwargs)`` again after each ConnectionLossError, once the client
        has reconnected (its session lives on), until `timeout` seconds pass. Only for calls
        that are safe to repeat: a write that failed with a connection loss may have
        applied."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                return fn(*args, **kwargs)
            except ConnectionLossError:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise
                self.wait_connected(1.0 if left is None else min(1.0, left))

    # ---- internals ----------------------------------------------------------------------

    def _native_call(self, name: str, *args: Any) -> Any:
        try:
            return getattr(self._native, name)(*args)
        except _native.ClientClosed:
            raise ConnectionClosedError("the client is closed") from None

    def _op(self, name: str, args: Tuple, convert: Optional[Callable[[Any], Any]],
            path: Optional[str], asynchronous: bool, watch_token: int = 0,
            none_on_nonode: bool = False, multi: bool = False,
            raise_multi: bool = False) -> Any:
        """Runs native op `name`: blocking (the GIL released while C++ waits; the result or
        the error raised) or asynchronous (a Future completed by the completions thread)."""
        spec = (convert or (lambda v: v), path, watch_token, none_on_nonode, multi, raise_multi)
        if not asynchronous:
            try:
                err, value = self._native_call(name, *args)
            except BaseException:
                self._forget_watch(watch_token)
                raise
            ok, out = self._outcome(err, value, spec)
            if ok:
                return out
            raise out
        future: Future = _ClientFuture(self)
        token = next(self._tokens)
        with self._lock:
            self._futures[token] = (future, spec)
        try:
            self._native_call(name + "_async", token, *args)
        except BaseException:
            with self._lock:
                self._futures.pop(token, None)
            self._forget_watch(watch_token)
            raise
        return future

    def _forget_watch(self, token: int) -> None:
        if token:
            with self._lock:
                self._watchers.pop(token, None)

    def _outcome(self, err: int, value: Any, spec: Tuple) -> Tuple[bool, Any]:
        convert, path, watch_token, none_on_nonode, multi, raise_multi = spec
        if err and not (none_on_nonode and err == -101):
            self._forget_watch(watch_token)  # the watch was not armed
        try:
            if err == 0:
                return True, convert(value)
            if none_on_nonode and err == -101:
                return True, None
            if multi and value is not None:
                results = convert(value)
                if not raise_multi:
                    return True, results
                failed = next((r for r in results if isinstance(r, ZooKeeperError)
                               and not isinstance(r, RolledBackError)), from_code(err))
                failed.results = results
                return False, failed
            return False, from_code(err, path)
        except BaseException as e:  # noqa: BLE001 - a converter bug is the caller's error
            return False, e

    def _complete(self, token: int, result: Tuple[int, Any]) -> None:
        with self._lock:
            entry = self._futures.pop(token, None)
        if entry is None:
            return
        future, spec = entry
        ok, out = self._outcome(result[0], result[1], spec)
        if not future.set_running_or_notify_cancel():
            return
        if ok:
            future.set_result(out)
        else:
            future.set_exception(out)

    def _watch_token(self, watch: Optional[Callable[[WatchedEvent], Any]], path: str,
                     persistent: bool = False) -> int:
        if watch is None:
            return 0
        if not callable(watch):
            raise TypeError("watch must be callable")
        token = next(self._tokens)
        with self._lock:
            self._watchers[token] = (watch, persistent, path)
        return token

    def _add_watch(self, path: str, fn: Callable[[WatchedEvent], Any], recursive: bool) -> int:
        token = self._watch_token(fn, path, persistent=True)
        err, _ = self._native_call("add_watch", path, recursive, token)
        if err:
            with self._lock:
                self._watchers.pop(token, None)
            raise from_code(err, path)
        return token

    def _drop_watch(self, token: int, path: str, recursive: bool) -> None:
        """Forgets a persistent watcher; removes it on the server when it was the last one of
        its kind on the path (the C++ client removes every watcher of a type at once)."""
        with self._lock:
            self._watchers.pop(token, None)
        if self.closed:
            return
        # Other persistent watchers of this client on the same path keep the server's watch.
        with self._lock:
            others = any(p and w_path == path for (_, p, w_path) in self._watchers.values())
        if not others:
            try:
                self.remove_watches(path, "persistent_recursive" if recursive else "persistent")
            except ZooKeeperError:
                pass

    def _pump_completions(self, timeout: float) -> bool:
        """Completes the futures whose results arrived (waits up to `timeout`); False once the
        client is gone."""
        batch = self._native.poll_completions(timeout)
        if batch is None:
            return False
        for token, result in batch:
            self._complete(token, result)
        return True

    def _run_completions(self) -> None:
        while self._pump_completions(1.0):
            pass
        self._fail_pending()

    def _fail_pending(self) -> None:
        """The client is gone: nothing else will complete."""
        with self._lock:
            left = list(self._futures.values())
            self._futures.clear()
        for future, _ in left:
            if not future.done():
                future.set_exception(ConnectionClosedError("the client is closed"))

    def _run_events(self) -> None:
        while True:
            batch = self._native.poll_events(1.0)
            if batch is None:
                break
            for token, raw in batch:
                event = _event(raw)
                if token == 0:
                    self._session_event(event)
                    continue
                with self._lock:
                    entry = self._watchers.get(token)
                    if entry is not None and (not entry[1] or event.type in (
                            EventType.PERSISTENT_WATCH_REMOVED,)):
                        del self._watchers[token]
                if entry is None:
                    continue
                try:
                    entry[0](event)
                except Exception:  # noqa: BLE001 - a user callback must not stop the others
                    log.exception("watch callback for %s raised", event.path)
        if self._state is not SessionState.LOST:
            self._set_state(SessionState.LOST)
        for it in list(self._iterators):  # no more events: iterators end
            it._queue.put(None)

    def _session_event(self, event: WatchedEvent) -> None:
        state = {KeeperState.CONNECTED: SessionState.CONNECTED,
                 KeeperState.CONNECTED_RO: SessionState.CONNECTED,
                 KeeperState.DISCONNECTED: SessionState.SUSPENDED,
                 KeeperState.EXPIRED: SessionState.LOST,
                 KeeperState.CLOSED: SessionState.LOST,
                 KeeperState.AUTH_FAILED: SessionState.AUTH_FAILED}.get(event.state)
        if state is not None:
            self._set_state(state)

    def _set_state(self, state: SessionState) -> None:
        with self._lock:
            if state is self._state:
                return
            self._state = state
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(state)
            except Exception:  # noqa: BLE001
                log.exception("session listener raised")

    @property
    def session_state(self) -> SessionState:
        """CONNECTED, SUSPENDED (reconnecting), LOST or AUTH_FAILED, as listeners saw it (LOST
        before the first connection)."""
        return self._state or SessionState.LOST


class Op:
    """Ops for :meth:`Client.multi` (``zk.multi(Op.check("/a", 1), Op.delete("/a"))``)."""

    @staticmethod
    def create(path: str, value: Bytes = b"", acl: Optional[Sequence[ACL]] = None,
               ephemeral: bool = False, sequence: bool = False, container: bool = False,
               ttl_ms: int = 0) -> Tuple:
        mode = _create_mode(ephemeral, sequence, container, ttl_ms)
        return ("create", _path(path), _data(value), -1, int(mode), _acl_tuples(acl), ttl_ms)

    @staticmethod
    def delete(path: str, version: int = -1) -> Tuple:
        return ("delete", _path(path), b"", _version(version), 0, [], 0)

    @staticmethod
    def set_data(path: str, value: Bytes, version: int = -1) -> Tuple:
        return ("set_data", _path(path), _data(value), _version(version), 0, [], 0)

    @staticmethod
    def check(path: str, version: int) -> Tuple:
        return ("check", _path(path), b"", _version(version), 0, [], 0)
