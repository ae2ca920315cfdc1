"""What the current request (or task) is: read by logs, audit entries and error bodies.

Context variables, so that threads and async tasks each see their own request.
"""

import contextvars
import re
import uuid
from dataclasses import dataclass

__all__ = ["RequestInfo", "bind_request", "current_request", "current_request_id", "new_request_id", "reset_request"]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")


@dataclass(frozen=True)
class RequestInfo:
    request_id: str
    ip: str | None = None
    user_agent: str = ""
    trace_id: str | None = None


_current: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar("hub_request", default=None)


def new_request_id(candidate: str | None = None) -> str:
    """The client's id when it is well-formed (8-128 safe characters), else a fresh one."""
    if candidate and _REQUEST_ID.match(candidate):
        return candidate
    return uuid.uuid4().hex


def bind_request(info: RequestInfo) -> contextvars.Token:
    return _current.set(info)


def reset_request(token: contextvars.Token) -> None:
    _current.reset(token)


def current_request() -> RequestInfo | None:
    return _current.get()


def current_request_id() -> str | None:
    info = _current.get()
    return info.request_id if info else None
