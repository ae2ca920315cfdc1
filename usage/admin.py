from django.contrib import admin

from core.admin import LargeTableAdmin
from usage.models import UsageMetric


@admin.register(UsageMetric)
class UsageMetricAdmin(LargeTableAdmin):
    list_display = ["period_start", "tenant", "tool_action", "count"]
    list_filter = ["tenant", "tool_action__tool"]
    list_select_related = ["tenant", "tool_action"]
    date_hierarchy = "period_start"
