"""A tenant at a glance: the tenant's admin page shows everything it holds, by name and linked, never
a secret, in a fixed number of queries whatever the tenant's size."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.services import SYSTEM, Actor
from branding.services import replace_branding, replace_config
from catalog.models import Package, ToolAction
from identity.api_keys import split_key
from identity.services import add_member, create_api_key
from integrations.models import IntegrationCredential
from integrations.services import create_credential
from operations.tenant_glance import LIST_LIMIT, tenant_at_a_glance
from outbox.models import DeliveryStatus, EventStatus, OutboxEvent, WebhookDelivery
from outbox.services import create_subscription
from tests.factories import (
    GroupFactory,
    GroupPermissionFactory,
    TenantFactory,
    TenantPackageFactory,
    UserFactory,
)
from usage.models import UsageMetric

pytestmark = pytest.mark.django_db

CREDENTIAL_VALUE = "sk_live_do-not-show-me"


def populate(tenant, size: int) -> dict:
    """`size` users, groups (each user in each group, with two grants each), API keys, subscriptions
    (with deliveries) and credentials; branding, config, usage and audit entries. Returns the secrets."""
    TenantPackageFactory(tenant=tenant, package=Package.objects.get(key="erp-basic"))
    users = [UserFactory(tenant=tenant, email=f"person{n}@{tenant.slug}.com", name=f"Person {n}") for n in range(size)]
    actions = list(ToolAction.objects.order_by("key")[:2])
    secrets = []
    for n in range(size):
        group = GroupFactory(tenant=tenant, name=f"Team {n}")
        for action in actions:
            GroupPermissionFactory(group=group, tool_action=action)
        for user in users:
            add_member(group=group, user=user, actor=SYSTEM)
        secrets.append(create_api_key(tenant=tenant, name=f"key {n}", profile="read-only").key)
        subscription = create_subscription(tenant=tenant, url=f"https://hooks.example.com/{tenant.slug}/{n}",
                                           event_types=["user.created"], actor=SYSTEM)
        secrets.append(subscription.secret)
        event = OutboxEvent.objects.create(tenant=tenant, type="user.created", payload={}, status=EventStatus.DONE)
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(tenant=tenant, event=event, subscription=subscription.subscription, status=status)
            for status in [DeliveryStatus.SUCCEEDED] * 3 + [DeliveryStatus.DEAD])
        create_credential(tenant=tenant, provider="stripe", name=f"billing {n}", data={"apiKey": CREDENTIAL_VALUE},
                          actor=SYSTEM)
    replace_branding(tenant=tenant, logo_url="https://cdn.example.com/logo.png", primary_color="#112233",
                     secondary_color="#abcdef", domain=None, actor=SYSTEM)
    replace_config(tenant=tenant, flags={"betaReports": True, "legacyExport": False}, limits={"maxUsers": 25},
                   actor=SYSTEM)
    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    UsageMetric.objects.bulk_create(
        UsageMetric(tenant=tenant, tool_action=action, period_start=today - timedelta(days=days),
                    period_end=today - timedelta(days=days) + timedelta(hours=1), count=10 + days)
        for days in range(3) for action in actions)
    return {"users": users, "secrets": secrets}


@pytest.fixture
def acme(seeded):
    tenant = TenantFactory(slug="acme", name="Acme Ltda")
    return tenant, populate(tenant, 3)


def test_the_tenant_page_shows_each_section_by_name_and_linked(operator_client, acme):
    tenant, made = acme
    response = operator_client.get(f"/admin/tenancy/tenant/{tenant.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200 and 'id="tenant-glance"' in html

    person = made["users"][0]
    assert f'<a href="/admin/identity/user/{person.pk}/change/">person0@acme.com</a>' in html
    team = tenant_at_a_glance(tenant).groups.rows[0]
    assert f'<a href="/admin/identity/group/{team.pk}/change/">Team 0</a>' in html
    assert "2 tool actions" in html and ToolAction.objects.order_by("key")[0].key in html
    assert "75% (3 of 4)" in html  # each subscription's deliveries of the last week
    assert re.search(r'class="swatch" style="background: #112233"', html)
    assert re.search(r"Flag betaReports</th><td><span class=\"on\">on", html)
    assert re.search(r"Flag legacyExport</th><td><span class=\"off\">off", html)
    assert "Limit maxUsers</th><td>25" in html
    assert '<svg' in html and 'role="img"' in html  # the usage chart
    assert "integrations.create" in html and "billing 0" in html  # audit entries name what they are about
    assert "branding of acme" in html and "configuration of acme" in html
    assert re.search(rf'group <a href="/admin/identity/group/[^"]+">Team 2</a>: '
                     rf'<a href="/admin/identity/user/{made["users"][2].pk}/change/">person2@acme.com</a>', html)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC", html)
    assert "ERP" in html and "/admin/catalog/package/" in html


def test_the_tenant_page_shows_no_secret_nor_ciphertext(operator_client, acme):
    tenant, made = acme
    html = operator_client.get(f"/admin/tenancy/tenant/{tenant.pk}/change/").content.decode()
    for secret in made["secrets"]:
        assert secret not in html
        # Nor an API key's secret part (after its prefix: token_urlsafe may itself hold "_"), nor a
        # webhook secret's key.
        secret_part = split_key(secret)[1] if secret.startswith("aza8_") else secret.removeprefix("whsec_")
        assert secret_part not in html
    assert CREDENTIAL_VALUE not in html
    ciphertext = bytes(IntegrationCredential.objects.filter(tenant=tenant).first().data_encrypted)
    assert ciphertext.hex() not in html and "data_encrypted" not in html and "digest" not in html


def test_long_lists_are_cut_with_a_link_to_the_rest(operator_client, seeded):
    tenant = TenantFactory(slug="big")
    UserFactory.create_batch(LIST_LIMIT + 2, tenant=tenant)
    glance = tenant_at_a_glance(tenant)
    assert (len(glance.users.rows), glance.users.total, glance.users.more) == (LIST_LIMIT, LIST_LIMIT + 2, 2)
    html = operator_client.get(f"/admin/tenancy/tenant/{tenant.pk}/change/").content.decode()
    assert f'href="/admin/identity/user/?tenant__id__exact={tenant.pk}">All {LIST_LIMIT + 2} users (2 more)' in html


def test_usage_is_one_bar_per_day_for_the_top_actions_and_the_rest(seeded):
    tenant = TenantFactory(slug="busy")
    now = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
    actions = list(ToolAction.objects.order_by("key")[:10])
    UsageMetric.objects.bulk_create(
        UsageMetric(tenant=tenant, tool_action=action, period_start=now - timedelta(days=2, hours=n),
                    period_end=now - timedelta(days=2, hours=n - 1), count=100 - n)
        for n, action in enumerate(actions))
    UsageMetric.objects.create(tenant=tenant, tool_action=actions[0], period_start=now - timedelta(days=40),
                               period_end=now - timedelta(days=40) + timedelta(hours=1), count=5000)

    glance = tenant_at_a_glance(tenant, now=now)

    assert [series.label for series in glance.usage] == [action.key for action in actions[:8]] + ["other"]
    assert len(glance.usage_days) == 30 and glance.usage_days[-1] == now.date()
    first = dict(glance.usage[0].points)
    assert first[now.date() - timedelta(days=2)] == 100 and first[now.date()] == 0  # the older 5000 is out
    assert dict(glance.usage[-1].points)[now.date() - timedelta(days=2)] == 91 + 92


def test_the_glance_costs_the_same_queries_for_a_small_and_a_large_tenant(operator_client, seeded):
    small, large = TenantFactory(slug="small"), TenantFactory(slug="large")
    populate(small, 1)
    populate(large, 6)
    for tenant in (small, large):
        with CaptureQueriesContext(connection) as read:
            tenant_at_a_glance(tenant)
        assert len(read) == 10, [query["sql"] for query in read]
        with CaptureQueriesContext(connection) as drawn:  # the template reads nothing more
            Template("{% load tenant_glance %}{% tenant_glance tenant %}").render(Context({"tenant": tenant}))
        assert len(drawn) == 10, [query["sql"] for query in drawn]

    pages = []
    for tenant in (small, large):
        with CaptureQueriesContext(connection) as page:
            assert operator_client.get(f"/admin/tenancy/tenant/{tenant.pk}/change/").status_code == 200
        pages.append(len(page))
    assert pages[0] == pages[1]


def test_the_onboarding_form_has_no_glance(operator_client):
    assert 'id="tenant-glance"' not in operator_client.get("/admin/tenancy/tenant/add/").content.decode()


def test_an_audit_entry_by_an_api_key_names_the_key(operator_client, seeded):
    tenant = TenantFactory(slug="acme")
    key = create_api_key(tenant=tenant, name="ci deploys", profile="write").api_key
    create_credential(tenant=tenant, provider="github", name="deploys", data={"token": "x"},
                      actor=Actor(type="service", id=key.pk))
    html = operator_client.get(f"/admin/tenancy/tenant/{tenant.pk}/change/").content.decode()
    assert f'<a href="/admin/identity/apikey/{key.pk}/change/">API key ci deploys ({key.prefix})</a>' in html
