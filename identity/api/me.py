"""GET /v1/me and POST /v1/authz/check: what the caller is and may do."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers as fields
from rest_framework.response import Response

from core.api.access import AUTHENTICATED
from core.api.views import TenantScopedAPIView
from identity.api import serializers
from identity.authorization import effective_permissions, principal_access

ME = inline_serializer("Me", {
    "principal": inline_serializer("MePrincipal", {
        "type": fields.ChoiceField(choices=["user", "service"]), "id": fields.UUIDField(),
        "email": fields.EmailField(required=False, help_text="Users only."), "name": fields.CharField(),
    }),
    "tenant": inline_serializer("MeTenant", {"id": fields.UUIDField(), "slug": fields.CharField(),
                                             "name": fields.CharField()}),
    "groups": inline_serializer("MeGroup", {"id": fields.UUIDField(), "name": fields.CharField()}, many=True),
    "permissions": fields.ListField(child=fields.CharField(), help_text="tool_action keys, sorted."),
    "packages": inline_serializer("MePackage", {
        "key": fields.CharField(), "name": fields.CharField(), "expires_at": fields.DateTimeField(allow_null=True),
    }, many=True, help_text="The packages in force."),
    "branding": fields.DictField(allow_null=True),
})


class MeView(TenantScopedAPIView):
    tool_action = AUTHENTICATED

    @extend_schema(tags=["me"], responses=ME, summary="Who the caller is and what it may do")
    def get(self, request):
        principal, tenant = request.user, self.tenant
        access = principal_access(principal)
        if principal.user is not None:
            who = {"type": "user", "id": principal.user.pk, "email": principal.user.email, "name": principal.user.name}
        else:
            who = {"type": "service", "id": principal.api_key.pk, "name": principal.api_key.name}
        return Response(
            {
                "principal": who,
                "tenant": {"id": tenant.pk, "slug": tenant.slug, "name": tenant.name},
                "groups": list(access.groups),
                "permissions": sorted(access.permissions),
                "packages": list(access.packages),
                "branding": access.branding,
            }
        )


class AuthzCheckView(TenantScopedAPIView):
    tool_action = AUTHENTICATED

    @extend_schema(tags=["me"], request=serializers.AuthzCheckSerializer, responses=dict[str, bool],
                   summary="Which of these tool actions may the caller run?")
    def post(self, request):
        keys = self.validated(serializers.AuthzCheckSerializer)["tool_actions"]
        allowed = effective_permissions(request.user)
        response = Response({key: key in allowed for key in keys})
        # The keys are tool_action keys, not field names: leave them exactly as asked.
        response.camelize = False
        return response
