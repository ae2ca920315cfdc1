"""The real URLs plus two routes open to products, one in a tenant and one platform-level, that
report who the caller is and where it acts, for the product credential tests."""

from django.urls import include, path
from rest_framework.response import Response

from config import urls as hub_urls
from core.api.access import PRODUCT, PRODUCT_IN_TENANT, PRODUCT_PLATFORM
from core.api.views import TenantScopedAPIView


class ProductWhoAmIView(TenantScopedAPIView):
    tool_action = PRODUCT
    product_access = PRODUCT_IN_TENANT

    def get(self, request):
        principal = request.user
        return Response({"type": principal.type, "id": str(principal.id), "tool": principal.tool.key,
                         "tenant": str(self.tenant.pk)})


class ProductPlatformView(ProductWhoAmIView):
    product_access = PRODUCT_PLATFORM


urlpatterns = [
    path("v1/test/product", ProductWhoAmIView.as_view()),
    path("v1/test/product-platform", ProductPlatformView.as_view()),
    path("", include(hub_urls)),
]
