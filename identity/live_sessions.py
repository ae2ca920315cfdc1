"""Whether a user's session is still alive: the database decides, the cache remembers the answer.

A session is one refresh-token family; every access token issued with it names it in its `sid`
claim. It is alive while the family holds a refresh token that is not revoked — rotation revokes
one and inserts the next in the same transaction — and it ends when its live tokens are revoked
(logout, reuse detection, a password or e-mail change ending the other sessions, a suspension).
Because the answer lives in `refresh_token`, no cache flush or eviction brings a logged-out access
token back: a missing entry is a database read (one query), not a pass.

Every authenticated request reads the session's entry in its one cache round trip
(identity/authentication.py), so a warm request still reads no row. ALIVE is kept for
PRINCIPAL_CACHE_SECONDS; ENDED for an access token's lifetime, after which no token of the session
is still valid anyway. A reader stores what it found with `add`, never overwriting, and whoever
ends a session writes ENDED before its commit and again after it: a request that read the row
while the ending transaction was open finds ENDED already there, or has it overwritten.

Ending sessions is fail-closed where the session is all that stands in the way (`confirm`): if the
ENDED marks cannot be read back, an ALIVE entry might outlive the revocation, so the change rolls
back and answers 503 SERVICE_UNAVAILABLE with Retry-After.
"""

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from core.api.exceptions import ServiceUnavailable
from identity.models import RefreshToken
from tenancy.selectors import entitled_tools
from tenancy.services import access_changed

__all__ = ["ALIVE", "ENDED", "announce_ended_sessions", "cache_key", "end_sessions", "end_user_sessions", "is_alive"]

ALIVE, ENDED = 1, 0
# How soon a client should retry a change refused because the cache could not be written.
RETRY_AFTER_SECONDS = 5

logger = structlog.get_logger("hub.sessions")


def cache_key(tenant_id, session_id) -> str:
    return f"session:{tenant_id}:{session_id}"


def _ended_seconds() -> int:
    return int(settings.ACCESS_TOKEN_LIFETIME.total_seconds()) + 60


def is_alive(tenant_id, session_id, reads) -> bool:
    """Whether the session is alive: from the request's cache reads, else from the database."""
    key = cache_key(tenant_id, session_id)
    known = reads.get(key)
    if known is not None:
        return known == ALIVE
    alive = RefreshToken.objects.filter(tenant_id=tenant_id, family=session_id, revoked_at__isnull=True).exists()
    if not alive:
        cache.add(key, ENDED, timeout=_ended_seconds())
    elif settings.PRINCIPAL_CACHE_SECONDS:
        cache.add(key, ALIVE, timeout=settings.PRINCIPAL_CACHE_SECONDS)
    return alive


def end_sessions(tenant_id, families, *, confirm: bool) -> int:
    """Revoke the live refresh tokens of `families` and refuse their access tokens from now on.
    Inside the caller's transaction; the number of refresh tokens revoked."""
    families = sorted({str(family) for family in families})
    if not families:
        return 0
    revoked = RefreshToken.objects.filter(tenant_id=tenant_id, family__in=families, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    _mark_ended([cache_key(tenant_id, family) for family in families], confirm=confirm)
    return revoked


def end_user_sessions(user, *, keep=None, confirm: bool) -> int:
    """End every session of `user` but `keep` (a session id, the caller's own)."""
    live = RefreshToken.objects.filter(tenant_id=user.tenant_id, user=user, revoked_at__isnull=True)
    if keep is not None:
        live = live.exclude(family=keep)
    families = set(live.values_list("family", flat=True))
    revoked = end_sessions(user.tenant_id, families, confirm=confirm)
    announce_ended_sessions(tenant=user.tenant, user_id=user.pk, families=families)
    return revoked


def announce_ended_sessions(*, tenant, user_id, families) -> None:
    """Tell products, one `access.changed` (reason session) per ended session of `user_id`, so they
    refuse its tokens without waiting for a decision to expire. Inside the ending transaction."""
    families = sorted({str(family) for family in families})
    tools = entitled_tools(tenant) if families else []
    for family in families:
        access_changed(tenant=tenant, reason="session", user_id=user_id, session_id=family, tools=tools)


def _mark_ended(keys: list[str], *, confirm: bool) -> None:
    marks = dict.fromkeys(keys, ENDED)

    def mark():
        cache.set_many(marks, timeout=_ended_seconds())

    try:
        mark()
        # Read back: a cache that drops writes quietly must not pass for one that took them.
        held = cache.get_many(keys) if confirm else marks
    except RedisError:
        held = {}
    if held != marks:
        if confirm:
            raise ServiceUnavailable(RETRY_AFTER_SECONDS, "The session cannot be ended right now; try again.")
        # The revocation stands in the database; a cached ALIVE lasts PRINCIPAL_CACHE_SECONDS at most.
        logger.warning("session_end_not_cached", sessions=len(keys))
    transaction.on_commit(mark, robust=True)
