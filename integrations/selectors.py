"""Reads of integration credentials."""

import json

from core.security.crypto import decrypt
from integrations.models import IntegrationCredential, associated_data

__all__ = ["read_secret"]


def read_secret(credential: IntegrationCredential) -> dict:
    """The decrypted `data`, for the code that calls the provider; never for an API response."""
    plaintext = decrypt(credential.data_encrypted, key_version=credential.key_version,
                        associated_data=associated_data(credential.pk))
    return json.loads(plaintext)
