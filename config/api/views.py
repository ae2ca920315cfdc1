"""Base views of the API and the catch-all for unknown /v1 paths."""

from django.http import Http404
from rest_framework.views import APIView

from config.api.exceptions import TenantOverrideForbidden, json_error_response

__all__ = ["TENANT_BODY_KEYS", "TenantScopedAPIView", "api_not_found"]

# camelCase keys arrive underscored (tenantId → tenant_id) from the parser.
TENANT_BODY_KEYS = frozenset({"tenant_id", "tenant"})


def api_not_found(request, *args, **kwargs):
    """Unknown /v1 paths: the JSON envelope, whatever DEBUG says."""
    return json_error_response(Http404())


class TenantScopedAPIView(APIView):
    """A route that works inside the caller's tenant; the tenant comes only from the credential."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if isinstance(request.data, dict) and TENANT_BODY_KEYS & set(request.data):
            raise TenantOverrideForbidden()

    @property
    def tenant(self):
        return self.request.user.tenant
