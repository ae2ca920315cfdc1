from rest_framework.routers import SimpleRouter

from outbox.api.views import WebhookViewSet

router = SimpleRouter(trailing_slash=False)
router.register("webhooks", WebhookViewSet, basename="webhooks")
urlpatterns = router.urls
