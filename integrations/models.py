"""Secrets a tenant lends the hub to call third parties, encrypted in the application (AES-GCM)."""

from django.db import models

from core.db.naming import index, unique
from tenancy.models import TenantScopedModel

__all__ = ["IntegrationCredential", "associated_data"]


def associated_data(credential_id) -> bytes:
    """Binds a ciphertext to its row: copied onto another row, it does not decrypt."""
    return f"integration_credential:{credential_id}".encode()


class IntegrationCredential(TenantScopedModel):
    provider = models.CharField(max_length=64)
    name = models.CharField(max_length=100)
    # nonce + ciphertext + tag, under the key `key_version` of CREDENTIAL_KEYS.
    data_encrypted = models.BinaryField()
    key_version = models.PositiveSmallIntegerField()
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "integration_credential"
        ordering = ["created_at", "id"]
        constraints = [unique("integration_credential", "tenant_id", "provider", "name")]
        indexes = [index("integration_credential", "tenant_id", "created_at", "id")]
