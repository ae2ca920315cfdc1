"""Every delivery attempt kept: its row, the API that lists them, replays that add to them, and
their retention with their delivery."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditLog
from audit.services import SYSTEM
from outbox.attempts import RESPONSE_EXCERPT_BYTES
from outbox.delivery import claim_deliveries, drain, record_outcomes, send_batch
from outbox.fanout import fan_out
from outbox.models import DeliveryStatus, WebhookDelivery, WebhookDeliveryAttempt
from outbox.retention import purge_finished_deliveries
from outbox.services import delete_subscription
from tests.outbox.receiver import Receiver
from tests.outbox.test_webhooks import make_due, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True


def attempts_of(api, world, subscription_id, delivery_id, query=""):
    response = api.get(f"/v1/webhooks/{subscription_id}/deliveries/{delivery_id}/attempts{query}",
                        token=world.admin_token)
    assert response.status_code == 200, response.content
    return response.json()


def test_each_attempt_is_a_row_and_a_replay_counts_on(api, world):
    long_answer = b'{"error": "' + b"x" * 3000 + b'"}'
    answers = [(500, {}, b'{"error": "database\x00 down"}'), (503, {}, long_answer), (200, {}, b"ok")]
    with Receiver(answers=answers) as receiver:
        subscription = subscribe(api, world, receiver.url)
        api.post("/v1/users", {"email": "attempts@acme.com"}, token=world.admin_token)
        drain()
        make_due()
        drain()
        make_due()
        drain()
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempt_count == 3
        # A retry sends only a failed or dead delivery again; a replay, a succeeded one too.
        path = f"/v1/webhooks/{subscription['id']}/deliveries/{delivery.pk}"
        assert api.post(f"{path}/retry", token=world.admin_token).json()["data"] == {"requeued": 0}
        assert api.post(f"{path}/replay", token=world.admin_token).json()["data"] == {"requeued": 1}
        assert api.post(f"{path}/replay", token=world.admin_token).json()["data"] == {"requeued": 0}  # pending
        drain()
    assert len(receiver.received) == 4
    body = attempts_of(api, world, subscription["id"], delivery.pk, "?sort=created_at:asc")
    rows = body["data"]
    assert [row["number"] for row in rows] == [1, 2, 3, 4]
    assert [row["responseStatus"] for row in rows] == [500, 503, 200, 200]
    assert [row["error"] for row in rows] == ["HTTP 500", "HTTP 503", "", ""]
    assert rows[0]["responseExcerpt"] == '{"error": "database\ufffd down"}'  # PostgreSQL stores no NUL
    assert len(rows[1]["responseExcerpt"]) == RESPONSE_EXCERPT_BYTES and rows[2]["responseExcerpt"] == "ok"
    assert all(row["latencyMs"] >= 0 and row["startedAt"] <= row["createdAt"] for row in rows)
    assert set(rows[0]) == {"id", "number", "startedAt", "responseStatus", "latencyMs", "error", "responseExcerpt",
                            "createdAt"}
    assert body["meta"] == {"nextCursor": None, "hasMore": False}
    newest_first = attempts_of(api, world, subscription["id"], delivery.pk, "?limit=1")
    assert newest_first["data"][0]["number"] == 4 and newest_first["meta"]["hasMore"] is True
    assert AuditLog.objects.filter(action="webhooks.update", metadata__requeued=1).exists()


def test_no_answer_is_an_attempt_without_a_status(api, world):
    subscription = subscribe(api, world, "http://127.0.0.1:9/hooks")  # nothing listens on the discard port
    api.post("/v1/users", {"email": "nobody-home@acme.com"}, token=world.admin_token)
    drain()
    (attempt,) = WebhookDeliveryAttempt.objects.all()
    assert attempt.response_status is None and attempt.error and attempt.response_excerpt == ""
    assert attempt.tenant_id == world.tenant.pk and attempt.number == 1
    assert WebhookDelivery.objects.get().last_error == attempt.error
    assert subscription


@pytest.mark.parametrize("answers", [[(200, {})], [(500, {})]], ids=["successes", "failures"])
def test_a_batch_keeps_its_attempts_in_one_statement(api, world, settings, answers):
    settings.WEBHOOK_DELIVERY_CONCURRENCY = 8
    with Receiver(answers=answers * 3) as receiver:
        subscribe(api, world, receiver.url)
        for index in range(3):
            api.post("/v1/users", {"email": f"batch{index}@acme.com"}, token=world.admin_token)
        fan_out()
        claimed = claim_deliveries(batch_size=8)
        with ThreadPoolExecutor(max_workers=8) as pool:
            started = send_batch(claimed, pool)
            outcomes = [(delivery, future.result()) for future, delivery in started.items()]
        with CaptureQueriesContext(connection) as captured:
            record_outcomes(outcomes)
    inserts = [query["sql"] for query in captured.captured_queries if "INSERT INTO webhook_delivery_attempt" in query["sql"]]
    assert len(claimed) == 3 and len(inserts) == 1
    assert inserts[0].startswith("WITH recovered AS") == (answers[0][0] == 200)  # with the successes' update
    assert WebhookDeliveryAttempt.objects.filter(number=1).count() == 3


def test_attempts_of_an_unknown_or_foreign_delivery_are_not_found(api, world):
    with Receiver() as receiver:
        mine = subscribe(api, world, receiver.url)
        other = subscribe(api, world, receiver.url)
        api.post("/v1/users", {"email": "foreign@acme.com"}, token=world.admin_token)
        drain()
    delivery = WebhookDelivery.objects.filter(subscription_id=mine["id"]).get()
    for subscription_id, delivery_id in ((other["id"], delivery.pk), (mine["id"], other["id"]),
                                         (world.other_objects["webhook"].pk, delivery.pk)):
        response = api.get(f"/v1/webhooks/{subscription_id}/deliveries/{delivery_id}/attempts", token=world.admin_token)
        assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


def test_attempts_go_with_their_delivery(api, world, settings):
    with Receiver(answers=[(500, {})]) as receiver:
        kept = subscribe(api, world, receiver.url)
        gone = subscribe(api, world, receiver.url, event_types=["user.created"])
        api.post("/v1/users", {"email": "purged@acme.com"}, token=world.admin_token)
        drain()
        make_due()
        drain()
    assert WebhookDeliveryAttempt.objects.count() == 3  # one subscription failed once, then both succeeded
    delete_subscription(subscription=WebhookDelivery.objects.get(subscription_id=gone["id"]).subscription, actor=SYSTEM)
    assert set(WebhookDeliveryAttempt.objects.values_list("delivery__subscription_id", flat=True)) == {
        WebhookDelivery.objects.get().subscription_id}
    assert str(WebhookDelivery.objects.get().subscription_id) == kept["id"]
    assert purge_finished_deliveries(timezone.now()) == 0  # inside the window
    later = timezone.now() + timedelta(days=settings.RETENTION_DAYS[settings.OPS_PROFILE]["webhook_delivery"] + 1)
    assert purge_finished_deliveries(later) == 1
    assert not WebhookDeliveryAttempt.objects.exists() and not WebhookDelivery.objects.exists()
