"""The dashboard's charts: each series right for known data, the usage chart's tenant selector, and a
fixed number of queries for the whole page however many tenants, days and rows there are."""

import math
from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from audit.models import AuditLog
from audit.services import SYSTEM
from catalog.models import ToolAction
from core.db.models import Status
from operations.selectors import (
    OTHER_TOOLS,
    delivery_health,
    tenants_by_status_history,
    usage_by_tool,
    utc_days,
)
from outbox.models import EventStatus, OutboxEvent, WebhookDelivery, WebhookDeliveryAttempt
from outbox.services import create_subscription
from tenancy.models import Tenant
from tenancy.services import set_tenant_status
from tests.admin.test_changelist_queries import queries_for
from tests.factories import TenantFactory, ToolActionFactory, ToolFactory
from usage.models import UsageMetric

pytestmark = pytest.mark.django_db


def at(day, hour=12, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def points(series) -> dict[str, list[float]]:
    return {one.label: [value for _, value in one.points] for one in series}


def use(tenant, action, when, count):
    UsageMetric.objects.create(tenant=tenant, tool_action=action, period_start=when,
                               period_end=when + timedelta(hours=1), count=count)


def attempt(tenant, when, status, latency_ms):
    subscription = create_subscription(tenant=tenant, url="https://hooks.example.com/in",
                                       event_types=["user.created"], actor=SYSTEM).subscription
    event = OutboxEvent.objects.create(tenant=tenant, type="user.created", payload={}, status=EventStatus.DONE)
    delivery = WebhookDelivery.objects.create(tenant=tenant, event=event, subscription=subscription)
    WebhookDeliveryAttempt.objects.create(tenant=tenant, delivery=delivery, number=1, started_at=when,
                                          response_status=status, latency_ms=latency_ms)


def change_status(tenant, status, when):
    set_tenant_status(tenant=tenant, status=status, reason="unpaid" if status == Status.SUSPENDED else "",
                      actor=SYSTEM)
    entry = AuditLog.objects.filter(tenant=tenant, action="tenants.status.update").order_by("-sequence")[0]
    # Written now, dated when it happened: the audit's timestamp is the history the chart reads.
    AuditLog.objects.filter(pk=entry.pk).update(created_at=when)


# --- Usage --------------------------------------------------------------------------------------------


def test_usage_adds_up_each_products_calls_per_utc_day():
    days = utc_days(3)
    fleet, books = ToolFactory(key="fleet"), ToolFactory(key="books")
    fleet_read, fleet_write = ToolActionFactory(tool=fleet), ToolActionFactory(tool=fleet)
    books_read = ToolActionFactory(tool=books)
    acme, globex = TenantFactory(), TenantFactory()
    use(acme, fleet_read, at(days[0], 0), 10)
    use(acme, fleet_write, at(days[0], 23), 5)  # the same UTC day, another hour and action
    use(globex, fleet_read, at(days[0], 9), 1)
    use(globex, books_read, at(days[2], 3), 4)
    use(acme, fleet_read, at(days[0], 23) - timedelta(days=1), 1000)  # the day before the period
    assert points(usage_by_tool(days)) == {"fleet": [16, 0, 0], "books": [0, 0, 4]}
    assert [day for day, _ in usage_by_tool(days)[0].points] == days
    assert points(usage_by_tool(days, tenant_id=acme.pk)) == {"fleet": [15, 0, 0]}
    assert usage_by_tool(days, tenant_id=TenantFactory().pk) == []


def test_usage_beyond_the_busiest_six_products_is_one_series():
    days = utc_days(1)
    tenant = TenantFactory()
    for calls in range(1, 9):
        use(tenant, ToolActionFactory(tool=ToolFactory(key=f"tool{calls}")), at(days[0], 0), calls)
    assert points(usage_by_tool(days)) == {"tool8": [8], "tool7": [7], "tool6": [6], "tool5": [5], "tool4": [4],
                                           "tool3": [3], OTHER_TOOLS: [1 + 2]}


# --- Delivery health ----------------------------------------------------------------------------------


def test_delivery_health_is_the_share_of_2xx_and_latency_percentiles_per_day():
    days = utc_days(3)
    tenant = TenantFactory()
    for status, latency in [(200, 10), (204, 20), (500, 40), (None, 100)]:
        attempt(tenant, at(days[0], 1), status, latency)
    attempt(tenant, at(days[2], 0, 1), 200, 5)
    attempt(tenant, at(days[0]) - timedelta(days=1), 500, 9000)  # before the period
    health = delivery_health(days)
    # No attempt on the middle day: no value, so the lines break there.
    assert [(one.label, known(one)) for one in health.success_rate] == [("2xx answers", [50.0, None, 100.0])]
    # percentile_cont interpolates: the median of 10, 20, 40, 100 is 30, their 95th percentile 91.
    assert [(one.label, known(one)) for one in health.latency] == [("p50", [30, None, 5]), ("p95", [91, None, 5])]
    assert [day for day, _ in health.latency[0].points] == days


def known(series) -> list[float | None]:
    return [None if math.isnan(value) else value for _, value in series.points]


# --- Tenants by status --------------------------------------------------------------------------------


def test_tenants_by_status_is_walked_back_from_today_through_the_audited_changes():
    days = utc_days(5)
    already = Tenant.objects.count()  # made today, active
    long_ago = at(days[0]) - timedelta(days=10)
    back_and_forth = TenantFactory(created_at=long_ago)
    change_status(back_and_forth, Status.SUSPENDED, at(days[1]))
    change_status(back_and_forth, Status.ACTIVE, at(days[3]))
    TenantFactory(created_at=at(days[2]))  # new, active since
    now_suspended = TenantFactory(created_at=long_ago)
    change_status(now_suspended, Status.SUSPENDED, at(days[3]))
    suspended_before_the_period = TenantFactory(created_at=long_ago)
    change_status(suspended_before_the_period, Status.SUSPENDED, long_ago)
    same_day = TenantFactory(created_at=long_ago)  # suspended in the morning, back by the evening
    change_status(same_day, Status.SUSPENDED, at(days[2], 8))
    change_status(same_day, Status.ACTIVE, at(days[2], 17))
    TenantFactory(created_at=at(days[4]) + timedelta(days=1))  # not there yet in this period

    history = tenants_by_status_history(days)
    assert [day for day, _ in history[0].points] == days
    assert points(history) == {
        Status.ACTIVE: [3, 2, 3, 3, 3 + already],
        Status.SUSPENDED: [1, 2, 2, 2, 2],
    }


# --- The page -----------------------------------------------------------------------------------------


def many_tenants_and_days(count):
    """`count` tenants, each with usage, delivery attempts and a status change on each of several days."""
    actions = list(ToolAction.objects.order_by("key")[:3])
    for day in utc_days(4):
        for _ in range(count):
            tenant = TenantFactory(created_at=at(day, 1))
            for action in actions:
                use(tenant, action, at(day, 2), 3)
            attempt(tenant, at(day, 3), 200, 12)
            change_status(tenant, Status.SUSPENDED, at(day, 4))


@pytest.mark.parametrize("url", ["/admin/", "/admin/?tenant=tenant-0"])
def test_the_dashboard_costs_the_same_few_queries_however_much_there_is(operator_client, url):
    many_tenants_and_days(1)
    queries_for(operator_client, url)  # warm: content types, session
    small = queries_for(operator_client, url)
    many_tenants_and_days(5)
    large = queries_for(operator_client, url)
    assert len(large) == len(small), "\n".join(large)
    # The session, the staff member, their two permission sets and their recent actions (5), the
    # panel's (4), the charts' (3: usage, delivery attempts, tenants by status) and the tenant list (1).
    assert len(large) <= 13, "\n".join(large)


def test_the_dashboard_draws_every_chart(operator_client):
    tenant = TenantFactory(slug="acme", name="Acme <Fleet>")
    use(tenant, ToolAction.objects.get(key="erp.vehicles.read"), timezone.now(), 120)
    attempt(tenant, timezone.now(), 200, 40)
    page = operator_client.get("/admin/").content.decode()
    today = timezone.now().astimezone(UTC).date().isoformat()
    assert "Platform at a glance" in page  # the panel stays
    assert page.count('role="img"') == 4
    assert f"<title>{today} · erp: 120</title>" in page
    assert f"<title>{today} · 2xx answers: 100%</title>" in page
    assert f"<title>{today} · p95: 40 ms</title>" in page
    assert "All tenants: calls per product and UTC day, last 30 days" in page
    assert "Tenants by status at the end of each UTC day, last 90 days" in page
    assert '<option value="acme">Acme &lt;Fleet&gt; (acme)</option>' in page


def test_the_tenant_selector_shows_one_tenants_usage(operator_client):
    acme, globex = TenantFactory(slug="acme", name="Acme"), TenantFactory(slug="globex", name="Globex")
    use(acme, ToolAction.objects.get(key="erp.vehicles.read"), timezone.now(), 120)
    use(globex, ToolAction.objects.get(key="gestor.apps.read"), timezone.now(), 7)
    everyone = operator_client.get("/admin/").context["charts"].usage.svg
    assert "· erp: 120</title>" in everyone and "· gestor: 7</title>" in everyone
    one = operator_client.get("/admin/?tenant=globex")
    assert one.context["charts"].tenant_slug == "globex"
    assert '<option value="globex" selected>' in one.content.decode()
    assert "Globex (globex): calls per product" in one.context["charts"].usage.title
    assert "· gestor: 7</title>" in one.context["charts"].usage.svg
    assert "erp" not in one.context["charts"].usage.svg


def test_an_unknown_tenant_shows_everyones_usage_and_says_so(operator_client):
    page = operator_client.get("/admin/?tenant=<nobody>")
    assert page.context["charts"].tenant_slug == ""
    assert "No tenant “&lt;nobody&gt;”: showing all tenants." in page.content.decode()
    assert page.context["charts"].usage.title.startswith("All tenants")

