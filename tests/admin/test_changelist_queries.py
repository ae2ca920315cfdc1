"""The main changelists cost a fixed number of queries, whatever the page holds, and never count a
large table row by row."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.services import SYSTEM, record
from catalog.models import ToolAction
from core.admin import EstimatedCountPaginator
from identity.services import create_api_key
from outbox.models import DeliveryStatus, OutboxEvent, WebhookDelivery
from outbox.services import create_subscription
from tests.factories import (
    GroupFactory,
    PackageActionFactory,
    PackageFactory,
    TenantFactory,
    ToolActionFactory,
    UserFactory,
)
from usage.models import UsageMetric

pytestmark = pytest.mark.django_db


def tenants(count):
    for _ in range(count):
        UserFactory.create_batch(2, tenant=TenantFactory())


def users(count):
    UserFactory.create_batch(count, tenant=TenantFactory())


def groups(count):
    tenant = TenantFactory()
    GroupFactory.create_batch(count, tenant=tenant)


def api_keys(count):
    tenant = TenantFactory()
    for number in range(count):
        create_api_key(tenant=tenant, name=f"key-{number}", profile="read-only")


def audit_entries(count):
    tenant = TenantFactory()
    actor = UserFactory(tenant=tenant)
    with transaction.atomic():
        for number in range(count):
            record(tenant=tenant, action="users.update", entity_type="user", entity_id=number,
                   actor=SYSTEM if number % 2 else type(SYSTEM)(type="user", user=actor, id=actor.pk))


def outbox_events(count):
    tenant = TenantFactory()
    OutboxEvent.objects.bulk_create(OutboxEvent(tenant=tenant, type="user.created", payload={}) for _ in range(count))


def deliveries(count):
    tenant = TenantFactory()
    subscription = create_subscription(tenant=tenant, url="https://hooks.example.com/in", event_types=["user.created"],
                                       actor=SYSTEM).subscription
    event = OutboxEvent.objects.create(tenant=tenant, type="user.created", payload={})
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(tenant=tenant, event=event, subscription=subscription, status=DeliveryStatus.DEAD)
        for _ in range(count)
    )


def usage(count):
    tenant = TenantFactory()
    actions = list(ToolAction.objects.order_by("key")[:count])
    start = timezone.now().replace(minute=0, second=0, microsecond=0)
    UsageMetric.objects.bulk_create(
        UsageMetric(tenant=tenant, tool_action=action, period_start=start, period_end=start + timedelta(hours=1), count=1)
        for action in actions
    )


def tool_actions(count):
    ToolActionFactory.create_batch(count)


def packages(count):
    for package in PackageFactory.create_batch(count):
        PackageActionFactory(package=package)


# (changelist, rows per call, queries for a page of any size). Four of them are the session, the
# staff member and their two permission sets; the rest are the page, its count, the filters' choices
# and the date hierarchy. A new N+1 shows up as a difference between the small and the large page.
CHANGELISTS = [
    ("/admin/tenancy/tenant/", tenants, 7),
    ("/admin/identity/user/", users, 7),
    ("/admin/identity/group/", groups, 7),
    ("/admin/identity/apikey/", api_keys, 7),
    ("/admin/audit/auditlog/", audit_entries, 10),
    ("/admin/outbox/outboxevent/", outbox_events, 10),
    ("/admin/outbox/webhookdelivery/", deliveries, 10),
    ("/admin/usage/usagemetric/", usage, 11),
    ("/admin/catalog/toolaction/", tool_actions, 7),
    ("/admin/catalog/package/", packages, 6),
]


def queries_for(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize(("url", "make_rows", "budget"), CHANGELISTS, ids=[url for url, *_ in CHANGELISTS])
def test_changelist_queries_do_not_grow_with_the_page(operator_client, url, make_rows, budget):
    make_rows(3)
    queries_for(operator_client, url)  # warm: content types, session
    small = queries_for(operator_client, url)
    make_rows(30)
    large = queries_for(operator_client, url)
    assert len(large) == len(small), "\n".join(large)
    assert len(large) <= budget, "\n".join(large)


@pytest.mark.parametrize("url", ["/admin/audit/auditlog/", "/admin/outbox/webhookdelivery/", "/admin/usage/usagemetric/"])
def test_large_tables_are_not_counted_row_by_row(operator_client, monkeypatch, url):
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 0)  # every table counts as large
    audit_entries(5), deliveries(5), usage(5)
    executed = queries_for(operator_client, url)
    assert not [sql for sql in executed if sql.upper().startswith("SELECT COUNT(")], executed
    assert any(sql.startswith("EXPLAIN (FORMAT JSON)") for sql in executed)


def test_small_result_sets_are_counted_exactly(operator_client):
    audit_entries(7)
    page = operator_client.get("/admin/audit/auditlog/?action=users.update")
    assert page.context["cl"].result_count == 7
