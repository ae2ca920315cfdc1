from rest_framework.routers import SimpleRouter

from catalog.api.views import PackageViewSet, ToolViewSet

router = SimpleRouter(trailing_slash=False)
router.register("catalog/tools", ToolViewSet, basename="catalog-tools")
router.register("catalog/packages", PackageViewSet, basename="catalog-packages")
urlpatterns = router.urls
