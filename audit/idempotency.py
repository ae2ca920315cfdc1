"""Where Idempotency-Key records live: the idempotency_key table (core/api/idempotency.py says how a
request uses them, and reaches this store through settings.IDEMPOTENCY_STORE).

Stored per (tenant, handler, key) with a fingerprint of the request for IDEMPOTENCY_TTL. The usage
reports' event ids (usage/services.py) are claimed in the same table, under the handler `usage.report`.
"""

from django.db import IntegrityError, models, transaction
from django.db.models.functions import Cast
from django.utils import timezone

from audit.models import IdempotencyKey, IdempotencyStatus
from core.api.exceptions import IdempotencyInProgress, IdempotencyKeyReused
from core.api.idempotency import IDEMPOTENCY_TTL, StoredResponse

__all__ = ["DatabaseIdempotencyStore", "redact_stored_responses"]


class DatabaseIdempotencyStore:
    def claim(self, *, tenant, key: str, handler: str, fingerprint: str) -> IdempotencyKey | StoredResponse:
        """The new in-progress record, or the stored answer to replay; raises while the first request
        still runs, or when the key came with another request."""
        for _attempt in range(2):
            try:
                with transaction.atomic():
                    record, created = IdempotencyKey.objects.select_for_update().get_or_create(
                        tenant=tenant, key=key, handler=handler, defaults={"fingerprint": fingerprint}
                    )
                    if created:
                        return record
                    if record.created_at < timezone.now() - IDEMPOTENCY_TTL:
                        record.delete()
                        continue
            except IntegrityError:
                continue  # lost the insert race to a twin request: read what it stored
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            if record.status == IdempotencyStatus.IN_PROGRESS:
                raise IdempotencyInProgress()
            return StoredResponse(status=record.response_status, body=record.response_body)
        raise IdempotencyInProgress()

    def complete(self, record: IdempotencyKey, *, status: int, body) -> None:
        IdempotencyKey.objects.filter(pk=record.pk).update(
            status=IdempotencyStatus.COMPLETED, response_status=status, response_body=body
        )

    def release(self, record: IdempotencyKey) -> None:
        IdempotencyKey.objects.filter(pk=record.pk).delete()


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
    `id` is `resource_id`), so that a replay cannot hand back what was erased. Returns rows changed."""
    resource_id = str(resource_id)
    changed = 0
    stored = (IdempotencyKey.objects.for_tenant(tenant).select_for_update()
              .annotate(body_text=Cast("response_body", models.TextField()))
              .filter(body_text__contains=resource_id))
    for record in stored:
        body = _redacted(record.response_body, resource_id, replacements)
        if body != record.response_body:
            IdempotencyKey.objects.filter(pk=record.pk).update(response_body=body)
            changed += 1
    return changed
