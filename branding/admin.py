from django.contrib import admin

from branding.models import TenantBranding, TenantConfig
from core.admin import ReadOnlyAdmin


@admin.register(TenantBranding)
class TenantBrandingAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "domain", "primary_color", "secondary_color"]
    list_select_related = ["tenant"]


@admin.register(TenantConfig)
class TenantConfigAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "updated_at"]
    list_select_related = ["tenant"]
