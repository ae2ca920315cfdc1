"""Usage of tool actions per tenant, counted in time buckets."""

from django.db import models

from catalog.models import ToolAction
from core.db.naming import index, unique
from tenancy.models import TenantScopedModel

__all__ = ["UsageMetric"]


class UsageMetric(TenantScopedModel):
    tool_action = models.ForeignKey(ToolAction, on_delete=models.PROTECT, related_name="+", db_index=False)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    count = models.BigIntegerField(default=0)

    class Meta:
        db_table = "usage_metric"
        constraints = [unique("usage_metric", "tenant_id", "tool_action_id", "period_start")]
        indexes = [index("usage_metric", "tenant_id", "period_start")]
