"""The transactional outbox and the webhook subscriptions and deliveries it feeds."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from core.db.models import BaseModel, StatusModel, choices_check, status_check, time_ordered_id
from core.db.naming import check, constraint_name, index
from tenancy.models import Tenant, TenantScopedModel

__all__ = ["DeliveryStatus", "EventStatus", "OutboxEvent", "WebhookDelivery", "WebhookDeliveryAttempt",
           "WebhookSubscription"]


class EventStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    DONE = "done", "Done"
    DEAD = "dead", "Dead"


class OutboxEvent(BaseModel):
    """A domain event written in the same transaction as the change it describes.

    Platform-level events may have no tenant, so this table is not tenant-scoped.
    """

    id = time_ordered_id()
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False)
    type = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "outbox_event"
        ordering = ["created_at", "id"]
        constraints = [status_check("outbox_event", EventStatus)]
        indexes = [
            # The drain only ever looks at claimable rows; a partial index keeps it small.
            models.Index(
                fields=["available_at"],
                condition=models.Q(status__in=[EventStatus.PENDING, EventStatus.PROCESSING]),
                name=constraint_name("idx", "outbox_event", ["available_at", "claimable"]),
            ),
            index("outbox_event", "tenant_id", "created_at"),
            index("outbox_event", "status", "created_at"),
        ]

    def __str__(self):
        return f"{self.type} {self.id}"


class WebhookSubscription(TenantScopedModel, StatusModel):
    """Where a tenant wants its events. Secrets are encrypted in the application (core/security/crypto.py);
    after a rotation the previous secret keeps signing too until `previous_secret_expires_at`.

    A product's subscription (`tool` set) is a row of the platform tenant: it receives the events of
    every tenant entitled to its tool (outbox/delivery.py), and only its tool's product credentials
    see it (/v1/product/webhooks); `product_credential` is the one that created it."""

    url = models.URLField(max_length=2048)
    description = models.CharField(max_length=500, blank=True, default="")
    secret_encrypted = models.BinaryField()
    previous_secret_encrypted = models.BinaryField(null=True, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    key_version = models.PositiveSmallIntegerField()
    event_types = ArrayField(models.CharField(max_length=100), default=list)
    # Set at the first failed attempt of a failing streak, cleared by any success.
    failing_since = models.DateTimeField(null=True, blank=True)
    tool = models.ForeignKey("catalog.Tool", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             db_index=False)
    product_credential = models.ForeignKey("identity.ProductCredential", on_delete=models.PROTECT, null=True,
                                           blank=True, related_name="+", db_index=False)

    class Meta:
        db_table = "webhook_subscription"
        ordering = ["created_at", "id"]
        constraints = [
            status_check("webhook_subscription"),
            check("webhook_subscription", "product", models.Q(tool__isnull=True, product_credential__isnull=True)
                  | models.Q(tool__isnull=False, product_credential__isnull=False)),
        ]
        indexes = [
            index("webhook_subscription", "tenant_id", "created_at", "id"),
            # A product lists its subscriptions (rows of the platform tenant); the fan-out reads the few there are.
            index("webhook_subscription", "tenant_id", "tool_id", "created_at", condition=models.Q(tool__isnull=False)),
        ]

    def __str__(self):
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (will retry)"
    DEAD = "dead", "Dead"


class WebhookDelivery(TenantScopedModel):
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_time_ms = models.PositiveIntegerField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "webhook_delivery"
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [choices_check("webhook_delivery", "status", DeliveryStatus)]
        indexes = [
            # Workers claim due deliveries across tenants; like the outbox's, a partial index keeps
            # that query off the history of delivered ones.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]),
                name=constraint_name("idx", "webhook_delivery", ["next_attempt_at", "due"]),
            ),
            index("webhook_delivery", "tenant_id", "subscription_id", "created_at"),
            index("webhook_delivery", "tenant_id", "event_id"),
            index("webhook_delivery", "tenant_id", "status", "next_attempt_at"),
        ]

    def __str__(self):
        # Its id and status only: lists name a delivery per row, and its event or subscription would
        # be one more query each.
        return f"delivery {self.pk} ({self.status})"


class WebhookDeliveryAttempt(TenantScopedModel):
    """One POST of a delivery, kept as it went (a retry or a replay adds a row, never rewrites one).
    Nothing of the request is kept: its headers carry the signature. Deleted with its delivery, by
    the services that delete deliveries (outbox/retention.py, outbox/services.py), through the
    index on (tenant_id, delivery_id): a cascade would look the rows up by delivery_id alone."""

    id = time_ordered_id()
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.DO_NOTHING, related_name="attempts",
                                 db_index=False)
    # 1, 2, … over the delivery's whole life: a replay restarts the retry schedule, not the count.
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    error = models.TextField(blank=True, default="")
    # The first RESPONSE_EXCERPT_BYTES of what the receiver answered, decoded leniently.
    response_excerpt = models.TextField(blank=True, default="")

    class Meta:
        db_table = "webhook_delivery_attempt"
        ordering = ["-created_at", "-id"]
        indexes = [index("webhook_delivery_attempt", "tenant_id", "delivery_id", "created_at", "id")]

    def __str__(self):
        return f"attempt {self.number} of {self.delivery_id}"
