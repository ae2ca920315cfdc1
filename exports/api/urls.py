from rest_framework.routers import SimpleRouter

from exports.api.views import ExportViewSet

router = SimpleRouter(trailing_slash=False)
router.register("exports", ExportViewSet, basename="exports")
urlpatterns = router.urls
