"""GET /v1/me and POST /v1/authz/check: what the caller is and may do (or, asked by a product, what
one of the tenant's users may do with the product's tool)."""

import json
import uuid

from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, inline_serializer
from rest_framework import serializers as fields
from rest_framework.response import Response

from catalog.models import ACTION_KEY_VALIDATOR
from core.api.access import AUTHENTICATED, PRODUCT_IN_TENANT
from core.api.exceptions import NotFound
from core.api.views import TenantScopedAPIView
from identity.api import serializers
from identity.authorization import effective_permissions, principal_access
from identity.selectors import subject_snapshot

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


class AuthzSubjectSerializer(fields.Serializer):
    user_id = fields.UUIDField(help_text="A user of the tenant X-Tenant-Id names.")


class ProductAuthzCheckSerializer(serializers.AuthzCheckSerializer):
    subject = AuthzSubjectSerializer(help_text="Product credentials only, and required for them.")


AUTHZ_CHECK = PolymorphicProxySerializer(
    "AuthzQuestion", resource_type_field_name=None,
    serializers=[serializers.AuthzCheckSerializer, ProductAuthzCheckSerializer],
)


# The limits the serializer applies, read from it so the two cannot drift.
_TOOL_ACTIONS = serializers.AuthzCheckSerializer().fields["tool_actions"]


def well_formed_question(data, *, product: bool) -> dict | None:
    """The question as its serializer validates it, when `data` is exactly what that serializer
    accepts unchanged; None for anything else, which the serializer then validates and words the
    errors of. This route is called on every decision a product or a client makes, and building the
    serializers (DRF deep-copies their fields per request) cost more than the whole answer."""
    if not isinstance(data, dict) or data.keys() != ({"subject", "tool_actions"} if product else {"tool_actions"}):
        return None
    keys = data["tool_actions"]
    if not isinstance(keys, list) or not _TOOL_ACTIONS.min_length <= len(keys) <= _TOOL_ACTIONS.max_length or not all(
            isinstance(key, str) and len(key) <= _TOOL_ACTIONS.child.max_length and ACTION_KEY_VALIDATOR.regex.match(key)
            for key in keys):
        return None
    if not product:
        return {"tool_actions": keys}
    subject = data["subject"]
    if not isinstance(subject, dict) or subject.keys() != {"user_id"} or not isinstance(subject["user_id"], str):
        return None
    try:
        user_id = uuid.UUID(hex=subject["user_id"])
    except ValueError:
        return None
    return {"tool_actions": keys, "subject": {"user_id": user_id}}


class AuthzCheckView(TenantScopedAPIView):
    tool_action = AUTHENTICATED
    product_access = PRODUCT_IN_TENANT
    schema_errors = {"post": {
        "400": "VALIDATION_ERROR: `subject` from a user or service (an unknown field), or none from a product.",
        "403": "TOOL_NOT_ENTITLED: (products) the tenant does not hold the product's tool.",
        "404": "NOT_FOUND: (products) the tenant has no such user.",
    }}

    def product_subject(self, request):
        """The user a product asks about, read ahead of validation (identity/authentication.py)."""
        try:
            return uuid.UUID(json.loads(request._request.body)["subject"]["userId"]), None
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError, RequestDataTooBig):
            return None

    @extend_schema(tags=["me"], request=AUTHZ_CHECK, responses=dict[str, bool],
                   summary="Which of these tool actions may the caller (a product: the subject) run?",
                   description="A user or service asks about itself: `{toolActions}`. A product credential asks "
                               "about a user of the tenant X-Tenant-Id names: `{subject: {userId}, toolActions}`; "
                               "keys outside the product's tool answer false.")
    def post(self, request):
        product = request.user.product_credential is not None
        data = well_formed_question(request.data, product=product) or self.validated(
            ProductAuthzCheckSerializer if product else serializers.AuthzCheckSerializer)
        if not product:
            keys = data["tool_actions"]
            allowed = effective_permissions(request.user)
        else:
            keys, subject = data["tool_actions"], data["subject"]
            found = subject_snapshot(tenant=self.tenant, tool=request.user.tool, user_id=subject["user_id"],
                                     reads=request.user.cache_reads)
            if found is None:
                raise NotFound("The tenant has no such user.")
            allowed = frozenset(found.permissions)
        response = Response({key: key in allowed for key in keys})
        # The keys are tool_action keys, not field names: leave them exactly as asked.
        response.camelize = False
        return response
