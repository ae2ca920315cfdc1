"""API keys: `aza8_<prefix>_<secret>`, of which only the prefix and an HMAC of the secret are kept.

The digest is HMAC-SHA256 under a server-side pepper (settings.API_KEY_PEPPERS, versioned), so a
leaked database alone cannot be used to test guesses; comparison is constant-time. The `aza8_`
prefix makes leaked keys recognisable to secret scanners.

Product credentials (`aza8p_…`, identity/product_credentials.py) are the same construction under
another prefix: `generate_key(kind=…)`, `split_key(…, pattern=…)`, `secret_matches`.
"""

import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from catalog.models import AccessLevel
from identity.models import ApiKey, ApiKeyProfile

__all__ = [
    "KEY_PATTERN",
    "GeneratedKey",
    "digest",
    "generate_key",
    "ip_allowed",
    "looks_like_api_key",
    "profile_access_levels",
    "secret_matches",
    "split_key",
    "touch_last_used",
    "verify_secret",
]

KEY_PREFIX = "aza8"
KEY_PATTERN = re.compile(r"^aza8_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$")
_ALPHANUMERIC = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

PROFILE_ACCESS_LEVELS = {
    ApiKeyProfile.READ_ONLY: {AccessLevel.READ},
    ApiKeyProfile.WRITE: {AccessLevel.READ, AccessLevel.WRITE},
    ApiKeyProfile.ADMIN: {AccessLevel.READ, AccessLevel.WRITE, AccessLevel.ADMIN},
}


@dataclass(frozen=True)
class GeneratedKey:
    full_key: str
    prefix: str
    digest: str
    pepper_version: int


def _current_pepper() -> tuple[int, str]:
    version = max(settings.API_KEY_PEPPERS, key=int)
    return int(version), settings.API_KEY_PEPPERS[version]


def digest(secret: str, pepper_version: int) -> str:
    pepper = settings.API_KEY_PEPPERS.get(str(pepper_version))
    if pepper is None:
        raise KeyError(f"API key pepper version {pepper_version} is not configured")
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


def generate_key(kind: str = KEY_PREFIX) -> GeneratedKey:
    """A new `<kind>_<prefix: 12 alphanumerics>_<secret: 43 url-safe>` and what is kept of it."""
    prefix = "".join(secrets.choice(_ALPHANUMERIC) for _ in range(12))
    secret = secrets.token_urlsafe(32)
    version, _pepper = _current_pepper()
    return GeneratedKey(f"{kind}_{prefix}_{secret}", prefix, digest(secret, version), version)


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(f"{KEY_PREFIX}_")


def split_key(full_key: str, pattern: re.Pattern = KEY_PATTERN) -> tuple[str, str] | None:
    match = pattern.match(full_key)
    return (match.group(1), match.group(2)) if match else None


def secret_matches(secret: str, *, pepper_version: int, expected: str) -> bool:
    try:
        computed = digest(secret, pepper_version)
    except KeyError:
        return False
    return hmac.compare_digest(computed, expected)


def verify_secret(api_key: ApiKey, secret: str) -> bool:
    return secret_matches(secret, pepper_version=api_key.pepper_version, expected=api_key.digest)


def ip_allowed(api_key: ApiKey, ip: str | None) -> bool:
    if not api_key.allowed_networks:
        return True
    if not ip:
        return False
    address = ipaddress.ip_address(ip)
    return any(address in ipaddress.ip_network(network, strict=False) for network in api_key.allowed_networks)


def touch_last_used(credential) -> None:
    """Record use (of an API key or a product credential) at most once per resolution period: a busy
    key costs no write per request. Saved as the one row, so that only this key's cached row is read
    again (an `update()` would send every principal of the tenant back to the database,
    identity/principal_rows.py)."""
    now = timezone.now()
    if credential.last_used_at and now - credential.last_used_at < settings.API_KEY_LAST_USED_RESOLUTION:
        return
    credential.last_used_at = now
    credential.save(update_fields=["last_used_at"])


def profile_access_levels(profile: str | None) -> set[str]:
    return set(PROFILE_ACCESS_LEVELS.get(profile, set()))

