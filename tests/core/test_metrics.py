"""/metrics: refused unless the metrics token or an allowed network; counters that move."""

import ipaddress

import pytest
from django.db import transaction
from prometheus_client.parser import text_string_to_metric_families

from audit.services import SYSTEM
from outbox.fanout import fan_out
from outbox.models import DeliveryStatus, WebhookDelivery
from outbox.services import create_subscription, emit
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(api) -> dict:
    """{(name, frozenset(labels)): value} of one scrape with the token."""
    response = api.get("/metrics", token=TOKEN)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.parametrize(
    "headers",
    [
        {},  # nothing presented, from loopback: loopback is not trusted by default
        {"Authorization": "Bearer not-the-token"},
        {"Authorization": f"Basic {TOKEN}"},
    ],
)
def test_metrics_are_refused_without_the_token(api, headers):
    response = api.get("/metrics", **headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "UNAUTHORIZED" and error["requestId"] == response["X-Request-Id"]
    assert b"hub_api_errors" not in response.content


def test_metrics_are_served_with_the_token_from_any_address(api):
    response = api.get("/metrics", token=TOKEN, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 200
    assert b"# TYPE hub_api_errors_total counter" in response.content


def test_metrics_are_served_to_allowed_networks_only(api, settings):
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.20.0.0/16")]
    assert api.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert api.get("/metrics", REMOTE_ADDR="10.21.3.4").status_code == 401
    assert api.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 401


def test_a_refused_token_is_not_compared_against_an_unset_one(api, settings):
    settings.METRICS_TOKEN = ""
    assert api.get("/metrics", **{"Authorization": "Bearer "}).status_code == 401


def test_error_code_counters_move(api):
    before = scrape(api)
    assert api.get("/v1/no-such-route").status_code == 404
    assert api.get("/v1/no-such-route").status_code == 404
    assert api.get("/v1/me").status_code == 401
    api.get("/metrics")  # a refused scrape is an error like any other
    after = scrape(api)
    assert value(after, "hub_api_errors_total", code="NOT_FOUND") - value(before, "hub_api_errors_total", code="NOT_FOUND") == 2
    assert value(after, "hub_api_errors_total", code="UNAUTHORIZED") - value(
        before, "hub_api_errors_total", code="UNAUTHORIZED") == 2


def test_logins_are_counted_by_outcome(api, world):
    before = scrape(api)
    assert api.login(world.tenant, "admin@acme.com", password="wrong password!").status_code == 401
    assert api.login(world.tenant, "ghost@acme.com").status_code == 401
    assert api.login(world.tenant, "admin@acme.com").status_code == 200
    after = scrape(api)
    for outcome in ("wrong_password", "unknown_account", "success"):
        assert value(after, "hub_logins_total", outcome=outcome) - value(before, "hub_logins_total", outcome=outcome) == 1


def test_latency_is_a_histogram_per_route_name_without_tenant_labels(api, world):
    api.get("/v1/users", token=world.admin_token)
    response = api.get("/metrics", token=TOKEN)
    families = {family.name: family for family in text_string_to_metric_families(response.content.decode())}
    latency = families["django_http_requests_latency_seconds_by_view_method"]
    assert latency.type == "histogram"
    assert {sample.labels.get("view") for sample in latency.samples} >= {"users-list", "metrics"}
    labels = {label for family in families.values() for sample in family.samples for label in sample.labels}
    assert not {label for label in labels if "tenant" in label.lower()}, labels
    assert str(world.tenant.pk) not in response.content.decode()


def test_outbox_depth_and_dead_deliveries_come_from_the_database(api, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    tenant = TenantFactory(slug="metered")
    before = scrape(api)
    with transaction.atomic():
        create_subscription(tenant=tenant, url="http://127.0.0.1:9/hooks", event_types=["user.created"], actor=SYSTEM)
    with transaction.atomic():
        for index in range(3):
            emit("user.created", tenant=tenant, data={"userId": f"u-{index}", "invited": False})
    middle = scrape(api)
    assert value(middle, "hub_outbox_events", status="pending") - value(before, "hub_outbox_events", status="pending") == 3
    fan_out()
    WebhookDelivery.objects.filter(event__tenant=tenant).update(status=DeliveryStatus.DEAD)
    after = scrape(api)
    assert value(after, "hub_outbox_events", status="pending") == value(before, "hub_outbox_events", status="pending")
    assert value(after, "hub_webhook_deliveries", status="dead") - value(before, "hub_webhook_deliveries", status="dead") == 3
