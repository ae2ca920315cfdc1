from rest_framework import serializers

from core.api.serializers import EmailAddressField
from tenancy.models import Tenant, TenantPackage


class TenantPackageSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="package.key")
    name = serializers.CharField(source="package.name")

    class Meta:
        model = TenantPackage
        fields = ["key", "name", "status", "assigned_at", "expires_at"]
        read_only_fields = fields


class TenantSerializer(serializers.ModelSerializer):
    packages = serializers.SerializerMethodField()

    class Meta:
        model = Tenant
        fields = ["id", "slug", "name", "status", "suspended_reason", "is_platform", "packages", "created_at", "updated_at"]
        read_only_fields = fields

    def get_packages(self, tenant) -> list[dict]:
        return TenantPackageSerializer(tenant.held_packages, many=True).data


class AdminUserSerializer(serializers.Serializer):
    email = EmailAddressField()
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class OnboardSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=63)
    name = serializers.CharField(max_length=200)
    package_key = serializers.CharField(max_length=63)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    admin_user = AdminUserSerializer()


class AssignSerializer(serializers.Serializer):
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
