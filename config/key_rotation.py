"""Re-encrypting every application-encrypted row under the newest CREDENTIAL_KEYS version.

Rotation without downtime: add the new key (every process then encrypts with it and still
decrypts the old one), run this until nothing is left under an old version (`manage.py
rotate_credentials`, or the daily beat job), then remove the old key. Rows are taken in short
batches with `FOR UPDATE SKIP LOCKED`, so readers never wait and concurrent runs share the work.
"""

from dataclasses import dataclass
from typing import Callable

import structlog
from django.db import transaction
from django.utils import timezone

from audit.services import record
from config.crypto import current_key_version, decrypt, encrypt
from integrations.models import IntegrationCredential
from integrations.services import associated_data as credential_aad
from outbox.models import WebhookSubscription
from outbox.webhooks import associated_data as subscription_aad
from tenancy.models import Tenant

__all__ = ["ENCRYPTED_TABLES", "reencrypt_all", "rows_under_old_keys"]

logger = structlog.get_logger("hub.crypto")


@dataclass(frozen=True)
class EncryptedTable:
    label: str
    model: type
    fields: tuple[str, ...]
    associated_data: Callable[[object], bytes]


# Every table holding ciphertext under CREDENTIAL_KEYS: an old key may only be removed once
# none of them has a row left under it.
ENCRYPTED_TABLES = (
    EncryptedTable("integrationCredentials", IntegrationCredential, ("data_encrypted",), credential_aad),
    EncryptedTable("webhookSubscriptions", WebhookSubscription, ("secret_encrypted", "previous_secret_encrypted"),
                   subscription_aad),
)


def rows_under_old_keys() -> dict[str, int]:
    current = current_key_version()
    return {table.label: table.model.objects.exclude(key_version=current).count() for table in ENCRYPTED_TABLES}


def _reencrypt_batch(table: EncryptedTable, current: int, batch_size: int) -> int:
    with transaction.atomic():
        rows = list(
            table.model.objects.select_for_update(skip_locked=True)
            .exclude(key_version=current)
            .order_by("pk")[:batch_size]
        )
        for row in rows:
            aad = table.associated_data(row.pk)
            for field in table.fields:
                blob = getattr(row, field)
                if blob:
                    plaintext = decrypt(blob, key_version=row.key_version, associated_data=aad)
                    setattr(row, field, encrypt(plaintext, associated_data=aad)[0])
            row.key_version, row.updated_at = current, timezone.now()
        table.model.objects.bulk_update(rows, [*table.fields, "key_version", "updated_at"])
    return len(rows)


def reencrypt_all(*, batch_size: int = 200) -> dict[str, int]:
    """Re-encrypt every row not under the newest key; returns rows re-encrypted per table and writes
    one summary audit entry (actor `system`, platform tenant) when any were."""
    current = current_key_version()
    done = {}
    for table in ENCRYPTED_TABLES:
        done[table.label] = 0
        while count := _reencrypt_batch(table, current, batch_size):
            done[table.label] += count
            logger.info("reencrypt_batch", table=table.label, keyVersion=current, rows=count, total=done[table.label])
    platform = Tenant.objects.filter(is_platform=True).first()
    if any(done.values()) and platform is not None:
        with transaction.atomic():
            record(tenant=platform, action="credentials.reencrypt", entity_type="encryption_key",
                   entity_id=str(current), metadata={"keyVersion": current, "reencrypted": done})
    return done
