"""Offline verification of the hub's access tokens against its JWKS."""

import logging
import threading
import time

import jwt
from jwt import PyJWKClient
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError

from .errors import InvalidToken, TokenExpired, TokenRevoked, WrongAudience
from .principal import Principal

__all__ = ["EndedSessions", "KeySet", "TokenVerifier"]

log = logging.getLogger("aza8_hub")

ALGORITHMS = ["RS256"]
REQUIRED = ["exp", "iat", "iss", "sub", "aud", "tenantId"]
# An ended session's tokens are refused for this long: past any access token's lifetime (the hub's
# default is 15 minutes, its ceiling an hour), after which `exp` refuses them anyway.
ENDED_SESSION_MEMORY_SECONDS = 24 * 3600
MAX_ENDED_SESSIONS = 100_000


class KeySet(PyJWKClient):
    """PyJWKClient (the set cached for `lifespan`, an unknown `kid` refetched at most once per
    `cooldown_duration`) that keeps serving the last set it fetched while the hub cannot be reached:
    the hub's keys change by rotation, announced long before the old key stops signing, so an outage
    must not turn every token into an invalid one."""

    def __init__(self, uri: str, *, lifespan: float, cooldown: float, timeout: float):
        super().__init__(uri, cache_jwk_set=True, lifespan=lifespan, cooldown_duration=cooldown, timeout=timeout)
        self._last_good = None
        self._guard = threading.Lock()

    def get_jwk_set(self, refresh: bool = False):
        try:
            jwk_set = super().get_jwk_set(refresh)
        except PyJWKClientConnectionError:
            with self._guard:
                if self._last_good is None:
                    raise
                log.warning("aza8_hub: JWKS unreachable, verifying with the last key set fetched")
                return self._last_good
        with self._guard:
            self._last_good = jwk_set
        return jwk_set


class EndedSessions:
    """Sessions the hub said have ended (an `access.changed` event, or a snapshot's sessionActive: false)."""

    def __init__(self):
        self._ended: dict[str, float] = {}  # sid -> when learnt, oldest first
        self._lock = threading.Lock()

    def end(self, session_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._ended.pop(session_id, None)
            self._ended[session_id] = now
            while self._ended:
                oldest, learnt = next(iter(self._ended.items()))
                if len(self._ended) <= MAX_ENDED_SESSIONS and now - learnt < ENDED_SESSION_MEMORY_SECONDS:
                    break
                del self._ended[oldest]

    def __contains__(self, session_id) -> bool:
        return session_id in self._ended


class TokenVerifier:
    def __init__(self, keys: KeySet, *, audience: str, issuer: str, leeway: float, ended: EndedSessions):
        self.keys, self.audience, self.issuer, self.leeway, self.ended = keys, audience, issuer, leeway, ended

    def verify(self, token: str) -> Principal:
        try:
            key = self.keys.get_signing_key_from_jwt(token)
        except PyJWKClientConnectionError as exc:
            raise InvalidToken("The hub's signing keys could not be fetched") from exc
        except (PyJWKClientError, jwt.InvalidTokenError) as exc:
            raise InvalidToken("The token is malformed or signed by an unknown key") from exc
        try:
            claims = jwt.decode(token, key.key, algorithms=ALGORITHMS, audience=self.audience, issuer=self.issuer,
                                leeway=self.leeway, options={"require": REQUIRED})
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired("The token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise WrongAudience(f"The token is not meant for {self.audience!r}") from exc
        except jwt.MissingRequiredClaimError as exc:
            if exc.claim == "aud":
                raise WrongAudience(f"The token names no audience, so not {self.audience!r}") from exc
            raise InvalidToken(f"The token lacks the {exc.claim!r} claim") from exc
        except jwt.InvalidTokenError as exc:
            raise InvalidToken("The token is invalid") from exc
        if claims.get("sid") in self.ended:
            raise TokenRevoked("The token's session has ended")
        return Principal(tenant_id=claims["tenantId"], user_id=claims["sub"], session_id=claims.get("sid"),
                         claims=claims)
