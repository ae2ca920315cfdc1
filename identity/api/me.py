"""GET /v1/me and POST /v1/authz/check: what the caller is and may do."""

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.response import Response

from branding.models import TenantBranding
from config.api.access import AUTHENTICATED
from config.api.views import TenantScopedAPIView
from config.models import Status
from identity.api import serializers
from identity.authorization import effective_permissions
from tenancy.models import TenantPackage


def _branding(tenant) -> dict | None:
    branding = TenantBranding.objects.for_tenant(tenant).first()
    if branding is None:
        return None
    return {
        "logo_url": branding.logo_url,
        "primary_color": branding.primary_color,
        "secondary_color": branding.secondary_color,
        "domain": branding.domain,
    }


class MeView(TenantScopedAPIView):
    tool_action = AUTHENTICATED

    @extend_schema(tags=["me"], responses=OpenApiTypes.OBJECT, summary="Who the caller is and what it may do")
    def get(self, request):
        principal, tenant = request.user, self.tenant
        if principal.user is not None:
            who = {"type": "user", "id": principal.user.pk, "email": principal.user.email, "name": principal.user.name}
            groups = [
                {"id": membership.group_id, "name": membership.group.name}
                for membership in principal.user.memberships.select_related("group").filter(
                    group__status=Status.ACTIVE, group__deleted_at__isnull=True
                ).order_by("group__name")
            ]
        else:
            who = {"type": "service", "id": principal.api_key.pk, "name": principal.api_key.name}
            groups = []
        packages = [
            {"key": held.package.key, "name": held.package.name, "expires_at": held.expires_at}
            for held in TenantPackage.objects.for_tenant(tenant)
            .filter(status=Status.ACTIVE, package__status=Status.ACTIVE)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
            .select_related("package")
            .order_by("package__key")
        ]
        return Response(
            {
                "principal": who,
                "tenant": {"id": tenant.pk, "slug": tenant.slug, "name": tenant.name},
                "groups": groups,
                "permissions": sorted(effective_permissions(principal)),
                "packages": packages,
                "branding": _branding(tenant),
            }
        )


class AuthzCheckView(TenantScopedAPIView):
    tool_action = AUTHENTICATED

    @extend_schema(tags=["me"], request=serializers.AuthzCheckSerializer, responses=OpenApiTypes.OBJECT,
                   summary="Which of these tool actions may the caller run?")
    def post(self, request):
        keys = self.validated(serializers.AuthzCheckSerializer)["tool_actions"]
        allowed = effective_permissions(request.user)
        response = Response({key: key in allowed for key in keys})
        # The keys are tool_action keys, not field names: leave them exactly as asked.
        response.camelize = False
        return response
