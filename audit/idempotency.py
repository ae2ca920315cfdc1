"""Where Idempotency-Key records live: the idempotency_key table (core/api/idempotency.py says how a
request uses them, and reaches this store through settings.IDEMPOTENCY_STORE).

Stored per (tenant, principal, handler, key) with a fingerprint of the request for IDEMPOTENCY_TTL;
the answer is encrypted under CREDENTIAL_KEYS, bound to its row, and re-encrypted with the other
encrypted tables on rotation (operations/selectors.py). The usage reports' event ids
(usage/services.py) are claimed in the same table, under the handler `usage.report`.
"""

import json
import math
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import IdempotencyKey, IdempotencyStatus, idempotency_associated_data
from core.api.exceptions import IdempotencyInProgress, IdempotencyKeyReused
from core.api.idempotency import IDEMPOTENCY_TTL, StoredResponse
from core.security.crypto import decrypt, encrypt

__all__ = ["DatabaseIdempotencyStore", "redact_stored_responses"]


def _in_progress(record: IdempotencyKey, now) -> IdempotencyInProgress:
    wait = math.ceil((record.lease_expires_at - now).total_seconds()) if record.lease_expires_at else 1
    return IdempotencyInProgress(headers={"Retry-After": str(max(1, wait))})


def _take(record: IdempotencyKey, now) -> IdempotencyKey:
    """Hold the record for this request: a new token, so the request it was taken from (if it still
    runs) can no longer complete it."""
    record.claim_token = uuid.uuid4()
    record.lease_expires_at = now + settings.IDEMPOTENCY_LEASE
    return record


def _stored_body(record: IdempotencyKey):
    if record.response_encrypted is None:
        return None
    plaintext = decrypt(record.response_encrypted, key_version=record.key_version,
                        associated_data=idempotency_associated_data(record.pk))
    return json.loads(plaintext)


def _encrypted(pk, body) -> tuple[bytes | None, int | None]:
    if body is None:
        return None, None
    return encrypt(json.dumps(body, separators=(",", ":")).encode(), associated_data=idempotency_associated_data(pk))


class DatabaseIdempotencyStore:
    def claim(self, *, tenant, principal: str, key: str, handler: str, fingerprint: str):
        """This request's claim (a record in progress, committed now), or the stored answer to replay;
        raises while another request holds the key, or when the key came with another request."""
        for _attempt in range(2):
            now = timezone.now()
            try:
                with transaction.atomic():
                    record, created = IdempotencyKey.objects.select_for_update().get_or_create(
                        tenant=tenant, principal=principal, key=key, handler=handler,
                        defaults={"fingerprint": fingerprint, "claim_token": uuid.uuid4(),
                                  "lease_expires_at": now + settings.IDEMPOTENCY_LEASE},
                    )
                    if created:
                        return record
                    if record.created_at < now - IDEMPOTENCY_TTL:
                        record.delete()
                        continue
                    if record.fingerprint != fingerprint:
                        raise IdempotencyKeyReused()
                    if record.status == IdempotencyStatus.COMPLETED:
                        return StoredResponse(status=record.response_status, body=_stored_body(record))
                    if record.lease_expires_at is not None and record.lease_expires_at > now:
                        raise _in_progress(record, now)
                    # Its request died without completing or releasing it: this retry runs instead.
                    _take(record, now).save(update_fields=["claim_token", "lease_expires_at", "updated_at"])
                    return record
            except IntegrityError:
                continue  # lost the insert race to a twin request: read what it stored
        raise IdempotencyInProgress(headers={"Retry-After": "1"})

    def complete(self, record: IdempotencyKey, *, status: int, body) -> bool:
        blob, version = _encrypted(record.pk, body)
        return bool(
            IdempotencyKey.objects.filter(
                pk=record.pk, claim_token=record.claim_token, status=IdempotencyStatus.IN_PROGRESS
            ).update(status=IdempotencyStatus.COMPLETED, response_status=status, response_encrypted=blob,
                     key_version=version, claim_token=None, lease_expires_at=None, updated_at=timezone.now())
        )

    def release(self, record: IdempotencyKey) -> None:
        IdempotencyKey.objects.filter(
            pk=record.pk, claim_token=record.claim_token, status=IdempotencyStatus.IN_PROGRESS
        ).delete()


def _redacted(value, resource_id: str, replacements: dict):
    if isinstance(value, list):
        return [_redacted(item, resource_id, replacements) for item in value]
    if not isinstance(value, dict):
        return value
    own = value.get("id") == resource_id
    return {key: replacements[key] if own and key in replacements else _redacted(item, resource_id, replacements)
            for key, item in value.items()}


def redact_stored_responses(*, tenant, resource_id, replacements: dict) -> int:
    """Overwrite fields of one resource wherever a stored response shows it (every object whose
    `id` is `resource_id`), so that a replay cannot hand back what was erased. Returns rows changed.

    The answers are encrypted, so each of the tenant's (at most a day's) is opened to look: this
    runs for an erasure, rarely, and must not miss one."""
    resource_id = str(resource_id)
    changed = 0
    stored = (IdempotencyKey.objects.for_tenant(tenant).select_for_update()
              .filter(response_encrypted__isnull=False).only("pk", "response_encrypted", "key_version"))
    for record in stored.iterator(chunk_size=500):
        body = _stored_body(record)
        redacted = _redacted(body, resource_id, replacements)
        if redacted != body:
            blob, version = _encrypted(record.pk, redacted)
            IdempotencyKey.objects.filter(pk=record.pk).update(response_encrypted=blob, key_version=version)
            changed += 1
    return changed
