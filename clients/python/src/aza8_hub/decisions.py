"""In-process decisions: one snapshot of a user's permissions on the product's tool per (tenant, user,
session), fetched from `GET /v1/authz/subjects/{userId}?sessionId=` and kept for
min(maxAge, cache_ttl) seconds, dropped at once by the hub's `access.changed` events."""

import logging
import threading
import time
from dataclasses import dataclass

import httpx

from ._schema import SubjectAccess
from .principal import Principal
from .transport import Transport

__all__ = ["Decisions", "Snapshot"]

log = logging.getLogger("aza8_hub")

# After the hub failed to answer, calls that miss the cache are refused at once for this long rather
# than each waiting on a hub that is down.
BACKOFF_SECONDS = 1.0
# Entries past their expiry are swept when the cache grows beyond this many.
SWEEP_ABOVE = 100_000
# Answers that mean "no" for as long as any answer: the user is not in the tenant, the tenant is
# suspended or no longer holds the tool. An event (user, tenant or package change) drops them.
DENIALS = {404: "NOT_FOUND", 403: "TENANT_SUSPENDED or TOOL_NOT_ENTITLED"}


@dataclass(frozen=True, slots=True)
class Snapshot:
    permissions: frozenset
    active: bool
    session_active: bool | None
    version: str | None
    expires_at: float

    @classmethod
    def denied(cls, ttl: float) -> "Snapshot":
        return cls(frozenset(), False, None, None, time.monotonic() + ttl)

    @classmethod
    def from_answer(cls, answer: SubjectAccess, ttl: float) -> "Snapshot":
        lifetime = min(float(answer.get("maxAge", ttl)), ttl)
        allowed = answer["active"] and answer.get("sessionActive") is not False
        return cls(frozenset(answer["permissions"]) if allowed else frozenset(), answer["active"],
                   answer.get("sessionActive"), answer.get("version"), time.monotonic() + lifetime)


class Decisions:
    def __init__(self, transport: Transport, *, ttl: float, on_session_ended):
        self.transport, self.ttl, self._on_session_ended = transport, ttl, on_session_ended
        self._entries: dict[tuple, Snapshot] = {}
        self._lock = threading.Lock()
        # Bumped by every drop: a snapshot fetched across a drop may predate the change, so it
        # answers its own call but is not kept.
        self._generation = 0
        self._down_until = 0.0

    def can(self, principal: Principal, tool_action: str) -> bool:
        key = (principal.tenant_id, principal.user_id, principal.session_id)
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= time.monotonic():
            entry = self._fetch(key)
            if entry is None:
                return False
        return tool_action in entry.permissions

    def _fetch(self, key: tuple) -> Snapshot | None:
        tenant_id, user_id, session_id = key
        if time.monotonic() < self._down_until:
            return None
        generation = self._generation
        params = {"sessionId": session_id} if session_id else None
        try:
            response = self.transport.get(f"/v1/authz/subjects/{user_id}", tenant_id=tenant_id, params=params)
        except httpx.HTTPError as exc:
            return self._unavailable(f"{type(exc).__name__}: {exc}")
        if response.status_code == 200:
            entry = Snapshot.from_answer(response.json()["data"], self.ttl)
            if entry.session_active is False and session_id:
                self._on_session_ended(session_id)
        elif response.status_code in DENIALS:
            entry = Snapshot.denied(self.ttl)
        elif response.status_code == 429 or response.status_code >= 500:
            return self._unavailable(f"HTTP {response.status_code}")
        else:
            log.error("aza8_hub: the hub refused a decision request (%s %s); check the product credential",
                      response.status_code, response.text[:200])
            return None
        with self._lock:
            if generation == self._generation:
                if len(self._entries) >= SWEEP_ABOVE:
                    self._sweep()
                self._entries[key] = entry
        return entry

    def _unavailable(self, why: str) -> None:
        self._down_until = time.monotonic() + BACKOFF_SECONDS
        log.warning("aza8_hub: the hub could not answer a decision (%s); refusing until it does", why)
        return None

    def _sweep(self) -> None:
        now = time.monotonic()
        for key in [key for key, entry in self._entries.items() if entry.expires_at <= now]:
            del self._entries[key]

    def drop(self, tenant_id: str, user_id: str | None = None, session_id: str | None = None) -> int:
        """Forget the snapshots an `access.changed` event concerns: one session's, one user's, or the
        whole tenant's. Returns how many were dropped."""
        def concerned(key):
            return key[0] == tenant_id and (user_id is None or key[1] == user_id) and (
                session_id is None or key[2] == session_id)

        with self._lock:
            self._generation += 1
            doomed = [key for key in self._entries if concerned(key)]
            for key in doomed:
                del self._entries[key]
        return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
