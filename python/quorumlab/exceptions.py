"""ZooKeeper's error codes as a Python exception hierarchy.

Every error a server or the client library reports is raised as a subclass of
:class:`ZooKeeperError` named as in kazoo (``NoNodeError``, ``NodeExistsError``,
``BadVersionError``, ...). ``err.code`` is ZooKeeper's numeric code, ``err.path`` the path of
the call when there is one.
"""
from __future__ import annotations

from typing import Dict, Optional, Type


class ZooKeeperError(Exception):
    """Base of every error reported by a ZooKeeper-style server or the client."""

    code: int = 0
    name: str = "ZooKeeperError"

    def __init__(self, message: Optional[str] = None, path: Optional[str] = None,
                 code: Optional[int] = None) -> None:
        if code is not None:
            self.code = code
        self.path = path
        if message is None:
            message = _describe(self.code)
        if path:
            message = f"{message}: {path}"
        super().__init__(message)


def _describe(code: int) -> str:
    try:
        from . import _native
        return f"{_native.error_message(code)} ({_native.error_name(code)}, {code})"
    except Exception:  # the extension may be missing while building docs
        return f"ZooKeeper error {code}"


class SystemZookeeperError(ZooKeeperError):
    code = -1


class RuntimeInconsistencyError(ZooKeeperError):
    code = -2


class DataInconsistencyError(ZooKeeperError):
    code = -3


class ConnectionLossError(ZooKeeperError):
    """The connection broke before the reply arrived; the outcome of a write is unknown."""
    code = -4


class MarshallingError(ZooKeeperError):
    code = -5


class UnimplementedError(ZooKeeperError):
    code = -6


class OperationTimeoutError(ZooKeeperError):
    code = -7


class BadArgumentsError(ZooKeeperError, ValueError):
    """An argument is not valid (a malformed path, a bad TTL, ...)."""
    code = -8


class UnknownSessionError(ZooKeeperError):
    code = -12


class NewConfigNoQuorumError(ZooKeeperError):
    code = -13


class ReconfigInProgressError(ZooKeeperError):
    code = -14


class APIError(ZooKeeperError):
    code = -100


class NoNodeError(ZooKeeperError):
    """The node does not exist."""
    code = -101


class NoAuthError(ZooKeeperError):
    """The session's credentials do not grant the permission (ACL)."""
    code = -102


class BadVersionError(ZooKeeperError):
    """The expected version does not match the node's."""
    code = -103


class NoChildrenForEphemeralsError(ZooKeeperError):
    code = -108


class NodeExistsError(ZooKeeperError):
    """The node already exists."""
    code = -110


class NotEmptyError(ZooKeeperError):
    """The node has children."""
    code = -111


class SessionExpiredError(ZooKeeperError):
    """The session expired (or the client was closed); it cannot be used any more."""
    code = -112


class InvalidCallbackError(ZooKeeperError):
    code = -113


class InvalidACLError(ZooKeeperError):
    code = -114


class AuthFailedError(ZooKeeperError):
    code = -115


class SessionMovedError(ZooKeeperError):
    code = -118


class NotReadOnlyCallError(ZooKeeperError):
    code = -119


class EphemeralOnLocalSessionError(ZooKeeperError):
    code = -120


class NoWatcherError(ZooKeeperError):
    code = -121


class RequestTimeoutError(ZooKeeperError):
    code = -122


class ReconfigDisabledError(ZooKeeperError):
    code = -123


class QuotaExceededError(ZooKeeperError):
    code = -125


class ThrottledOpError(ZooKeeperError):
    code = -127


class ConnectionClosedError(SessionExpiredError):
    """The client was closed: no call is possible on it any more."""


class RolledBackError(ZooKeeperError):
    """In a failed transaction: this op was fine but rolled back with the failing one."""
    code = -2


_BY_CODE: Dict[int, Type[ZooKeeperError]] = {}
for _cls in list(globals().values()):
    if (isinstance(_cls, type) and issubclass(_cls, ZooKeeperError) and _cls.code
            and _cls not in (ConnectionClosedError, RolledBackError)):
        _BY_CODE.setdefault(_cls.code, _cls)


def from_code(code: int, path: Optional[str] = None) -> ZooKeeperError:
    """The exception for ZooKeeper error `code` (an instance, not raised)."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return ZooKeeperError(path=path, code=code)
    return cls(path=path)


__all__ = [name for name, value in globals().items()
           if isinstance(value, type) and issubclass(value, ZooKeeperError)] + ["from_code"]
