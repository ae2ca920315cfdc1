"""The dashboard's pictures: the selectors' series (operations/selectors.py) drawn by core/charts.py.

Every period is made of whole UTC days, the zone the hub stores its periods in, and says so.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils.safestring import SafeString

from core.charts import bar_chart, line_chart
from core.db.routers import replica_reads
from operations.selectors import delivery_health, tenant_choices, tenants_by_status_history, usage_by_tool, utc_days

__all__ = ["Chart", "DashboardCharts", "dashboard_charts"]

USAGE_DAYS = 30
DELIVERY_DAYS = 30
TENANT_HISTORY_DAYS = 90


@dataclass(frozen=True)
class Chart:
    """A chart and its caption: the SVG's own title is heard by a screen reader, the caption is read."""

    title: str
    svg: SafeString

    @classmethod
    def drawn(cls, draw, *, title: str, **options) -> "Chart":
        return cls(title=title, svg=draw(title=title, **options))


@dataclass(frozen=True)
class DashboardCharts:
    tenants: list[tuple]  # (id, slug, name) for the usage chart's tenant selector
    tenant_slug: str  # the tenant whose usage is shown, "" for all of them
    unknown_tenant: str  # a slug asked for that names no tenant
    usage: Chart
    success_rate: Chart
    latency: Chart
    tenants_by_status: Chart


@replica_reads()
def dashboard_charts(*, tenant_slug: str = "", now: datetime | None = None) -> DashboardCharts:
    """The dashboard's four charts in four queries (three and the tenant list), on the replica when
    there is one: a minute's lag changes nothing in a month of days."""
    tenants = tenant_choices()
    chosen = next((tenant for tenant in tenants if tenant[1] == tenant_slug), None)
    usage_days, delivery_days = utc_days(USAGE_DAYS, now), utc_days(DELIVERY_DAYS, now)
    whose = f"{chosen[2]} ({chosen[1]})" if chosen else "All tenants"
    health = delivery_health(delivery_days)
    return DashboardCharts(
        tenants=tenants,
        tenant_slug=chosen[1] if chosen else "",
        unknown_tenant="" if chosen or not tenant_slug else tenant_slug,
        usage=Chart.drawn(bar_chart, title=f"{whose}: calls per product and UTC day, last {USAGE_DAYS} days",
                          series=usage_by_tool(usage_days, tenant_id=chosen[0] if chosen else None)),
        success_rate=Chart.drawn(
            line_chart, title=f"Webhook attempts answered with a 2xx, per UTC day, last {DELIVERY_DAYS} days",
            series=health.success_rate, unit="%", y_max=100),
        latency=Chart.drawn(
            line_chart, title=f"Webhook attempt latency (p50, p95) per UTC day, last {DELIVERY_DAYS} days",
            series=health.latency, unit="ms"),
        tenants_by_status=Chart.drawn(
            bar_chart, title=f"Tenants by status at the end of each UTC day, last {TENANT_HISTORY_DAYS} days",
            series=tenants_by_status_history(utc_days(TENANT_HISTORY_DAYS, now))),
    )
