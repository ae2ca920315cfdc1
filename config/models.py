"""Abstract building blocks shared by every domain model."""

import uuid

from django.db import models
from django.utils import timezone

from config.db.naming import check

__all__ = ["BaseModel", "Status", "StatusModel", "choices_check", "status_check"]


class BaseModel(models.Model):
    """UUID primary key and the two timestamps every table carries."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


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
