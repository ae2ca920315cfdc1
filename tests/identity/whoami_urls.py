"""The real URLs plus a tenant-scoped route that reports who the caller is, for the auth tests."""

from django.urls import include, path
from rest_framework.response import Response

from config import urls as hub_urls
from core.api.access import AUTHENTICATED
from core.api.views import TenantScopedAPIView


class WhoAmIView(TenantScopedAPIView):
    tool_action = AUTHENTICATED

    def get(self, request):
        principal = request.user
        return Response({"type": principal.type, "id": str(principal.id), "tenant": str(self.tenant.pk)})

    def post(self, request):
        return Response({"accepted": True}, status=201)


urlpatterns = [path("v1/test/whoami", WhoAmIView.as_view()), path("", include(hub_urls))]
