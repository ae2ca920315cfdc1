"""GET /v1/authz/subjects/{userId}: what a product may know of a tenant user's access to its tool,
to decide in-process and cache for `maxAge` seconds (docs/rbac.md, Products)."""

import uuid

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema, inline_serializer
from rest_framework import serializers as fields
from rest_framework.response import Response

from core.api.access import PRODUCT, PRODUCT_IN_TENANT
from core.api.exceptions import NotFound
from core.api.views import UUID_PATTERN, TenantScopedAPIView
from identity.selectors import subject_snapshot

SUBJECT = inline_serializer("SubjectAccess", {
    "subject": inline_serializer("SubjectRef", {"type": fields.ChoiceField(choices=["user"]), "id": fields.UUIDField()}),
    "tenant_id": fields.UUIDField(),
    "tool": fields.CharField(help_text="The product credential's tool key."),
    "active": fields.BooleanField(help_text="The user is active and not deleted, and so is the tenant; false: "
                                            "`permissions` is empty."),
    "session_active": fields.BooleanField(allow_null=True, help_text="Whether the session `sessionId` names is "
                                                                     "still alive; null when not asked."),
    "permissions": fields.ListField(child=fields.CharField(), help_text="The user's effective permissions on the "
                                                                        "tool's actions, sorted."),
    "version": fields.CharField(help_text="Opaque; changes whenever the answer does."),
    "max_age": fields.IntegerField(help_text="Seconds the answer may be kept (PRODUCT_DECISION_MAX_AGE_SECONDS, "
                                             "at most 60)."),
})


class SubjectQuerySerializer(fields.Serializer):
    session_id = fields.RegexField(rf"^{UUID_PATTERN}\Z", required=False, trim_whitespace=False,
                                   error_messages={"invalid": "Must be a UUID (the token's sid claim)."})


class SubjectView(TenantScopedAPIView):
    tool_action = PRODUCT
    product_access = PRODUCT_IN_TENANT
    schema_errors = {"get": {
        "403": "CREDENTIAL_NOT_ALLOWED: not a product credential; TOOL_NOT_ENTITLED: the tenant does not hold "
               "the product's tool.",
        "404": "NOT_FOUND: the tenant X-Tenant-Id names has no such user (TENANT_NOT_FOUND: no such tenant).",
    }}

    def product_subject(self, request):
        """The user (and session) asked about, read ahead of validation (identity/authentication.py)."""
        session = request.query_params.get("sessionId")
        try:
            return uuid.UUID(self.kwargs["user_id"]), uuid.UUID(session) if session else None
        except ValueError:
            return None

    @extend_schema(
        tags=["me"], responses=SUBJECT, summary="A tenant user's access to the product's tool (products only)",
        description="A product credential (`Bearer aza8p_…`) asks about a user of the tenant `X-Tenant-Id` names "
                    "(required). The answer may be kept for `maxAge` seconds (docs/rbac.md).",
        parameters=[OpenApiParameter("sessionId", OpenApiTypes.UUID, pattern=f"^{UUID_PATTERN}$",
                                     description="A session (the access token's `sid`): answers `sessionActive`.")],
    )
    def get(self, request, user_id):
        session = request.query_params.get("sessionId")
        query = SubjectQuerySerializer(data={} if session is None else {"session_id": session})
        query.is_valid(raise_exception=True)
        session_id = query.validated_data.get("session_id")
        found = subject_snapshot(tenant=self.tenant, tool=request.user.tool, user_id=user_id,
                                 session_id=session_id.lower() if session_id else None, reads=request.user.cache_reads)
        if found is None:
            raise NotFound("The tenant has no such user.")
        return Response({
            "subject": {"type": "user", "id": found.user_id},
            "tenant_id": found.tenant_id,
            "tool": found.tool,
            "active": found.active,
            "session_active": found.session_active,
            "permissions": list(found.permissions),
            "version": found.version,
            "max_age": settings.PRODUCT_DECISION_MAX_AGE_SECONDS,
        })
