"""GET/PUT /v1/branding and GET/PUT /v1/config."""

import re

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from branding import services
from branding.models import TenantBranding, TenantConfig
from core.api.serializers import PatternField, StrictBooleanField, WebUrlField
from core.api.views import TenantScopedAPIView

COLOR = r"\A#[0-9a-fA-F]{6}\Z"
FLAG_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.-]{0,63}$")
# The documented shape of tenant_config.limits (docs/branding-and-config.md).
MAX_RATE_LIMIT = 100_000


class BrandingSerializer(serializers.ModelSerializer):
    logo_url = WebUrlField(required=False, allow_blank=True, default="")
    primary_color = PatternField(COLOR, required=False, allow_blank=True, default="")
    secondary_color = PatternField(COLOR, required=False, allow_blank=True, default="")
    domain = PatternField(
        r"\A(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z", required=False, allow_null=True, default=None
    )

    class Meta:
        model = TenantBranding
        fields = ["logo_url", "primary_color", "secondary_color", "domain"]


class RateLimitsSerializer(serializers.Serializer):
    read = serializers.IntegerField(min_value=1, max_value=MAX_RATE_LIMIT, required=False)
    write = serializers.IntegerField(min_value=1, max_value=MAX_RATE_LIMIT, required=False)


class LimitsSerializer(serializers.Serializer):
    rate_limits = RateLimitsSerializer(required=False)


class ConfigSerializer(serializers.ModelSerializer):
    flags = serializers.DictField(child=StrictBooleanField(), required=False, default=dict)
    limits = LimitsSerializer(required=False, default=dict)

    class Meta:
        model = TenantConfig
        fields = ["flags", "limits"]

    def validate_flags(self, value):
        bad = sorted(name for name in value if not FLAG_NAME.match(name))
        if bad:
            raise serializers.ValidationError(f"Invalid flag names: {', '.join(bad)}.")
        return value


def _limits_document(limits: dict) -> dict:
    """Stored as clients send it: camelCase keys, read by the rate limiter as such."""
    document = {}
    if "rate_limits" in limits:
        document["rateLimits"] = dict(limits["rate_limits"])
    return document


@extend_schema(tags=["branding"])
class BrandingView(TenantScopedAPIView):
    tool_action = {"get": "branding.read", "put": "branding.update"}

    @extend_schema(responses=BrandingSerializer)
    def get(self, request):
        branding = TenantBranding.objects.for_tenant(self.tenant).first() or TenantBranding(tenant=self.tenant)
        return Response(BrandingSerializer(branding).data)

    @extend_schema(request=BrandingSerializer, responses=BrandingSerializer)
    def put(self, request):
        data = self.validated(BrandingSerializer)
        branding = services.replace_branding(tenant=self.tenant, actor=request.user.actor, **data)
        return Response(BrandingSerializer(branding).data)


@extend_schema(tags=["config"])
class ConfigView(TenantScopedAPIView):
    tool_action = {"get": "config.read", "put": "config.update"}

    def _body(self, config) -> Response:
        response = Response({"flags": config.flags, "limits": config.limits})
        # Flag names are the tenant's own keys: returned exactly as stored.
        response.camelize = False
        return response

    @extend_schema(responses=ConfigSerializer)
    def get(self, request):
        return self._body(TenantConfig.objects.for_tenant(self.tenant).first() or TenantConfig(tenant=self.tenant))

    @extend_schema(request=ConfigSerializer, responses=ConfigSerializer)
    def put(self, request):
        data = self.validated(ConfigSerializer)
        config = services.replace_config(
            tenant=self.tenant, flags=data["flags"], limits=_limits_document(data["limits"]), actor=request.user.actor
        )
        return self._body(config)
