"""/v1/catalog: everyone reads it (catalog.read); platform staff extend it."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from catalog import selectors, services
from catalog.api import serializers
from catalog.models import Package, Tool
from core.api.idempotency import IdempotencyMixin
from core.api.pagination import KeysetPagination
from core.api.views import validated


class CatalogViewSet(IdempotencyMixin, GenericViewSet):
    """Global rows, looked up by key. Client tenants see what is active and tenant-scope only."""

    pagination_class = KeysetPagination
    lookup_field = "key"
    lookup_value_regex = "[a-z0-9_.-]+"

    @property
    def is_platform(self) -> bool:
        return self.request.user.tenant.is_platform

    def audit_context(self) -> dict:
        return {"actor": self.request.user.actor, "actor_tenant": self.request.user.tenant}


@extend_schema(tags=["catalog"])
class ToolViewSet(CatalogViewSet):
    queryset = Tool.objects.all()
    tool_action = {"list": "catalog.read", "retrieve": "catalog.read", "create": "catalog.tools.create",
                   "add_action": "catalog.actions.create"}
    schema_errors = {"add_action": {"422": "UNPROCESSABLE: the key does not start with the tool's key, or a "
                                           "platform-scope action on a tool that is not core."}}

    def get_queryset(self):
        return selectors.visible_tools(platform=self.is_platform)

    @extend_schema(responses=serializers.ToolSerializer(many=True))
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(serializers.ToolSerializer(page, many=True).data)

    @extend_schema(responses=serializers.ToolDetailSerializer)
    def retrieve(self, request, key=None):
        tool = self.get_object()
        context = {"actions": selectors.visible_actions(platform=self.is_platform).filter(tool=tool)}
        return Response(serializers.ToolDetailSerializer(tool, context=context).data)

    @extend_schema(request=serializers.ToolCreateSerializer, responses={201: serializers.ToolSerializer})
    def create(self, request):
        tool = services.create_tool(**validated(serializers.ToolCreateSerializer, request), **self.audit_context())
        return Response(serializers.ToolSerializer(tool).data, status=201)

    @extend_schema(request=serializers.ActionCreateSerializer, responses={201: serializers.ToolActionSerializer})
    @action(detail=True, methods=["post"], url_path="actions")
    def add_action(self, request, key=None):
        data = validated(serializers.ActionCreateSerializer, request)
        created = services.create_action(tool=self.get_object(), **data, **self.audit_context())
        return Response(serializers.ToolActionSerializer(created).data, status=201)


@extend_schema(tags=["catalog"])
class PackageViewSet(CatalogViewSet):
    queryset = Package.objects.all()
    tool_action = {"list": "catalog.read", "retrieve": "catalog.read", "create": "catalog.packages.create",
                   "add_actions": "catalog.packages.actions.add"}
    schema_errors = {action: {"422": "UNPROCESSABLE: an action the catalog does not hold, or a platform-scope one."}
                     for action in ("create", "add_actions")}

    def get_queryset(self):
        return selectors.visible_packages(platform=self.is_platform)

    @extend_schema(responses=serializers.PackageSerializer(many=True))
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(serializers.PackageSerializer(page, many=True).data)

    @extend_schema(responses=serializers.PackageSerializer)
    def retrieve(self, request, key=None):
        return Response(serializers.PackageSerializer(self.get_object()).data)

    @extend_schema(request=serializers.PackageCreateSerializer, responses={201: serializers.PackageSerializer})
    def create(self, request):
        package = services.create_package(**validated(serializers.PackageCreateSerializer, request),
                                          **self.audit_context())
        return Response(serializers.PackageSerializer(self.get_queryset().get(pk=package.pk)).data, status=201)

    @extend_schema(request=serializers.PackageActionsSerializer, responses=serializers.PackageSerializer)
    @action(detail=True, methods=["post"], url_path="actions")
    def add_actions(self, request, key=None):
        package = self.get_object()
        data = validated(serializers.PackageActionsSerializer, request)
        services.add_package_actions(package=package, action_keys=data["actions"], **self.audit_context())
        return Response(serializers.PackageSerializer(self.get_queryset().get(pk=package.pk)).data)
