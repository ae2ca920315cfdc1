"""Staff read the dashboard's charts in Chromium: usage for everyone then for one tenant, delivery
health, tenants by status."""

from datetime import timedelta

import pytest

from catalog.models import ToolAction
from core.db.models import Status
from operations.selectors import utc_days
from tests.admin.browser.conftest import shot, sign_in
from tests.admin.conftest import STAFF_PASSWORD
from tests.admin.test_dashboard_charts import at, attempt, change_status, use
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)


def a_month_of_traffic():
    days = utc_days(30)
    acme = TenantFactory(slug="acme", name="Acme Fleet", created_at=at(days[0]) - timedelta(days=40))
    globex = TenantFactory(slug="globex", name="Globex", created_at=at(days[10]))
    erp, gestor = ToolAction.objects.get(key="erp.vehicles.read"), ToolAction.objects.get(key="gestor.apps.read")
    for number, day in enumerate(days):
        use(acme, erp, at(day, 9), 100 + 5 * number)
        if day >= days[10]:
            use(globex, gestor, at(day, 10), 40 + number)
        if number % 3 == 0:
            attempt(acme, at(day, 11), 200 if number % 2 else 503, 80 + 10 * number)
            attempt(acme, at(day, 12), 200, 120 + 20 * number)
    change_status(acme, Status.SUSPENDED, at(days[20]))
    change_status(acme, Status.ACTIVE, at(days[24]))
    return days


def legend(page, chart) -> list[str]:
    return page.locator(f"{chart} svg g.chart-legend text").all_text_contents()


def tooltips(page, chart) -> list[str]:
    return page.locator(f"{chart} svg rect title, {chart} svg circle title").all_text_contents()


def test_staff_read_usage_pick_a_tenant_and_see_delivery_health(page, operator):
    days = a_month_of_traffic()
    sign_in(page, "operator@aza8.com", STAFF_PASSWORD)
    page.wait_for_selector("#dashboard-charts")

    usage = "#dashboard-usage"
    assert page.locator(f"{usage} svg[role=img]").count() == 1
    assert "All tenants: calls per product" in page.inner_text(f"{usage} figcaption")
    assert legend(page, usage) == ["erp", "gestor"]
    assert f"{days[0]} · erp: 100" in tooltips(page, usage)
    assert f"{days[29]} · gestor: 69" in tooltips(page, usage)
    shot(page, "dashboard-01-usage-all-tenants")

    page.select_option("#dashboard-tenant", "globex")
    page.click("#dashboard-usage-tenant input[type=submit]")
    page.wait_for_url("**/admin/?tenant=globex")
    assert "Globex (globex): calls per product" in page.inner_text(f"{usage} figcaption")
    assert legend(page, usage) == ["gestor"]
    assert not [tip for tip in tooltips(page, usage) if "erp" in tip]
    shot(page, "dashboard-02-usage-one-tenant")

    page.locator("#dashboard-delivery-success").scroll_into_view_if_needed()
    assert legend(page, "#dashboard-delivery-success") == ["2xx answers"]
    assert f"{days[0]} · 2xx answers: 50%" in tooltips(page, "#dashboard-delivery-success")
    assert f"{days[3]} · 2xx answers: 100%" in tooltips(page, "#dashboard-delivery-success")
    assert legend(page, "#dashboard-delivery-latency") == ["p50", "p95"]
    assert f"{days[27]} · p50: 505 ms" in tooltips(page, "#dashboard-delivery-latency")
    shot(page, "dashboard-03-delivery-health")

    history = "#dashboard-tenants-history"
    page.locator(history).scroll_into_view_if_needed()
    assert legend(page, history) == ["active", "suspended"]
    assert f"{days[22]} · suspended: 1" in tooltips(page, history)
    shot(page, "dashboard-04-tenants-by-status")
