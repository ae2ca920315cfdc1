from rest_framework.routers import SimpleRouter

from integrations.api.views import CredentialViewSet

router = SimpleRouter(trailing_slash=False)
router.register("integrations/credentials", CredentialViewSet, basename="integration-credentials")
urlpatterns = router.urls
