"""/v1/integrations/credentials: metadata in, metadata out; the secret `data` is write-only."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.response import Response

from core.api.filters import ListFilterSet
from core.api.parsers import HubJSONParser
from core.api.serializers import BoundedDictField
from core.api.viewsets import ListMixin, TenantScopedViewSet
from integrations import services
from integrations.models import IntegrationCredential

# Plenty for OAuth client credentials or a service-account key; refuses using the hub as storage.
MAX_SECRET_FIELDS = 20


class CredentialJSONParser(HubJSONParser):
    """The secret's field names are the provider's (`client_secret`, `apiKey`): kept as sent."""

    json_underscoreize = {
        **settings.JSON_CAMEL_CASE["JSON_UNDERSCOREIZE"],
        "ignore_fields": (*settings.JSON_CAMEL_CASE["JSON_UNDERSCOREIZE"]["ignore_fields"], "data"),
    }


class CredentialSerializer(serializers.ModelSerializer):
    class Meta:
        model = IntegrationCredential
        fields = ["id", "provider", "name", "key_version", "expires_at", "created_at"]
        read_only_fields = fields


class CredentialWriteSerializer(serializers.Serializer):
    provider = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=100)
    data = BoundedDictField(child=serializers.CharField(max_length=8192, allow_blank=True), allow_empty=False,
                            max_properties=MAX_SECRET_FIELDS,
                            help_text="The secret fields; stored encrypted and never returned.")
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class CredentialFilter(ListFilterSet):
    search_fields = ("provider", "name")

    class Meta:
        model = IntegrationCredential
        fields = ["provider"]


@extend_schema(tags=["integrations"])
class CredentialViewSet(ListMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    queryset = IntegrationCredential.objects.all()
    serializer_class = CredentialSerializer
    filterset_class = CredentialFilter
    parser_classes = [CredentialJSONParser]
    tool_action = {
        "list": "integrations.read",
        "retrieve": "integrations.read",
        "create": "integrations.create",
        "destroy": "integrations.delete",
    }

    @extend_schema(request=CredentialWriteSerializer, responses={201: CredentialSerializer})
    def create(self, request):
        credential = services.create_credential(tenant=self.tenant, actor=request.user.actor,
                                                **self.validated(CredentialWriteSerializer))
        return Response(CredentialSerializer(credential).data, status=201)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.delete_credential(credential=self.get_object(), actor=request.user.actor)
        return Response(status=204)
