from django.contrib import admin

from audit.models import AuditLog, IdempotencyKey
from audit.registry import AUDIT_ACTIONS
from core.admin import LargeTableAdmin, ReadOnlyAdmin


class ActionFilter(admin.SimpleListFilter):
    """Choices from the registry, not a DISTINCT over millions of audit rows."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [(action, action) for action in sorted(AUDIT_ACTIONS)]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditLog)
class AuditLogAdmin(LargeTableAdmin):
    list_display = ["created_at", "tenant", "actor_type", "actor_user", "action", "entity_type", "entity_id"]
    list_filter = ["actor_type", ActionFilter, "tenant"]
    list_select_related = ["tenant", "actor_user"]
    search_fields = ["=entity_id"]
    date_hierarchy = "created_at"


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ["key", "handler", "principal", "tenant", "status", "response_status", "created_at"]
    list_select_related = ["tenant"]
    exclude = ["response_encrypted", "claim_token"]
