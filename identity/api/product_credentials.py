"""/v1/catalog/tools/{toolKey}/credentials: staff issue, list, rotate and revoke a tool's product
credentials (platform-scope actions, so the platform tenant only). The secret is in the answer to
create and rotate, and nowhere else, ever."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from catalog.models import Tool
from core.api.idempotency import IdempotencyMixin
from core.api.pagination import KeysetPagination
from core.api.serializers import PatternField
from core.api.views import UUID_PATTERN, validated
from identity import product_credentials
from identity.models import ProductCredential

__all__ = ["TOOL_KEY_PATTERN", "ProductCredentialViewSet"]

TOOL_KEY_PATTERN = "[a-z0-9_.-]+"


class ProductCredentialSerializer(serializers.ModelSerializer):
    tool = serializers.CharField(source="tool.key", read_only=True, help_text="The tool's key.")

    class Meta:
        model = ProductCredential
        fields = ["id", "tool", "name", "prefix", "status", "created_at", "last_used_at"]
        read_only_fields = fields


class IssuedCredentialSerializer(ProductCredentialSerializer):
    credential = serializers.CharField(read_only=True, help_text="aza8p_<prefix>_<secret>. Shown once, never again.")

    class Meta(ProductCredentialSerializer.Meta):
        fields = [*ProductCredentialSerializer.Meta.fields, "credential"]
        read_only_fields = fields


class CredentialCreateSerializer(serializers.Serializer):
    name = PatternField(r"\A[\w .:-]{1,100}\Z", max_length=100)


def _issued(issued: product_credentials.IssuedCredential) -> dict:
    return {**ProductCredentialSerializer(issued.credential).data, "credential": issued.secret}


@extend_schema(tags=["catalog"])
class ProductCredentialViewSet(IdempotencyMixin, GenericViewSet):
    pagination_class = KeysetPagination
    lookup_value_regex = UUID_PATTERN
    tool_action = {"list": "product_credentials.read", "create": "product_credentials.create",
                   "rotate": "product_credentials.rotate", "revoke": "product_credentials.revoke"}
    schema_errors = {"create": {"422": "UNPROCESSABLE: the hub's own tool takes no product credential."}}

    def tool(self) -> Tool:
        return get_object_or_404(Tool, key=self.kwargs["tool_key"])

    def get_queryset(self):
        return ProductCredential.objects.filter(tool=self.tool()).select_related("tool")

    @extend_schema(responses=ProductCredentialSerializer(many=True))
    def list(self, request, tool_key=None):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ProductCredentialSerializer(page, many=True).data)

    @extend_schema(request=CredentialCreateSerializer, responses={201: IssuedCredentialSerializer})
    def create(self, request, tool_key=None):
        name = validated(CredentialCreateSerializer, request)["name"]
        issued = product_credentials.issue_product_credential(tool=self.tool(), name=name, actor=request.user.actor)
        return Response(_issued(issued), status=201)

    @extend_schema(request=None, responses=IssuedCredentialSerializer)
    @action(detail=True, methods=["post"])
    def rotate(self, request, tool_key=None, pk=None):
        issued = product_credentials.rotate_product_credential(credential=self.get_object(), actor=request.user.actor)
        return Response(_issued(issued))

    @extend_schema(request=None, responses=ProductCredentialSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, tool_key=None, pk=None):
        revoked = product_credentials.revoke_product_credential(credential=self.get_object(), actor=request.user.actor)
        return Response(ProductCredentialSerializer(revoked).data)
