from rest_framework.routers import SimpleRouter

from audit.api.views import AuditLogViewSet

router = SimpleRouter(trailing_slash=False)
router.register("audit-logs", AuditLogViewSet, basename="audit-logs")
urlpatterns = router.urls
