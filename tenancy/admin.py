from django.contrib import admin

from config.admin import ReadOnlyAdmin
from tenancy.models import Tenant, TenantPackage, TenantToolOverride


@admin.register(Tenant)
class TenantAdmin(ReadOnlyAdmin):
    list_display = ["slug", "name", "status", "is_platform", "created_at"]
    list_filter = ["status", "is_platform"]
    search_fields = ["slug", "name"]


@admin.register(TenantPackage)
class TenantPackageAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "package", "status", "assigned_at", "expires_at"]
    list_filter = ["status", "package"]
    list_select_related = ["tenant", "package"]


@admin.register(TenantToolOverride)
class TenantToolOverrideAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "tool", "tool_action", "created_at"]
    list_select_related = ["tenant", "tool", "tool_action"]
