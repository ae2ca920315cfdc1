"""Reads of usage: totals per action and period, for GET /v1/usage."""

from datetime import datetime, timedelta

from django.db.models import Sum
from django.db.models.functions import Trunc

from usage.models import UsageMetric

__all__ = ["GRANULARITY", "period_end", "usage_totals"]

# Bucket sizes; months vary in length.
GRANULARITY = {"hour": timedelta(hours=1), "day": timedelta(days=1), "month": None}


def period_end(start: datetime, granularity: str) -> datetime:
    if granularity != "month":
        return start + GRANULARITY[granularity]
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def usage_totals(*, tenant, start: datetime, end: datetime, granularity: str,
                 tool_action: str | None = None) -> list[dict]:
    """The tenant's counts in [start, end), summed per tool action and `granularity` bucket, oldest first."""
    rows = UsageMetric.objects.for_tenant(tenant).filter(period_start__gte=start, period_start__lt=end)
    if tool_action:
        rows = rows.filter(tool_action__key=tool_action)
    totals = (
        rows.annotate(period=Trunc("period_start", granularity))
        .values("tool_action__key", "period")
        .annotate(total=Sum("count"))
        .order_by("period", "tool_action__key")
    )
    return [
        {"tool_action": row["tool_action__key"], "period_start": row["period"],
         "period_end": period_end(row["period"], granularity), "count": row["total"]}
        for row in totals
    ]
