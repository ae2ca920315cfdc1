"""The product's handle on the hub: `Hub(base_url=…, tool=…, credential=…)`."""

import httpx

from . import frameworks
from .decisions import Decisions
from .errors import TokenRevoked
from .principal import Principal
from .tokens import EndedSessions, KeySet, TokenVerifier
from .transport import Transport
from .usage import Usage
from .webhooks import Webhooks

__all__ = ["Hub"]


class Hub:
    """Thread-safe; make one per process and share it.

    - `verify(token)` checks an access token offline (JWKS cached for `jwks_lifespan` seconds, an
      unknown `kid` refetched at most every `jwks_cooldown` seconds; issuer, audience = `tool`, expiry).
    - `can(principal, "erp.vehicles.read")` answers from an in-process snapshot of the user's
      permissions on `tool`, kept min(the hub's maxAge, `cache_ttl`) seconds and dropped by the hub's
      `access.changed` events (`webhooks.handle`).
    - `usage.report(principal, action, count)` buffers; a thread sends batches every `usage_flush_seconds`.
    """

    def __init__(self, base_url: str, tool: str, credential: str, webhook_secret: str | None = None,
                 cache_ttl: float = 60, *, issuer: str = "aza8-hub", leeway: float = 0, timeout: float = 5.0,
                 jwks_lifespan: float = 3600, jwks_cooldown: float = 30, usage_flush_seconds: float = 5.0,
                 http_client: httpx.Client | None = None):
        if cache_ttl <= 0:
            raise ValueError("cache_ttl must be positive: every decision is cached, if only briefly")
        base_url = base_url.rstrip("/")
        self.base_url, self.tool = base_url, tool
        self._transport = Transport(base_url, credential, timeout=timeout, client=http_client)
        self.sessions = EndedSessions()
        self._tokens = TokenVerifier(
            KeySet(f"{base_url}/.well-known/jwks.json", lifespan=jwks_lifespan, cooldown=jwks_cooldown,
                   timeout=timeout),
            audience=tool, issuer=issuer, leeway=leeway, ended=self.sessions)
        self.decisions = Decisions(self._transport, ttl=cache_ttl, on_session_ended=self.sessions.end)
        self.usage = Usage(self._transport, flush_seconds=usage_flush_seconds)
        self.webhooks = Webhooks(webhook_secret, decisions=self.decisions, sessions=self.sessions)

    def verify(self, token: str) -> Principal:
        """The principal a token speaks for; raises InvalidToken, TokenExpired, TokenRevoked or
        WrongAudience (all HubError)."""
        return self._tokens.verify(token)

    def can(self, principal: Principal, tool_action: str) -> bool:
        """Whether the user may perform `tool_action` now. False for a service token (decisions are about
        users), an action of another tool, an ended session, and — once its snapshot has expired — while
        the hub cannot be reached (fail closed)."""
        if principal.type != "user":
            return False
        return self.decisions.can(principal, tool_action)

    def authorize(self, token: str, tool_action: str) -> tuple[Principal, bool]:
        """verify + can; an ended session that `can` has just learnt of raises TokenRevoked."""
        principal = self.verify(token)
        allowed = self.can(principal, tool_action)
        if not allowed and principal.session_id in self.sessions:
            raise TokenRevoked("The token's session has ended")
        return principal, allowed

    def require(self, tool_action: str):
        """A FastAPI dependency: the verified Principal, or 401 / 403 with {"detail": {"code", "message"}}."""
        return frameworks.fastapi_dependency(self, tool_action)

    def drf_authentication(self):
        """A DRF authentication class: `request.user` is the Principal (`request.auth` too)."""
        return frameworks.drf_authentication(self)

    def drf_permission(self, tool_action: str):
        """A DRF permission class allowing the request when the principal `can` perform `tool_action`."""
        return frameworks.drf_permission(self, tool_action)

    def close(self) -> None:
        """Flush the usage buffer and close connections."""
        self.usage.close()
        self._transport.close()

    def __enter__(self) -> "Hub":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
