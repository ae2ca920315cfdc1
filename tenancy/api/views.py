"""/v1/tenants: onboarding and the life of a tenant, for Aza8 staff and platform services."""

import django_filters
from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from catalog.models import Package
from core.api.exceptions import NotFound
from core.api.filters import ListFilterSet
from core.api.idempotency import IdempotencyMixin
from core.api.pagination import KeysetPagination
from core.api.serializers import StatusChangeSerializer
from core.api.views import UUID_PATTERN, validated
from identity import onboarding
from identity.api.serializers import UserCreatedSerializer, user_created
from tenancy import services
from tenancy.api import serializers
from tenancy.models import Tenant, TenantPackage


class TenantFilter(ListFilterSet):
    search_fields = ("slug", "name")
    package = django_filters.CharFilter(field_name="packages_held__package__key", distinct=True)

    class Meta:
        model = Tenant
        fields = ["status"]


# What onboarding answers: the admin's invitation is shown once, here.
ONBOARDED = inline_serializer("Onboarded", {
    "tenant": serializers.TenantSerializer(),
    "package": serializers.TenantPackageSerializer(),
    "admin_user": UserCreatedSerializer(),
})


@extend_schema(tags=["tenants"])
class TenantViewSet(IdempotencyMixin, GenericViewSet):
    """Cross-tenant by nature: only principals entitled to platform-scope actions get here."""

    pagination_class = KeysetPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = TenantFilter
    lookup_value_regex = UUID_PATTERN
    tool_action = {
        "list": "tenants.read",
        "retrieve": "tenants.read",
        "create": "tenants.create",
        "status": "tenants.status.update",
        "assign": "tenants.packages.assign",
        "unassign": "tenants.packages.unassign",
        "seeds": "tenants.seeds.run",
    }
    schema_errors = {"create": {"422": "UNPROCESSABLE: no package with this key."},
                     "assign": {"422": "UNPROCESSABLE: expiresAt already past."}}

    def get_queryset(self):
        held = TenantPackage.objects.select_related("package").order_by("package__key")
        return Tenant.objects.prefetch_related(Prefetch("packages_held", queryset=held, to_attr="held_packages"))

    def _fresh(self, tenant) -> dict:
        return serializers.TenantSerializer(self.get_queryset().get(pk=tenant.pk)).data

    @extend_schema(responses=serializers.TenantSerializer(many=True))
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(serializers.TenantSerializer(page, many=True).data)

    @extend_schema(responses=serializers.TenantSerializer)
    def retrieve(self, request, pk=None):
        return Response(serializers.TenantSerializer(self.get_object()).data)

    @extend_schema(request=serializers.OnboardSerializer, responses={201: ONBOARDED},
                   summary="Onboard a tenant: tenant, package, base groups and its first admin, at once")
    def create(self, request):
        data = validated(serializers.OnboardSerializer, request)
        onboarded = onboarding.onboard_tenant(
            slug=data["slug"],
            name=data["name"],
            package_key=data["package_key"],
            expires_at=data.get("expires_at"),
            admin_email=data["admin_user"]["email"],
            admin_name=data["admin_user"]["name"],
            actor=request.user.actor,
        )
        body = {
            "tenant": self._fresh(onboarded.tenant),
            "package": serializers.TenantPackageSerializer(onboarded.tenant_package).data,
            "admin_user": user_created(onboarded.admin),
        }
        return Response(body, status=201)

    @extend_schema(request=StatusChangeSerializer, responses=serializers.TenantSerializer)
    @action(detail=True, methods=["patch"])
    def status(self, request, pk=None):
        tenant = self.get_object()
        services.set_tenant_status(tenant=tenant, actor=request.user.actor,
                                   **validated(StatusChangeSerializer, request))
        return Response(self._fresh(tenant))

    def _package(self, package_key) -> Package:
        package = Package.objects.filter(key=package_key).first()
        if package is None:
            raise NotFound("Package not found.")
        return package

    @extend_schema(request=serializers.AssignSerializer, responses=serializers.TenantSerializer)
    @action(detail=True, methods=["post"], url_path=r"packages/(?P<package_key>[a-z0-9-]+)/assign")
    def assign(self, request, pk=None, package_key=None):
        tenant = self.get_object()
        self._package(package_key)
        data = validated(serializers.AssignSerializer, request)
        onboarding.assign_package(tenant=tenant, package_key=package_key, expires_at=data.get("expires_at"),
                                  actor=request.user.actor)
        return Response(self._fresh(tenant))

    @extend_schema(request=None, responses=serializers.TenantSerializer)
    @action(detail=True, methods=["post"], url_path=r"packages/(?P<package_key>[a-z0-9-]+)/unassign")
    def unassign(self, request, pk=None, package_key=None):
        tenant = self.get_object()
        services.unassign_package(tenant=tenant, package=self._package(package_key), actor=request.user.actor)
        return Response(self._fresh(tenant))

    @extend_schema(request=None, responses=inline_serializer("SeedChanges", {
        "changes": drf_serializers.ListField(child=drf_serializers.CharField())}))
    @action(detail=True, methods=["post"])
    def seeds(self, request, pk=None):
        changes = onboarding.run_tenant_seed(tenant=self.get_object(), actor=request.user.actor)
        return Response({"changes": changes.lines})
