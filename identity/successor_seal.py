"""The pair a refresh token was rotated into, sealed so that only that token's holder can open it.

A retry of a refresh (two requests racing, or a response lost on a flaky network) presents a token
that was just rotated; inside the grace window it gets back the same successor pair rather than
tripping reuse detection (identity/sessions.py). The pair is live credentials, so it is stored
encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from the rotated token's secret, of
which the database holds only a SHA-256 digest: a reader of the table cannot derive the key, no
server-side key is involved (nothing to rotate or leak), and the row's jti is bound in as
associated data so a ciphertext copied onto another row does not open.
"""

import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["open_successor", "seal_successor"]

NONCE_BYTES = 12
_INFO = b"aza8-hub refresh-token successor v1"


def _key(secret: str, jti) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=jti.bytes, info=_INFO).derive(secret.encode())


def seal_successor(pair: dict, *, secret: str, jti) -> bytes:
    """`pair` (JSON-serialisable) encrypted for whoever holds `secret`, the token `jti`'s secret."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(_key(secret, jti)).encrypt(nonce, json.dumps(pair).encode(), jti.bytes)


def open_successor(sealed: bytes, *, secret: str, jti) -> dict | None:
    """The pair sealed for `secret`, or None if this secret does not open it."""
    sealed = bytes(sealed)
    try:
        return json.loads(AESGCM(_key(secret, jti)).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], jti.bytes))
    except InvalidTag:
        return None
