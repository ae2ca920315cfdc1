"""GET /v1/audit-logs: the tenant's trail, newest first."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers

from audit.models import ActorType, AuditLog
from core.api.filters import ListFilterSet
from core.api.viewsets import ListMixin, TenantScopedViewSet
from core.db.routers import replica_reads


class AuditLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditLog
        fields = ["id", "sequence", "actor_type", "actor_id", "action", "entity_type", "entity_id", "metadata",
                  "ip", "user_agent", "created_at", "hash"]
        read_only_fields = fields


class AuditLogFilter(ListFilterSet):
    # `q`: the action, the entity's type or id (case-insensitive substring, within the tenant's trail).
    search_fields = ("action", "entity_type", "entity_id")

    actor = django_filters.UUIDFilter(field_name="actor_id")
    actorType = django_filters.ChoiceFilter(field_name="actor_type", choices=ActorType.choices)
    action = django_filters.CharFilter(field_name="action")
    entityType = django_filters.CharFilter(field_name="entity_type")
    entityId = django_filters.CharFilter(field_name="entity_id")

    class Meta:
        model = AuditLog
        fields = []


@extend_schema(tags=["audit"])
class AuditLogViewSet(ListMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Read-only by design: the trail is appended by the services, never edited through the API."""

    queryset = AuditLog.objects.all()
    serializer_class = AuditLogSerializer
    filterset_class = AuditLogFilter
    tool_action = {"list": "audit_logs.read", "retrieve": "audit_logs.read"}

    @replica_reads()
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
