from datetime import timedelta

import pytest
from django.utils import timezone

from identity.services import create_api_key
from usage.models import UsageMetric
from usage.services import buffer, hour_start

pytestmark = pytest.mark.django_db


def usage(api, token, query=""):
    response = api.get(f"/v1/usage?granularity=hour{query}", token=token)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def test_hub_routes_are_metered_per_action_and_tenant(api, world):
    for _ in range(7):
        api.get("/v1/users", token=world.admin_token)
    for _ in range(3):
        api.get("/v1/groups", token=world.admin_token)
    api.get("/v1/users", token=world.nobody_token)  # refused: not counted
    other_key = create_api_key(tenant=world.other, name="other-reader", profile="read-only").key
    api.get("/v1/users", token=other_key)
    assert UsageMetric.objects.count() == 0  # buffered, not written per request
    assert buffer.flush() == 11
    rows = usage(api, world.admin_token)
    totals = {row["toolAction"]: row["count"] for row in rows}
    assert totals == {"users.read": 7, "groups.read": 3}
    assert rows[0]["periodStart"] == hour_start(timezone.now()).isoformat().replace("+00:00", "Z")
    other_admin = create_api_key(tenant=world.other, name="other-admin", profile="admin").key
    assert {row["toolAction"]: row["count"] for row in usage(api, other_admin)} == {"users.read": 1}


def test_flushes_add_up_in_one_bucket(world):
    for _ in range(3):
        buffer.count(world.tenant.pk, "users.read")
    buffer.flush()
    for _ in range(2):
        buffer.count(world.tenant.pk, "users.read")
    buffer.flush()
    (metric,) = UsageMetric.objects.filter(tenant=world.tenant)
    assert metric.count == 5 and metric.period_end - metric.period_start == timedelta(hours=1)


def test_products_report_usage_idempotently(api, world):
    reporter = create_api_key(tenant=world.tenant, name="erp", scopes=["usage.report"]).key
    body = {"toolAction": "erp.sales.create", "count": 40, "eventId": "evt-1"}
    first = api.post("/v1/usage/events", body, token=reporter)
    assert first.status_code == 201 and first.json()["data"]["duplicate"] is False
    again = api.post("/v1/usage/events", body, token=reporter)
    assert again.status_code == 200 and again.json()["data"]["duplicate"] is True
    api.post("/v1/usage/events", {"toolAction": "erp.sales.create", "count": 2}, token=reporter)
    earlier = (timezone.now() - timedelta(days=2)).isoformat()
    api.post("/v1/usage/events", {"toolAction": "erp.sales.create", "count": 5, "occurredAt": earlier}, token=reporter)
    buffer.flush()
    rows = usage(api, world.admin_token, "&toolAction=erp.sales.create")
    assert [row["count"] for row in rows] == [5, 42]
    daily = api.get("/v1/usage?granularity=day&toolAction=erp.sales.create", token=world.admin_token).json()["data"]
    assert sum(row["count"] for row in daily) == 47


@pytest.mark.parametrize(
    "body, field, status",
    # 400: against the schema; 422: a rule about the tenant or time the schema cannot state.
    [({"toolAction": "hotelbot.messages.send"}, "toolAction", 422),
     ({"toolAction": "erp.sales.read", "count": 0}, "count", 400),
     ({"toolAction": "erp.sales.read", "count": 10_000_000}, "count", 400),
     ({"toolAction": "erp.sales.read", "occurredAt": "2099-01-01T00:00:00Z"}, "occurredAt", 422),
     ({"toolAction": "erp.sales.read", "occurredAt": "2020-01-01T00:00:00Z"}, "occurredAt", 422)],
)
def test_bad_reports_are_refused(api, world, body, field, status):
    reporter = create_api_key(tenant=world.tenant, name="erp", scopes=["usage.report"]).key
    response = api.post("/v1/usage/events", body, token=reporter)
    assert response.status_code == status and field in response.json()["error"]["details"]
    assert not UsageMetric.objects.exists()


def test_usage_query_validation_and_month_buckets(api, world):
    assert api.get("/v1/usage?granularity=week", token=world.admin_token).status_code == 400
    assert api.get("/v1/usage?granularity=hour&from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z",
                   token=world.admin_token).status_code == 422
    # An inverted window holds nothing, as Stripe's created[gte] > created[lte] lists nothing.
    inverted = api.get("/v1/usage?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", token=world.admin_token)
    assert inverted.status_code == 200 and inverted.json()["data"] == []
    buffer.count(world.tenant.pk, "users.read", at=timezone.now().replace(day=1, hour=1))
    buffer.flush()
    (row,) = api.get("/v1/usage?granularity=month&toolAction=users.read", token=world.admin_token).json()["data"]
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    assert row["periodStart"].startswith(start.strftime("%Y-%m-01T00:00:00"))
    assert row["periodEnd"] > row["periodStart"] and row["count"] == 1


@pytest.mark.django_db(transaction=True)
def test_the_background_flusher_writes_buffered_counts(settings):
    import time

    from tests.factories import TenantFactory

    tenant = TenantFactory()
    from catalog.models import AccessLevel, Tool, ToolAction

    tool = Tool.objects.create(key="metered", name="Metered", is_core=True)
    ToolAction.objects.create(tool=tool, key="metered.things.read", name="x", access_level=AccessLevel.READ)
    settings.USAGE_FLUSH_SECONDS = 0.2
    try:
        for _ in range(3):
            buffer.count(tenant.pk, "metered.things.read")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not UsageMetric.objects.filter(tenant=tenant).exists():
            time.sleep(0.1)
        assert UsageMetric.objects.get(tenant=tenant).count == 3
    finally:
        settings.USAGE_FLUSH_SECONDS = 0
        time.sleep(0.3)  # let the flusher notice and stop before the database is flushed


def batch(api, token, *events):
    return api.post("/v1/usage/events/batch", {"events": list(events)}, token=token)


def test_a_batch_is_counted_in_order_with_duplicates_marked(api, world):
    reporter = create_api_key(tenant=world.tenant, name="erp", scopes=["usage.report"]).key
    earlier = (timezone.now() - timedelta(days=2)).replace(microsecond=0)
    assert api.post("/v1/usage/events", {"toolAction": "erp.sales.read", "eventId": "seen"}, token=reporter).status_code == 201
    response = batch(api, reporter,
                     {"toolAction": "erp.sales.create", "count": 40, "eventId": "b-1"},
                     {"toolAction": "erp.sales.read", "eventId": "seen"},
                     {"toolAction": "erp.sales.create", "count": 3, "eventId": "b-1"},
                     {"toolAction": "erp.sales.create", "count": 5, "occurredAt": earlier.isoformat()},
                     {"toolAction": "erp.sales.create"})
    assert response.status_code == 200, response.content
    results = response.json()["data"]["results"]
    assert [(row["toolAction"], row["count"], row["duplicate"]) for row in results] == [
        ("erp.sales.create", 40, False), ("erp.sales.read", 1, True), ("erp.sales.create", 3, True),
        ("erp.sales.create", 5, False), ("erp.sales.create", 1, False)]
    assert results[3]["occurredAt"] == earlier.isoformat().replace("+00:00", "Z")
    again = batch(api, reporter, {"toolAction": "erp.sales.create", "count": 40, "eventId": "b-1"})
    assert again.json()["data"]["results"][0]["duplicate"] is True
    rows = usage(api, world.admin_token, "&toolAction=erp.sales.create")
    assert [row["count"] for row in rows] == [5, 41]
    assert sum(row["count"] for row in usage(api, world.admin_token, "&toolAction=erp.sales.read")) == 1


@pytest.mark.parametrize(
    "events, status, details",
    # A list of objects says what is wrong with the list as DRF does, under nonFieldErrors.
    [([], 400, {"events": {"nonFieldErrors": ["Ensure this field has at least 1 elements."]}}),
     ([{"toolAction": "erp.sales.read"}] * 101, 400,
      {"events": {"nonFieldErrors": ["Ensure this field has no more than 100 elements."]}}),
     ([{"toolAction": "erp.sales.read"}, {"toolAction": "erp.sales.read", "cost": 3}], 400,
      {"events": {"1": {"cost": ["Unknown field."]}}}),
     ([{"toolAction": "erp.sales.read"}, {"toolAction": "erp.sales.read", "count": "2"}], 400,
      {"events": {"1": {"count": ["Must be an integer."]}}}),
     ([{"toolAction": "erp.sales.read", "eventId": "x"}, {"toolAction": "hotelbot.messages.send"},
       {"toolAction": "erp.sales.read", "occurredAt": "2020-01-01T00:00:00Z"}], 422,
      {"events": {"1": {"toolAction": ['"hotelbot.messages.send" is not available to this tenant.']},
                  "2": {"occurredAt": ["Older than 7 days: that period is closed."]}}})],
    ids=["empty", "over 100", "unknown field", "mistyped", "unavailable and closed"],
)
def test_a_batch_is_refused_whole(api, world, events, status, details):
    from audit.models import IdempotencyKey

    reporter = create_api_key(tenant=world.tenant, name="erp", scopes=["usage.report"]).key
    response = batch(api, reporter, *events)
    assert response.status_code == status, response.content
    assert response.json()["error"]["details"] == details
    assert not UsageMetric.objects.exists() and not IdempotencyKey.objects.filter(handler="usage.report").exists()
    assert api.post("/v1/usage/events/batch", {"events": [{"toolAction": "erp.sales.read"}], "tenantId": "x"},
                    token=reporter).status_code == 400


def test_a_batch_needs_usage_report(api, world):
    reader = create_api_key(tenant=world.tenant, name="reader", profile="read-only").key
    response = batch(api, reader, {"toolAction": "erp.sales.read"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "FORBIDDEN_ACTION"


def test_a_product_reports_its_own_tools_actions_only(api, world):
    from audit.services import SYSTEM
    from catalog.models import Tool
    from identity.product_credentials import issue_product_credential

    product = issue_product_credential(tool=Tool.objects.get(key="erp"), name="erp-backend", actor=SYSTEM).secret
    tenant = {"X-Tenant-Id": str(world.tenant.pk)}
    single = api.post("/v1/usage/events", {"toolAction": "erp.sales.create", "count": 2, "eventId": "p-1"},
                      token=product, **tenant)
    assert single.status_code == 201, single.content
    many = api.post("/v1/usage/events/batch", {"events": [{"toolAction": "erp.sales.create", "eventId": "p-1"},
                                                          {"toolAction": "erp.vehicles.read", "count": 3}]},
                    token=product, **tenant)
    assert [row["duplicate"] for row in many.json()["data"]["results"]] == [True, False]
    for action in ("users.read", "gestor.apps.read"):
        refused = [api.post("/v1/usage/events", {"toolAction": action}, token=product, **tenant),
                   api.post("/v1/usage/events/batch", {"events": [{"toolAction": "erp.sales.read"},
                                                                  {"toolAction": action}]}, token=product, **tenant)]
        for response in refused:
            assert response.status_code == 403, response.content
            error = response.json()["error"]
            assert (error["code"], error["details"]) == ("FORBIDDEN_ACTION", {"toolAction": action})
    totals = {row["toolAction"]: row["count"] for row in usage(api, world.admin_token)}
    assert totals["erp.sales.create"] == 2 and totals["erp.vehicles.read"] == 3 and "erp.sales.read" not in totals
