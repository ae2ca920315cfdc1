"""Secrets minted inside the test process, recorded where they are made, so that tests/conftest.py
can look for them in every table after each test, before its transaction rolls back (issue 26).

Watched at their sources rather than at each caller: the random part of every token and key comes
from `secrets.token_urlsafe` (API keys, refresh tokens, invitations) or `secrets.token_bytes`
(webhook secrets, in base64 as they show it); passwords are caught as the tests' hasher hashes them,
and an integration credential's fields as they are encrypted. Each watcher calls the original with
the same arguments and hands back what it returned.
"""

import base64
import functools
import json
import secrets
import threading
from contextlib import contextmanager

import integrations.services
from tests.drills.secrets_at_rest import MIN_LENGTH
from tests.hashers import FastArgon2PasswordHasher

__all__ = ["minted", "recording"]

# (label, secret) in the order they were made; threads of one test append too.
minted: list[tuple[str, str | bytes]] = []
_lock = threading.Lock()


def _keep(label: str, *values) -> None:
    with _lock:
        minted.extend((label, value) for value in values if len(value) >= MIN_LENGTH)


def _strings(text: bytes):
    """The string fields of a credential's JSON, or the whole text if it is not JSON."""
    try:
        pending = [json.loads(text)]
    except ValueError:
        yield text.decode(errors="replace")
        return
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict | list):
            pending.extend(value.values() if isinstance(value, dict) else value)


def _watch(owner, name: str, note):
    original = getattr(owner, name)

    @functools.wraps(original)
    def watched(*args, **kwargs):
        result = original(*args, **kwargs)
        note(result, *args)
        return result

    setattr(owner, name, watched)
    return owner, name, original


@contextmanager
def recording():
    """Watch the sources for as long as the block lasts."""
    watched = [
        _watch(secrets, "token_urlsafe", lambda token, *_: _keep("random token", token)),
        _watch(secrets, "token_bytes", lambda raw, *_: _keep("random bytes", raw, base64.b64encode(raw).decode())),
        _watch(FastArgon2PasswordHasher, "encode", lambda _hash, _hasher, password, *_: _keep("password", password)),
        _watch(integrations.services, "encrypt",
               lambda _sealed, plaintext, *_: _keep("credential field", *_strings(plaintext))),
    ]
    try:
        yield minted
    finally:
        for owner, name, original in watched:
            setattr(owner, name, original)
