from rest_framework.routers import SimpleRouter

from core.api.views import UUID_PATTERN
from outbox.api.products import ProductWebhookViewSet
from outbox.api.views import AttemptViewSet, DeliveryViewSet, WebhookViewSet

router = SimpleRouter(trailing_slash=False)
router.register("webhooks", WebhookViewSet, basename="webhooks")
router.register(rf"webhooks/(?P<id>{UUID_PATTERN})/deliveries", DeliveryViewSet, basename="webhook-deliveries")
router.register(rf"webhooks/(?P<id>{UUID_PATTERN})/deliveries/(?P<delivery_id>{UUID_PATTERN})/attempts", AttemptViewSet,
                basename="webhook-delivery-attempts")
router.register("product/webhooks", ProductWebhookViewSet, basename="product-webhooks")
urlpatterns = router.urls
