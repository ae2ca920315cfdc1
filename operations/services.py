"""Writes that span the apps: the retention sweep, re-encryption under the newest key, the beat schedule.

Each app purges its own tables (`<app>/retention.py`); the sweep runs them all and audits the run.
Re-encryption walks every table that holds ciphertext (operations/selectors.ENCRYPTED_TABLES).
"""

import time
from pathlib import Path

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from audit.retention import purge_audit_log, purge_idempotency_keys
from audit.services import record
from core.db.changes import ChangeLog, upsert
from core.security.crypto import current_key_version, decrypt, encrypt
from exports.retention import purge_expired_exports
from identity.retention import purge_expired_invitations, purge_expired_refresh_tokens
from operations.selectors import ENCRYPTED_TABLES, EncryptedTable
from outbox.maintenance import purge_delivered_broker_messages
from outbox.retention import purge_done_events, purge_finished_deliveries
from tenancy.selectors import platform_tenant
from usage.retention import purge_usage_metrics

__all__ = ["PURGES", "reencrypt_all", "run_retention", "sync_periodic_tasks"]

logger = structlog.get_logger("hub.operations")

# --- Retention (hourly) -------------------------------------------------------------------------

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


def run_retention() -> dict:
    """Run every purge once and write one summary audit entry (actor `system`, platform tenant).

    Safe to overlap with another run: both share the deletes, each row is deleted once.
    """
    started, now = time.monotonic(), timezone.now()
    deleted = {name: purge(now) for name, purge in PURGES.items()}
    duration_ms = round((time.monotonic() - started) * 1000)
    logger.info("retention_run", profile=settings.OPS_PROFILE, deleted=deleted, durationMs=duration_ms)
    platform = platform_tenant()
    if platform is None:
        logger.warning("retention_unaudited", reason="no platform tenant: run manage.py seed")
        return deleted
    with transaction.atomic():
        record(tenant=platform, action="retention.run", entity_type="retention",
               metadata={"profile": settings.OPS_PROFILE, "deleted": deleted, "durationMs": duration_ms})
    return deleted


# --- Re-encryption under the newest CREDENTIAL_KEYS version (daily, and `rotate_credentials`) ----
# Rotation without downtime: add the new key (every process then encrypts with it and still
# decrypts the old one), run this until nothing is left under an old version, then remove the old
# key. Rows are taken in short batches with `FOR UPDATE SKIP LOCKED`, so readers never wait and
# concurrent runs share the work.


def _reencrypt_batch(table: EncryptedTable, current: int, batch_size: int) -> int:
    with transaction.atomic():
        rows = list(
            table.under_old_keys(current).select_for_update(skip_locked=True).order_by("pk")[:batch_size]
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
    platform = platform_tenant()
    if any(done.values()) and platform is not None:
        with transaction.atomic():
            record(tenant=platform, action="credentials.reencrypt", entity_type="encryption_key",
                   entity_id=str(current), metadata={"keyVersion": current, "reencrypted": done})
    return done


# --- The beat schedule: in the database (django-celery-beat), written by `seed` -----------------

_CRONTAB_FIELDS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")


def _project_task_modules() -> Q:
    """Tasks defined by this project's own code: a package at the top of the project directory. Not
    only the installed apps: a retired package's tasks (config.tasks before operations/) count too."""
    query = Q(pk__in=[])
    for package in sorted(Path(settings.BASE_DIR).glob("*/__init__.py")):
        query |= Q(task__startswith=f"{package.parent.name}.")
    return query


def sync_periodic_tasks(changes: ChangeLog) -> None:
    """Create or update the declared tasks (settings.HUB_PERIODIC_TASKS), and delete the project's
    tasks no longer declared (a renamed or retired job must not keep firing a task that no longer
    exists). Periodic tasks staff created for other code are left alone."""
    for name, spec in settings.HUB_PERIODIC_TASKS.items():
        fields = {field: str(spec["crontab"].get(field, "*")) for field in _CRONTAB_FIELDS}
        crontab = CrontabSchedule.objects.filter(timezone="UTC", **fields).first()
        if crontab is None:
            crontab = CrontabSchedule.objects.create(timezone="UTC", **fields)
        upsert(
            PeriodicTask,
            lookup={"name": name},
            values={"task": spec["task"], "crontab_id": crontab.id, "interval_id": None, "enabled": True},
            changes=changes,
            label=f"periodic task {name}",
        )
    retired = PeriodicTask.objects.filter(_project_task_modules()).exclude(name__in=settings.HUB_PERIODIC_TASKS)
    for name in retired.order_by("name").values_list("name", flat=True):
        changes.add(f"delete periodic task {name}")
    retired.delete()
