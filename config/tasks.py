"""Jobs that span the apps: the retention run (hourly) and re-encryption under the newest key (daily)."""

import time

import structlog
from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.retention import purge_audit_log, purge_idempotency_keys
from audit.services import record
from config.key_rotation import reencrypt_all
from exports.retention import purge_expired_exports
from identity.retention import purge_expired_invitations, purge_expired_refresh_tokens
from outbox.maintenance import purge_delivered_broker_messages
from outbox.retention import purge_done_events, purge_finished_deliveries
from tenancy.models import Tenant
from usage.retention import purge_usage_metrics

__all__ = ["PURGES", "reencrypt_credentials", "run_retention"]

logger = structlog.get_logger("hub.retention")

# Summary key → purge(now) → rows deleted. Deliveries go before events: an event is purged only
# once its deliveries are gone.
PURGES = {
    "auditLog": purge_audit_log,
    "usageMetrics": purge_usage_metrics,
    "idempotencyKeys": purge_idempotency_keys,
    "webhookDeliveries": purge_finished_deliveries,
    "outboxEvents": purge_done_events,
    "refreshTokens": purge_expired_refresh_tokens,
    "invitations": purge_expired_invitations,
    "exports": purge_expired_exports,
    "brokerMessages": lambda now: purge_delivered_broker_messages(),
}


@shared_task
def run_retention() -> dict:
    """Run every purge once and write one summary audit entry (actor `system`, platform tenant).

    Safe to overlap with another run: both share the deletes, each row is deleted once.
    """
    started, now = time.monotonic(), timezone.now()
    deleted = {name: purge(now) for name, purge in PURGES.items()}
    duration_ms = round((time.monotonic() - started) * 1000)
    logger.info("retention_run", profile=settings.OPS_PROFILE, deleted=deleted, durationMs=duration_ms)
    platform = Tenant.objects.filter(is_platform=True).first()
    if platform is None:
        logger.warning("retention_unaudited", reason="no platform tenant: run manage.py seed")
        return deleted
    with transaction.atomic():
        record(tenant=platform, action="retention.run", entity_type="retention",
               metadata={"profile": settings.OPS_PROFILE, "deleted": deleted, "durationMs": duration_ms})
    return deleted


@shared_task
def reencrypt_credentials() -> dict:
    """Daily: a no-op unless a new CREDENTIAL_KEYS version was added since the last run."""
    return reencrypt_all()
