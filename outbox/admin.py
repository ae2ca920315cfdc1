from django.contrib import admin

from config.admin import ReadOnlyAdmin
from outbox.models import OutboxEvent, WebhookDelivery, WebhookSubscription


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "type", "tenant", "status", "attempts", "available_at"]
    list_filter = ["status", "type"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["url", "tenant", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["tenant"]
    exclude = ["secret_encrypted", "previous_secret_encrypted", "key_version"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "subscription", "tenant", "status", "attempt_count", "response_code"]
    list_filter = ["status"]
    list_select_related = ["subscription", "tenant"]
    date_hierarchy = "created_at"
