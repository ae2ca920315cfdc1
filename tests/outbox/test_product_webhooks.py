"""Product subscriptions (issue 27, contract §6): a product's own webhook subscriptions, made with its
credential and no X-Tenant-Id, receiving the events of every tenant entitled to its tool."""

import json
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from audit.models import AuditLog
from audit.services import SYSTEM
from catalog.models import Tool
from identity.onboarding import assign_package
from identity.product_credentials import issue_product_credential
from outbox.fanout import fan_out
from outbox.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from outbox.services import create_subscription, emit
from tenancy.models import TenantPackage, TenantToolOverride
from tenancy.selectors import entitled_actions, platform_tenant
from tenancy.services import access_changed
from tests.factories import TenantFactory
from tests.outbox.receiver import Receiver
from tests.runtime import celery_workers, wait_for

pytestmark = pytest.mark.django_db

PATH = "/v1/product/webhooks"


def tenant_with(slug, *packages):
    tenant = TenantFactory(slug=slug)
    for package in packages:
        assign_package(tenant=tenant, package_key=package, actor=SYSTEM)
    return tenant


@pytest.fixture
def erp(seeded):
    return issue_product_credential(tool=Tool.objects.get(key="erp"), name="erp-backend", actor=SYSTEM)


def subscribe(api, erp, url="https://hooks.example.com/erp", event_types=("access.changed", "user.created")):
    return api.post(PATH, {"url": url, "eventTypes": list(event_types), "description": "ERP"}, token=erp.secret)


def test_a_product_manages_its_subscriptions_without_a_tenant(api, erp, seeded):
    response = subscribe(api, erp)
    assert response.status_code == 201, response.content
    created = response.json()["data"]
    assert {"id", "url", "description", "eventTypes", "status", "createdAt", "secret"} <= set(created)
    assert created["secret"].startswith("whsec_") and created["eventTypes"] == ["access.changed", "user.created"]
    row = WebhookSubscription.objects.get(pk=created["id"])
    assert row.tenant == platform_tenant() and row.tool.key == "erp" and row.product_credential == erp.credential
    listed = api.get(PATH, token=erp.secret).json()
    assert [item["id"] for item in listed["data"]] == [created["id"]] and "secret" not in listed["data"][0]
    assert api.get(f"{PATH}/{created['id']}", token=erp.secret).json()["data"]["url"] == created["url"]
    rotated = api.post(f"{PATH}/{created['id']}/rotate-secret", token=erp.secret).json()["data"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert api.call("DELETE", f"{PATH}/{created['id']}", token=erp.secret).status_code == 204
    assert not WebhookSubscription.objects.filter(pk=created["id"]).exists()
    trail = AuditLog.objects.filter(tenant=platform_tenant(), entity_id=created["id"]).order_by("created_at")
    assert [entry.action for entry in trail] == ["webhooks.create", "webhooks.update", "webhooks.delete"]


def test_another_products_and_the_tenants_webhooks_are_apart(api, erp, world, staff_token):
    created = subscribe(api, erp).json()["data"]
    hotelbot = issue_product_credential(tool=Tool.objects.get(key="hotelbot"), name="bot", actor=SYSTEM)
    assert api.get(PATH, token=hotelbot.secret).json()["data"] == []
    assert api.get(f"{PATH}/{created['id']}", token=hotelbot.secret).status_code == 404
    # The platform's own /v1/webhooks does not list a product's rows, though they are the platform tenant's.
    assert created["id"] not in {item["id"] for item in api.get("/v1/webhooks", token=staff_token).json()["data"]}
    assert api.get(f"/v1/webhooks/{created['id']}", token=staff_token).status_code == 404
    # A tenant's own subscriptions are not a product's.
    assert api.get(f"{PATH}/{world.other_objects['webhook'].pk}", token=erp.secret).status_code == 404
    refused = api.get(PATH, token=world.admin_token)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "CREDENTIAL_NOT_ALLOWED"


def test_unusable_subscriptions_are_refused(api, erp):
    assert subscribe(api, erp, url="http://127.0.0.1/hooks").status_code == 422
    assert subscribe(api, erp, event_types=["user.exploded"]).status_code == 400
    assert api.post(PATH, {"url": "https://hooks.example.com/x", "eventTypes": ["access.changed"], "tenantId": "x"},
                    token=erp.secret).status_code == 400


def product_subscription(erp, url="https://hooks.example.com/erp", event_types=("access.changed", "user.created")):
    return create_subscription(tenant=platform_tenant(), url=url, event_types=list(event_types), actor=SYSTEM,
                               product_credential=erp.credential)


def emitted(tenant, event_type="user.created", **kwargs):
    with transaction.atomic():
        if event_type == "access.changed":
            access_changed(tenant=tenant, reason="grant", **kwargs)
            return OutboxEvent.objects.filter(tenant=tenant, type=event_type).latest("created_at")
        return emit(event_type, tenant=tenant, data={"userId": "00000000-0000-0000-0000-000000000001",
                                                     "invited": False})


def delivered_events(subscription) -> set:
    return set(WebhookDelivery.objects.filter(subscription=subscription).values_list("event_id", flat=True))


def test_the_fan_out_follows_the_tool_for_every_tenant(erp):
    entitled, other, bare = tenant_with("dealer", "erp-basic"), tenant_with("dealer-two", "erp-pro"), tenant_with("gym")
    overridden = tenant_with("dealer-off", "erp-basic")
    TenantToolOverride.objects.create(tenant=overridden, tool=Tool.objects.get(key="erp"), flags={"enabled": False})
    expired = tenant_with("dealer-old", "erp-basic")
    TenantPackage.objects.filter(tenant=expired).update(expires_at=timezone.now() - timedelta(minutes=1))
    OutboxEvent.objects.update(created_at=timezone.now() - timedelta(seconds=1))
    subscription = product_subscription(erp).subscription
    fan_out(batch_size=1000)  # what happened before the subscription existed is not replayed
    assert delivered_events(subscription) == set()
    wanted = {emitted(entitled).pk, emitted(other).pk, emitted(entitled, "access.changed").pk,
              emitted(bare, "access.changed", tools=["erp"]).pk}  # told of its loss of erp
    unwanted = {emitted(bare).pk, emitted(overridden).pk, emitted(expired).pk, emitted(bare, "access.changed").pk}
    fan_out(batch_size=1000)
    assert delivered_events(subscription) == wanted
    assert set(WebhookDelivery.objects.filter(subscription=subscription).values_list("tenant", flat=True)) == {
        platform_tenant().pk}
    # The SQL says what tenancy.selectors.entitled_actions says.
    for tenant in (entitled, other, bare, overridden, expired):
        assert entitled_actions(tenant).filter(tool__key="erp").exists() == (tenant in (entitled, other))
    assert not unwanted & delivered_events(subscription)


def test_the_fan_out_stays_one_statement_per_batch(erp, django_assert_num_queries):
    product_subscription(erp)
    tenant = tenant_with("dealer", "erp-basic")
    for _ in range(5):
        emitted(tenant)
    with django_assert_num_queries(1):
        assert fan_out(batch_size=1000) >= 5


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_delivers_every_tenants_access_changes_to_one_product_subscription(settings, seeded):
    """Tenants A and B hold the ERP, C does not: one product subscription receives A's and B's
    access.changed, signed as a tenant's webhooks are, and nothing of C's."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    erp = issue_product_credential(tool=Tool.objects.get(key="erp"), name="erp-backend", actor=SYSTEM)
    a, b, c = tenant_with("dealer-a", "erp-basic"), tenant_with("dealer-b", "erp-pro"), tenant_with("hotel-c",
                                                                                                      "hotelbot-standard")
    with Receiver() as receiver, celery_workers(1):
        with transaction.atomic():
            secret = product_subscription(erp, url=receiver.url, event_types=["access.changed"]).secret
        time.sleep(1)  # the worker is up
        told = {str(emitted(tenant, "access.changed").pk): tenant for tenant in (a, b, c)}
        assert wait_for(lambda: len(receiver.received) >= 2, 30)
        time.sleep(1)  # room for a wrong third delivery to arrive
    bodies = [json.loads(hit["body"]) for hit in receiver.received]
    for hit in receiver.received:
        Webhook(secret).verify(hit["body"], hit["headers"])
    assert sorted(body["tenantId"] for body in bodies) == sorted([str(a.pk), str(b.pk)])
    assert {body["id"] for body in bodies} == {event_id for event_id, tenant in told.items() if tenant != c}
    assert all(body["type"] == "access.changed" and body["data"]["reason"] == "grant" and "erp" in body["data"]["tools"]
               for body in bodies)
