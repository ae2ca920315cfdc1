from django.contrib import admin

from audit.models import AuditLog, IdempotencyKey
from config.admin import ReadOnlyAdmin


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "tenant", "actor_type", "action", "entity_type", "entity_id"]
    list_filter = ["actor_type"]
    list_select_related = ["tenant"]
    search_fields = ["action", "entity_id"]
    date_hierarchy = "created_at"


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ["key", "handler", "tenant", "status", "response_status", "created_at"]
    list_select_related = ["tenant"]
    exclude = ["response_body"]
