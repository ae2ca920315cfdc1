"""Application-level encryption (AES-256-GCM) under a versioned keyring kept outside the database.

settings.CREDENTIAL_KEYS = {"<version>": "<base64 of 32 bytes>"}; the highest version encrypts, every
listed version decrypts, so rotation adds a key, re-encrypts rows in the background, then drops the
old key. Each ciphertext is bound to the row it belongs to (associated data), so a ciphertext copied
onto another row does not decrypt.
"""

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

__all__ = ["current_key_version", "decrypt", "encrypt"]

NONCE_BYTES = 12


def _key(version: int) -> bytes:
    encoded = settings.CREDENTIAL_KEYS.get(str(version))
    if encoded is None:
        raise KeyError(f"Encryption key version {version} is not configured")
    key = base64.b64decode(encoded)
    if len(key) != 32:
        raise ValueError(f"Encryption key version {version} is not 32 bytes")
    return key


def current_key_version() -> int:
    return max(int(version) for version in settings.CREDENTIAL_KEYS)


def encrypt(plaintext: bytes, *, associated_data: bytes) -> tuple[bytes, int]:
    version = current_key_version()
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(_key(version)).encrypt(nonce, plaintext, associated_data), version


def decrypt(blob: bytes, *, key_version: int, associated_data: bytes) -> bytes:
    blob = bytes(blob)
    return AESGCM(_key(key_version)).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data)
