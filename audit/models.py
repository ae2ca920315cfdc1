"""What happened, by whom (audit_log), and what a retried POST already answered (idempotency_key)."""

from django.db import models

from core.db.models import choices_check, time_ordered_id
from core.db.naming import index, unique
from tenancy.models import TenantScopedModel

__all__ = ["ActorType", "AuditLog", "IdempotencyKey", "IdempotencyStatus", "idempotency_associated_data"]


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
    """One caller's Idempotency-Key: a claim while its request runs, then the answer to replay.

    Scoped per (tenant, principal, handler, key): another principal of the tenant sending the same key
    runs its own request and never sees this one's answer. Usage reports' event ids are claimed per
    tenant (principal "")."""

    key = models.CharField(max_length=255)
    handler = models.CharField(max_length=150)
    # "<type>:<id>" of the caller (a user, or an API key for service principals).
    principal = models.CharField(max_length=64, blank=True, default="", db_default="")
    # SHA-256 of method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=IdempotencyStatus.choices, default=IdempotencyStatus.IN_PROGRESS)
    # Which request holds an in-progress claim, and until when: a request that died (lost
    # connection, killed worker) leaves a claim that a retry takes over once the lease ends.
    claim_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The answer's JSON under CREDENTIAL_KEYS (AES-GCM, bound to the row): answers hold secrets
    # shown once (API keys, invitation tokens, webhook secrets).
    response_encrypted = models.BinaryField(null=True, blank=True)
    key_version = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        db_table = "idempotency_key"
        constraints = [
            unique("idempotency_key", "tenant_id", "principal", "key", "handler"),
            choices_check("idempotency_key", "status", IdempotencyStatus),
        ]
        indexes = [index("idempotency_key", "tenant_id", "created_at")]


def idempotency_associated_data(pk) -> bytes:
    return f"idempotency_key:{pk}".encode()
