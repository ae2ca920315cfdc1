"""/v1/api-keys"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.filters import ListFilterSet
from core.api.viewsets import ListMixin, TenantScopedViewSet
from identity import services
from identity.api import serializers
from identity.authorization import effective_permissions
from identity.models import ApiKey


class ApiKeyFilter(ListFilterSet):
    search_fields = ("name", "prefix")

    class Meta:
        model = ApiKey
        fields = ["status", "profile"]


def _with_secret(new_key) -> dict:
    return {**serializers.ApiKeySerializer(new_key.api_key).data, "key": new_key.key}


@extend_schema(tags=["api-keys"])
class ApiKeyViewSet(ListMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    queryset = ApiKey.objects.all()
    serializer_class = serializers.ApiKeySerializer
    filterset_class = ApiKeyFilter
    tool_action = {
        "list": "api_keys.read",
        "retrieve": "api_keys.read",
        "create": "api_keys.create",
        "status": "api_keys.status.update",
        "rotate": "api_keys.rotate",
    }
    schema_errors = {"create": {"422": "UNPROCESSABLE: neither or both of profile and scopes, a scope the tenant "
                                       "does not hold, or expiresAt already past."}}

    @extend_schema(request=serializers.ApiKeyCreateSerializer, responses={201: serializers.ApiKeyWithSecretSerializer})
    def create(self, request):
        data = self.validated(serializers.ApiKeyCreateSerializer)
        new_key = services.create_api_key(
            tenant=self.tenant,
            name=data["name"],
            profile=data.get("profile"),
            scopes=data.get("scopes") or (),
            expires_at=data.get("expires_at"),
            allowed_networks=data.get("allowed_ips") or (),
            actor=request.user.actor,
            granter_permissions=effective_permissions(request.user),
        )
        return Response(_with_secret(new_key), status=201)

    @extend_schema(request=serializers.ApiKeyStatusSerializer, responses=serializers.ApiKeySerializer)
    @action(detail=True, methods=["patch"])
    def status(self, request, pk=None):
        api_key = self.get_object()
        data = self.validated(serializers.ApiKeyStatusSerializer)
        services.set_api_key_status(api_key=api_key, actor=request.user.actor, **data)
        return Response(serializers.ApiKeySerializer(api_key).data)

    @extend_schema(request=None, responses=serializers.ApiKeyWithSecretSerializer)
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        new_key = services.rotate_api_key(api_key=self.get_object(), actor=request.user.actor)
        return Response(_with_secret(new_key))
