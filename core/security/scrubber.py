"""The one scrubber: every log line, audit metadata and error report passes through it.

Two nets: values under a sensitive key are replaced whatever they look like, and strings anywhere
that look like a credential (bearer tokens, JWTs, hub API keys, webhook secrets) are masked.
"""

import re
from functools import lru_cache

__all__ = ["REDACTED", "is_sensitive_key", "scrub"]

REDACTED = "[REDACTED]"

# Matched against the key lower-cased without separators, at its end: "refresh_token",
# "X-Api-Key", "clientSecret" and "cookies" are sensitive; "tokenType" and "revokedTokens" (a count)
# are not.
_SENSITIVE_KEY = re.compile(
    r"(token|secret|password|passwd|apikey|privatekey|authorization|cookies?|signature|digest|hash|"
    r"credential|credentials|pepper|sessionid)$"
)
_CREDENTIAL_PATTERNS = [
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    re.compile(r"\baza8_[A-Za-z0-9]+_[A-Za-z0-9_-]+"),
    re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"),
]


def is_sensitive_key(key) -> bool:
    return isinstance(key, str) and _is_sensitive_name(key)


# Every log line and audit entry asks this of each of its keys, and keys repeat: a log line's are
# the same dozen every time.
@lru_cache(maxsize=4096)
def _is_sensitive_name(key: str) -> bool:
    return bool(_SENSITIVE_KEY.search(re.sub(r"[-_ .]", "", key.lower())))


def _scrub_string(value: str) -> str:
    for pattern in _CREDENTIAL_PATTERNS:
        value = pattern.sub(REDACTED, value)
    return value


def scrub(value, _depth: int = 0):
    """A copy of `value` with secrets masked; dicts, lists and tuples are walked (bounded depth)."""
    if _depth > 12:
        return REDACTED
    if isinstance(value, dict):
        return {
            key: REDACTED if is_sensitive_key(key) and item not in (None, "") else scrub(item, _depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(scrub(item, _depth + 1) for item in value)
    if isinstance(value, str):
        return _scrub_string(value)
    return value
