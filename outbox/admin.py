from datetime import timedelta

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from audit.services import Actor
from core.admin import LargeTableAdmin, ReadOnlyAdmin
from outbox import selectors, services
from outbox.models import OutboxEvent, WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription

# The field the delivery page's Replay button posts with the changelist's `replay` action.
REPLAYED_FROM_ITS_PAGE = "_replayed_from_its_page"
# The newest attempts a delivery's page shows (the API lists them all: GET …/deliveries/{id}/attempts).
SHOWN_ATTEMPTS = 50


class RequeueAdmin(LargeTableAdmin):
    date_hierarchy = "created_at"
    actions = ["requeue"]

    def has_requeue_permission(self, request):
        return request.user.has_perm(f"outbox.change_{self.opts.model_name}")

    def requeue_selected(self, request, queryset, *, replay: bool = False) -> int:
        raise NotImplementedError

    def _report(self, request, count: int) -> None:
        self.message_user(request, f"{count} requeued.", messages.SUCCESS if count else messages.WARNING)

    @admin.action(description="Requeue the selected failed or dead items", permissions=["requeue"])
    def requeue(self, request, queryset):
        self._report(request, self.requeue_selected(request, queryset))


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


class CreatedSinceFilter(admin.SimpleListFilter):
    """"Everything that failed since…": with the status filter and *select all*, what one Requeue
    sends again (the API's `POST /v1/webhooks/{id}/recover {since}`, across subscriptions)."""

    title = "created since"
    parameter_name = "since"
    PERIODS = {"1h": ("the last hour", timedelta(hours=1)), "24h": ("the last 24 hours", timedelta(days=1)),
               "7d": ("the last 7 days", timedelta(days=7)), "30d": ("the last 30 days", timedelta(days=30))}

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _period) in self.PERIODS.items()]

    def queryset(self, request, queryset):
        chosen = self.PERIODS.get(self.value())
        return queryset if chosen is None else queryset.filter(created_at__gte=timezone.now() - chosen[1])


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(RequeueAdmin):
    list_display = ["created_at", "subscription", "tenant", "status", "attempt_count", "response_code",
                    "next_attempt_at"]
    list_filter = ["status", CreatedSinceFilter, "tenant"]
    list_select_related = ["subscription", "tenant"]
    actions = ["requeue", "replay"]
    readonly_fields = ["attempts"]

    def requeue_selected(self, request, queryset, *, replay: bool = False):
        return services.requeue_across_tenants(deliveries=queryset, actor=Actor.for_user(request.user),
                                               statuses=services.FINISHED if replay else services.FAILED_OR_DEAD)

    @admin.action(description="Replay the selected deliveries, succeeded ones too", permissions=["requeue"])
    def replay(self, request, queryset):
        self._report(request, self.requeue_selected(request, queryset, replay=True))
        if request.POST.get(REPLAYED_FROM_ITS_PAGE) and len(selected := request.POST.getlist("_selected_action")) == 1:
            # Replayed with the button on the delivery's own page: back there, to watch the new attempt.
            return HttpResponseRedirect(reverse("admin:outbox_webhookdelivery_change", args=[selected[0]]))
        return None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url, {
            **(extra_context or {}), "can_replay": self.has_requeue_permission(request),
            "replayed_from_its_page": REPLAYED_FROM_ITS_PAGE})

    @admin.display(description=f"Attempts (newest {SHOWN_ATTEMPTS})")
    def attempts(self, delivery):
        attempts = selectors.delivery_attempts(tenant=delivery.tenant_id, delivery_id=delivery.pk)
        return render_to_string("admin/outbox/attempts.html", {"attempts": attempts[:SHOWN_ATTEMPTS]})


@admin.register(WebhookDeliveryAttempt)
class WebhookDeliveryAttemptAdmin(LargeTableAdmin):
    list_display = ["started_at", "delivery", "tenant", "number", "response_status", "latency_ms", "error"]
    list_filter = ["tenant"]
    list_select_related = ["tenant", "delivery"]
