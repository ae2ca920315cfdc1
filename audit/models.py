"""What happened, by whom (audit_log), and what a retried POST already answered (idempotency_key)."""

from django.db import models

from core.db.models import choices_check, time_ordered_id
from core.db.naming import index, unique
from tenancy.models import TenantScopedModel

__all__ = ["ActorType", "AuditLog", "IdempotencyKey", "IdempotencyStatus"]


class ActorType(models.TextChoices):
    USER = "user", "User"
    SERVICE = "service", "Service (API key)"
    STAFF = "staff", "Aza8 staff"
    SYSTEM = "system", "System"


class AuditLog(TenantScopedModel):
    """Append-only: rows are written by audit.services.record inside the caller's transaction."""

    id = time_ordered_id()
    actor_user = models.ForeignKey(
        "identity.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    actor_type = models.CharField(max_length=8, choices=ActorType.choices)
    # The API key id for service actors, the user id for users and staff.
    actor_id = models.UUIDField(null=True, blank=True)
    action = models.CharField(max_length=150)
    entity_type = models.CharField(max_length=64)
    entity_id = models.CharField(max_length=64, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    # Tamper evidence: entries of a tenant form a chain, each hashing its content and its
    # predecessor's hash (audit/chain.py); `sequence` orders the chain without relying on clocks.
    sequence = models.BigIntegerField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "audit_log"
        ordering = ["-created_at", "-id"]
        constraints = [
            choices_check("audit_log", "actor_type", ActorType),
            unique("audit_log", "tenant_id", "sequence"),
        ]
        indexes = [
            index("audit_log", "tenant_id", "created_at", "id"),
            index("audit_log", "tenant_id", "entity_type", "entity_id"),
        ]

    def __str__(self):
        return f"{self.action} {self.entity_type}:{self.entity_id}"


class IdempotencyStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


class IdempotencyKey(TenantScopedModel):
    key = models.CharField(max_length=255)
    handler = models.CharField(max_length=150)
    # SHA-256 of method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=IdempotencyStatus.choices, default=IdempotencyStatus.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "idempotency_key"
        constraints = [
            unique("idempotency_key", "tenant_id", "key", "handler"),
            choices_check("idempotency_key", "status", IdempotencyStatus),
        ]
        indexes = [index("idempotency_key", "tenant_id", "created_at")]
