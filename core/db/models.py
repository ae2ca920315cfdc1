"""Abstract building blocks shared by every domain model."""

import uuid

from django.db import models
from django.utils import timezone
from uuid6 import uuid7

from core.api.exceptions import ValidationFailed
from core.cache.versions import bump_tenant_row
from core.db.naming import check

__all__ = ["BaseModel", "Status", "StatusModel", "VersionedRowsQuerySet", "change_status", "choices_check",
           "status_check", "time_ordered_id"]


class BaseModel(models.Model):
    """UUID primary key and the two timestamps every table carries."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def time_ordered_id() -> models.UUIDField:
    """The primary key of an append-only table written on every request that changes something
    (audit_log, outbox_event): a UUIDv7, so that a new row's key lands at the right edge of the
    index, where the previous one went. A random key lands on a random page of an index that only
    grows, and after each checkpoint PostgreSQL writes a full-page image of every page it changes
    for the first time: 8 KiB of WAL for a 16-byte key (docs/benchmarks.md)."""
    return models.UUIDField(primary_key=True, default=uuid7, editable=False)


class VersionedRowsQuerySet(models.QuerySet):
    """Rows that requests keep in the cache under version counters (identity/principal_rows.py). A
    save or delete bumps the row's own version there; an update of many rows at once bumps the
    version of every tenant they belong to (`tenant_column`), which each cached row is checked
    against too. bulk_update() updates through update()."""

    tenant_column = "tenant_id"

    def update(self, **kwargs):
        for tenant_id in self.order_by().values_list(self.tenant_column, flat=True).distinct():
            bump_tenant_row(tenant_id)
        return super().update(**kwargs)


class Status(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"


class StatusModel(models.Model):
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    suspended_reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        abstract = True

    @property
    def is_active_status(self) -> bool:
        return self.status == Status.ACTIVE


def choices_check(table: str, column: str, choices) -> models.CheckConstraint:
    """The database refuses a value outside the model's choices, whatever wrote the row."""
    return check(table, column, models.Q(**{f"{column}__in": choices.values}))


def status_check(table: str, choices=Status) -> models.CheckConstraint:
    return choices_check(table, "status", choices)


def change_status(instance, status: str, reason: str = "", *, suspended=Status.SUSPENDED) -> str:
    """Set `status` (and the reason, kept only while suspended) on `instance`; return the old status.

    A suspension without a reason is refused: whoever lifts it later needs to know why.
    """
    if status == suspended and not reason:
        raise ValidationFailed(details={"reason": ["A reason is required when suspending."]})
    previous = instance.status
    instance.status, instance.suspended_reason = status, reason if status == suspended else ""
    instance.save(update_fields=["status", "suspended_reason", "updated_at"])
    return previous
