from django.contrib import admin, messages

from audit.services import Actor
from core.admin import LargeTableAdmin, ReadOnlyAdmin
from outbox import services
from outbox.models import OutboxEvent, WebhookDelivery, WebhookSubscription


class RequeueAdmin(LargeTableAdmin):
    date_hierarchy = "created_at"
    actions = ["requeue"]

    def has_requeue_permission(self, request):
        return request.user.has_perm(f"outbox.change_{self.opts.model_name}")

    def requeue_selected(self, request, queryset) -> int:
        raise NotImplementedError

    @admin.action(description="Requeue the selected failed or dead items", permissions=["requeue"])
    def requeue(self, request, queryset):
        count = self.requeue_selected(request, queryset)
        self.message_user(request, f"{count} requeued.", messages.SUCCESS if count else messages.WARNING)


@admin.register(OutboxEvent)
class OutboxEventAdmin(RequeueAdmin):
    list_display = ["created_at", "type", "tenant", "status", "attempts", "available_at"]
    list_filter = ["status", "type"]
    list_select_related = ["tenant"]

    def requeue_selected(self, request, queryset):
        return services.requeue_events(events=queryset, actor=Actor.for_user(request.user), platform_tenant=request.user.tenant)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["url", "tenant", "status", "failing_since", "created_at"]
    list_filter = ["status", "tenant"]
    list_select_related = ["tenant"]
    exclude = ["secret_encrypted", "previous_secret_encrypted", "key_version"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(RequeueAdmin):
    list_display = ["created_at", "subscription", "tenant", "status", "attempt_count", "response_code",
                    "next_attempt_at"]
    list_filter = ["status", "tenant"]
    list_select_related = ["subscription", "tenant"]

    def requeue_selected(self, request, queryset):
        return services.requeue_across_tenants(deliveries=queryset, actor=Actor.for_user(request.user))
