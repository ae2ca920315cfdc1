from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from audit.models import AuditLog, IdempotencyKey
from audit.registry import AUDIT_ACTIONS
from core.admin import LargeTableAdmin, ReadOnlyAdmin, truncated


class ActionFilter(admin.SimpleListFilter):
    """Choices from the registry, not a DISTINCT over millions of audit rows."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [(action, action) for action in sorted(AUDIT_ACTIONS)]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


def people_matching(text: str):
    """The ids of users (of every tenant) whose e-mail or name holds `text`, as a subquery: the audit
    names its actors by id only, so a person is looked up where their e-mail lives."""
    people = AuditLog.actor_user.field.related_model.objects
    return people.filter(Q(email__icontains=text) | Q(name__icontains=text)).values("pk")


@admin.register(AuditLog)
class AuditLogAdmin(LargeTableAdmin):
    # Who and what each fit one column (type under the e-mail, type before the id), so the list fits 1366 px.
    list_display = ["created_at", "tenant", "actor", "dotted_action", "entity"]
    list_filter = ["actor_type", ActionFilter, "tenant"]
    list_select_related = ["tenant", "actor_user"]
    search_fields = ["=entity_id"]
    search_help_text = "An entity id (exact), or a person's e-mail or name (or part of it): what they did, in any tenant."
    date_hierarchy = "created_at"

    def get_search_results(self, request, queryset, search_term):
        by_entity, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        text = search_term.strip()
        if not text:
            return by_entity, may_have_duplicates
        return by_entity | queryset.filter(actor_user__in=people_matching(text)), may_have_duplicates

    @admin.display(description="actor", ordering="actor_type")
    def actor(self, entry):
        if entry.actor_user is not None:
            return format_html("{}<br><small>{}</small>", entry.actor_user.email, entry.get_actor_type_display())
        if entry.actor_id:
            return format_html("{}<br><small>{}</small>", entry.get_actor_type_display(), truncated(entry.actor_id))
        return entry.get_actor_type_display()

    @admin.display(description="action", ordering="action")
    def dotted_action(self, entry):
        # A narrow column breaks "groups.members.add" after a dot rather than inside a word.
        return format_html_join(mark_safe(".<wbr>"), "{}", ((part,) for part in entry.action.split(".")))

    @admin.display(description="entity", ordering="entity_type")
    def entity(self, entry):
        return format_html("{} {}", entry.entity_type, truncated(entry.entity_id))


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ["key", "handler", "principal", "tenant", "status", "response_status", "created_at"]
    list_select_related = ["tenant"]
    exclude = ["response_encrypted", "claim_token"]
