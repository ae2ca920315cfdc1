from django.contrib import admin, messages

from audit.services import Actor
from config.admin import ReadOnlyAdmin
from outbox import services
from outbox.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from tenancy.models import Tenant


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
    actions = ["requeue"]

    def has_requeue_permission(self, request):
        return request.user.has_perm("outbox.change_webhookdelivery")

    @admin.action(description="Requeue the selected failed or dead deliveries", permissions=["requeue"])
    def requeue(self, request, queryset):
        total = 0
        # One call per tenant: the requeue is audited in the tenant whose deliveries it touches.
        for tenant_id in queryset.values_list("tenant_id", flat=True).distinct():
            tenant = Tenant.objects.get(pk=tenant_id)
            total += services.requeue(deliveries=queryset.filter(tenant_id=tenant_id),
                                      actor=Actor.for_user(request.user), tenant=tenant)
        self.message_user(request, f"{total} deliveries requeued.", messages.SUCCESS)
