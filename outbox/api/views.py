"""/v1/webhooks: subscriptions, their delivery log, secret rotation and requeues."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.exceptions import NotFound
from core.api.filters import ListFilterSet
from core.api.serializers import WebUrlField
from core.api.views import UUID_PATTERN
from core.api.viewsets import ListMixin, TenantScopedViewSet
from core.db.models import Status
from outbox import selectors, services
from outbox.events import EVENT_TYPES
from outbox.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription


class SubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "description", "event_types", "status", "suspended_reason", "failing_since",
                  "created_at", "updated_at"]
        read_only_fields = fields


class SubscriptionWithSecretSerializer(SubscriptionSerializer):
    """At creation and at each rotation only: the signing secret, shown once."""

    secret = serializers.CharField(read_only=True, help_text="whsec_…: shown once, store it now.")

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class SubscriptionWriteSerializer(serializers.Serializer):
    url = WebUrlField(schemes=("https", "http"))
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=sorted(EVENT_TYPES)), min_length=1,
                                        max_length=50)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class SubscriptionPatchSerializer(serializers.Serializer):
    url = WebUrlField(schemes=("https", "http"), required=False)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=sorted(EVENT_TYPES)), min_length=1,
                                        max_length=50, required=False)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(source="event.id")
    event_type = serializers.CharField(source="event.type")

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event_id", "event_type", "status", "attempt_count", "response_code", "response_time_ms",
                  "last_error", "next_attempt_at", "created_at"]
        read_only_fields = fields


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDeliveryAttempt
        fields = ["id", "number", "started_at", "response_status", "latency_ms", "error", "response_excerpt",
                  "created_at"]
        read_only_fields = fields
        extra_kwargs = {
            "number": {"help_text": "1 for the first attempt, counting on across retries and replays."},
            "response_status": {"help_text": "The receiver's HTTP status; null when no answer came back."},
            "response_excerpt": {"help_text": "The first 1,024 bytes of the receiver's answer, as UTF-8."},
        }


class RecoverSerializer(serializers.Serializer):
    since = serializers.DateTimeField()


class RequeuedSerializer(serializers.Serializer):
    requeued = serializers.IntegerField(help_text="How many deliveries will be sent again.")


class SubscriptionFilter(ListFilterSet):
    search_fields = ("url", "description")

    class Meta:
        model = WebhookSubscription
        fields = ["status"]


class DeliveryFilter(ListFilterSet):
    search_fields = ("event__type", "last_error")

    class Meta:
        model = WebhookDelivery
        fields = ["status"]


def with_secret(created) -> dict:
    return {**SubscriptionSerializer(created.subscription).data, "secret": created.secret}


@extend_schema(tags=["webhooks"])
class SubscriptionViewSetBase(TenantScopedViewSet):
    """Deleting a subscription and rotating its secret: the same for a tenant's and a product's."""

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.delete_subscription(subscription=self.get_object(), actor=request.user.actor)
        return Response(status=204)

    @extend_schema(request=None, responses=SubscriptionWithSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        return Response(with_secret(services.rotate_secret(subscription=self.get_object(), actor=request.user.actor)))


class WebhookViewSet(ListMixin, mixins.RetrieveModelMixin, SubscriptionViewSetBase):
    queryset = selectors.tenant_subscriptions
    serializer_class = SubscriptionSerializer
    filterset_class = SubscriptionFilter
    tool_action = {
        "list": "webhooks.read",
        "retrieve": "webhooks.read",
        "create": "webhooks.create",
        "partial_update": "webhooks.update",
        "rotate_secret": "webhooks.update",
        "recover": "webhooks.update",
        "retry_delivery": "webhooks.update",
        "replay_delivery": "webhooks.update",
        "destroy": "webhooks.delete",
    }
    _unusable = ("UNPROCESSABLE: the URL is not a public https endpoint, an event type is not emitted under this "
                 "hub's operating profile, or a reason comes without a status.")
    schema_errors = {"create": {"422": _unusable}, "partial_update": {"422": _unusable}}

    @extend_schema(request=SubscriptionWriteSerializer, responses={201: SubscriptionWithSecretSerializer})
    def create(self, request):
        created = services.create_subscription(tenant=self.tenant, actor=request.user.actor,
                                               **self.validated(SubscriptionWriteSerializer))
        return Response(with_secret(created), status=201)

    @extend_schema(request=SubscriptionPatchSerializer, responses=SubscriptionSerializer)
    def partial_update(self, request, pk=None):
        subscription = self.get_object()
        services.update_subscription(subscription=subscription, actor=request.user.actor,
                                     **self.validated(SubscriptionPatchSerializer))
        return Response(SubscriptionSerializer(subscription).data)

    def _deliveries(self):
        return selectors.subscription_deliveries(tenant=self.tenant, subscription=self.get_object())

    @extend_schema(request=RecoverSerializer, responses=RequeuedSerializer)
    @action(detail=True, methods=["post"])
    def recover(self, request, pk=None):
        since = self.validated(RecoverSerializer)["since"]
        count = services.requeue(deliveries=self._deliveries().filter(created_at__gte=since), actor=request.user.actor,
                                 tenant=self.tenant)
        return Response({"requeued": count})

    def _requeue_one(self, request, delivery_id, statuses) -> Response:
        deliveries = self._deliveries().filter(pk=delivery_id)
        if not deliveries.exists():
            raise NotFound("Delivery not found.")
        return Response({"requeued": services.requeue(deliveries=deliveries, actor=request.user.actor,
                                                      tenant=self.tenant, statuses=statuses)})

    @extend_schema(request=None, responses=RequeuedSerializer)
    @action(detail=True, methods=["post"], url_path=rf"deliveries/(?P<delivery_id>{UUID_PATTERN})/retry")
    def retry_delivery(self, request, pk=None, delivery_id=None):
        """Send a failed or dead delivery again (requeued 0 for any other)."""
        return self._requeue_one(request, delivery_id, services.FAILED_OR_DEAD)

    @extend_schema(request=None, responses=RequeuedSerializer)
    @action(detail=True, methods=["post"], url_path=rf"deliveries/(?P<delivery_id>{UUID_PATTERN})/replay")
    def replay_delivery(self, request, pk=None, delivery_id=None):
        """Send a finished delivery again, a succeeded one too, with the same `webhook-id` (requeued 0
        for a pending one, already on its way)."""
        return self._requeue_one(request, delivery_id, services.FINISHED)


@extend_schema(tags=["webhooks"])
class DeliveryViewSet(ListMixin, TenantScopedViewSet):
    """GET /v1/webhooks/{id}/deliveries: one subscription's deliveries, filtered and paginated like
    every other list (an unknown subscription, or another tenant's, is a 404)."""

    queryset = WebhookDelivery.objects.all()
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    tool_action = {"list": "webhooks.read"}

    def get_queryset(self):
        subscription = selectors.tenant_subscriptions.for_tenant(self.tenant).filter(pk=self.kwargs["id"]).first()
        if subscription is None:
            raise NotFound()
        return selectors.subscription_deliveries(tenant=self.tenant, subscription=subscription).select_related("event")


@extend_schema(tags=["webhooks"])
class AttemptViewSet(ListMixin, TenantScopedViewSet):
    """GET /v1/webhooks/{id}/deliveries/{deliveryId}/attempts: every attempt of one delivery, newest
    first by default (a delivery of another subscription, or of another tenant, is a 404)."""

    queryset = WebhookDeliveryAttempt.objects.all()
    serializer_class = AttemptSerializer
    filter_backends = []  # paginated, not filtered
    tool_action = {"list": "webhooks.read"}

    def get_queryset(self):
        delivery_id = self.kwargs["delivery_id"]
        if not selectors.subscription_delivery_exists(tenant=self.tenant, subscription_id=self.kwargs["id"],
                                                      delivery_id=delivery_id):
            raise NotFound("Delivery not found.")
        return selectors.delivery_attempts(tenant=self.tenant, delivery_id=delivery_id)
