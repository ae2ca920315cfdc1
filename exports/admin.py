from django.contrib import admin

from core.admin import ReadOnlyAdmin
from exports.models import TenantExport


@admin.register(TenantExport)
class TenantExportAdmin(ReadOnlyAdmin):
    list_display = ["id", "tenant", "status", "size_bytes", "created_at", "finished_at", "expires_at"]
    list_select_related = ["tenant"]
    exclude = ["document"]
