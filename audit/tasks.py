from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from audit.models import IdempotencyKey
from config.retention import delete_in_batches

# Spec 7: a stored idempotent response is replayed for 24 hours, then forgotten.
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)


@shared_task
def purge_idempotency_keys() -> int:
    cutoff = timezone.now() - IDEMPOTENCY_KEY_TTL
    return delete_in_batches(IdempotencyKey, job="purge_idempotency_keys", created_at__lt=cutoff)
