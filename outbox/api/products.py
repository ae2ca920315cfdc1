"""/v1/product/webhooks: a product's own subscriptions (product credentials only, no X-Tenant-Id).

Rows of the platform tenant with the product's tool, receiving the events of every tenant entitled to
it (docs/webhooks.md, Product subscriptions), shown as a tenant's subscriptions are; audited in the
platform tenant's trail."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.response import Response

from core.api.access import PRODUCT, PRODUCT_PLATFORM
from core.api.viewsets import ListMixin
from outbox import selectors, services
from outbox.api.views import (
    SubscriptionSerializer,
    SubscriptionViewSetBase,
    SubscriptionWithSecretSerializer,
    SubscriptionWriteSerializer,
    with_secret,
)
from outbox.models import WebhookSubscription


@extend_schema(tags=["webhooks"])
class ProductWebhookViewSet(ListMixin, mixins.RetrieveModelMixin, SubscriptionViewSetBase):
    queryset = WebhookSubscription.objects.all()
    serializer_class = SubscriptionSerializer
    _actions = ("list", "retrieve", "create", "destroy", "rotate_secret")
    tool_action = dict.fromkeys(_actions, PRODUCT)
    product_access = dict.fromkeys(_actions, PRODUCT_PLATFORM)
    _not_product = "CREDENTIAL_NOT_ALLOWED: not a product credential (aza8p_…)."
    schema_errors = {
        "create": {"403": _not_product, "422": "UNPROCESSABLE: the URL is not a public https endpoint, or an event "
                                              "type is not emitted under this hub's operating profile."},
        "list": {"403": _not_product}, "retrieve": {"403": _not_product}, "destroy": {"403": _not_product},
        "rotate_secret": {"403": _not_product},
    }

    def get_queryset(self):
        return selectors.product_subscriptions(tenant=self.tenant, tool=self.request.user.tool)

    @extend_schema(request=SubscriptionWriteSerializer, responses={201: SubscriptionWithSecretSerializer},
                   summary="Subscribe the product to events of every tenant entitled to its tool")
    def create(self, request):
        created = services.create_subscription(tenant=self.tenant, actor=request.user.actor,
                                               product_credential=request.user.product_credential,
                                               **self.validated(SubscriptionWriteSerializer))
        return Response(with_secret(created), status=201)
