"""Access tokens: RS256 JWTs signed by the newest key of the ring, verified by the key their `kid` names.

The ring comes from settings.JWT_PRIVATE_KEYS ({kid: PEM}, the last entry signs). Every public key
is published at /.well-known/jwks.json so products verify tokens offline; removing a key from the
ring retires the tokens it signed.

`aud` lists settings.JWT_AUDIENCE (the hub, which refuses a token without it) and the tools the
tenant was entitled to when the token was minted: a product verifies with `audience=<its tool key>`,
so a token of a tenant that does not hold it is refused offline.
"""

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from jwt.algorithms import RSAAlgorithm
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken

from core.api.exceptions import InvalidToken, TokenExpired

__all__ = ["IssuedToken", "TokenType", "decode_access_token", "issue_access_token", "jwks", "key_ring"]

ALGORITHM = "RS256"
REQUIRED_CLAIMS = ("sub", "tenantId", "type", "iat", "exp", "jti", "iss")
# A user's token names its session (the refresh-token family it was issued with): logging out or
# ending the session refuses it (identity/live_sessions.py).
USER_CLAIMS = ("sid",)


class TokenType:
    USER = "user"
    SERVICE = "service"


@dataclass(frozen=True)
class KeyRing:
    signing_kid: str
    private_pems: dict
    public_keys: dict

    @classmethod
    def from_settings(cls) -> "KeyRing":
        pems = dict(settings.JWT_PRIVATE_KEYS)
        if not pems:
            raise ValueError("JWT_PRIVATE_KEYS is empty")
        public_keys = {
            kid: serialization.load_pem_private_key(pem.encode(), password=None).public_key() for kid, pem in pems.items()
        }
        return cls(signing_kid=list(pems)[-1], private_pems=pems, public_keys=public_keys)


class KeyedTokenBackend(TokenBackend):
    """simplejwt's backend, plus the `kid` header on encode and key selection by `kid` on decode."""

    def __init__(self, ring: KeyRing):
        super().__init__(ALGORITHM, signing_key=ring.private_pems[ring.signing_kid], issuer=settings.JWT_ISSUER,
                         audience=settings.JWT_AUDIENCE)
        self.ring = ring

    def encode(self, payload):
        return jwt.encode(
            {**payload, "iss": self.issuer},
            self.prepared_signing_key,
            algorithm=self.algorithm,
            headers={"kid": self.ring.signing_kid},
        )

    def get_verifying_key(self, token):
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as exc:
            raise TokenBackendError("Token is invalid") from exc
        key = self.ring.public_keys.get(kid)
        if key is None:
            raise TokenBackendError("Token is signed by an unknown key")
        return key


@receiver(setting_changed)
def _forget_keys(setting, **_kwargs):
    if setting in ("JWT_PRIVATE_KEYS", "JWT_ISSUER", "JWT_AUDIENCE"):
        key_ring.cache_clear()
        _backend.cache_clear()
        _verified_claims.cache_clear()


@lru_cache(maxsize=1)
def key_ring() -> KeyRing:
    return KeyRing.from_settings()


@lru_cache(maxsize=1)
def _backend() -> KeyedTokenBackend:
    return KeyedTokenBackend(key_ring())


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime
    expires_in: int


def issue_access_token(
    *, subject, tenant_id, token_type: str, tools=(), groups=(), scopes=None, session=None, extra_claims=None
) -> IssuedToken:
    """A signed access token; `tools` are the keys of the tools the tenant is entitled to, for `aud`."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    lifetime = settings.SERVICE_TOKEN_LIFETIME if token_type == TokenType.SERVICE else settings.ACCESS_TOKEN_LIFETIME
    expires_at = now + lifetime
    jti = uuid.uuid4().hex
    claims = {
        "sub": str(subject),
        "tenantId": str(tenant_id),
        "type": token_type,
        "aud": [settings.JWT_AUDIENCE, *sorted(tools)],
        "groups": list(groups),
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": jti,
    }
    if scopes is not None:
        claims["scopes"] = list(scopes)
    if session is not None:
        claims["sid"] = str(session)
    claims.update(extra_claims or {})
    return IssuedToken(_backend().encode(claims), jti, expires_at, int(lifetime.total_seconds()))


# A client sends the same access token on every request of its lifetime; verifying the RS256
# signature and parsing it again each time was a tenth of a cheap request. The result for these
# exact bytes cannot change while the key ring is the same (a new ring clears it), except for
# expiry, which is checked on every call. Failures raise, so they are never remembered.
VERIFIED_TOKENS_KEPT = 1024  # about 1.5 KB each: at most ~1.5 MiB per worker process


@lru_cache(maxsize=VERIFIED_TOKENS_KEPT)
def _verified_claims(token: str) -> dict:
    try:
        claims = _backend().decode(token)
    except TokenBackendExpiredToken as exc:
        raise TokenExpired() from exc
    except TokenBackendError as exc:
        raise InvalidToken() from exc
    if any(claim not in claims for claim in REQUIRED_CLAIMS) or claims["type"] not in (TokenType.USER, TokenType.SERVICE):
        raise InvalidToken()
    if claims["type"] == TokenType.USER and any(claim not in claims for claim in USER_CLAIMS):
        raise InvalidToken()
    return claims


def decode_access_token(token: str) -> dict:
    """The verified claims of `token`; INVALID_TOKEN or TOKEN_EXPIRED otherwise."""
    claims = _verified_claims(token)
    if claims["exp"] <= time.time():
        raise TokenExpired()
    return dict(claims)  # the remembered claims stay as verified, whatever a caller does with these


def jwks() -> dict:
    """The JSON Web Key Set of every key in the ring, for offline verification."""
    keys = []
    for kid, public_key in key_ring().public_keys.items():
        jwk = json.loads(RSAAlgorithm.to_jwk(public_key))
        keys.append({**jwk, "kid": kid, "use": "sig", "alg": ALGORITHM})
    return {"keys": keys}
