"""Issue 26's idempotency drill, against gunicorn on the test database: two principals of one tenant
each send the same POST with the same Idempotency-Key twenty times at once.

POST /v1/webhooks because its 201 holds a new secret and the same body may create a second
subscription: with a unique name (an API key's, a user's e-mail) the second principal's own run
would end in 409 DUPLICATE and could not show that it ran on its own."""

import threading
from collections import Counter

import pytest

from identity.services import create_api_key
from outbox.models import WebhookSubscription
from tenancy.models import Tenant
from tests.contract.conftest import UNLIMITED, login, tenant_admin
from tests.runtime import web_server

pytestmark = [pytest.mark.slow, pytest.mark.once, pytest.mark.django_db(transaction=True)]

PER_PRINCIPAL = 20
KEY = "drill-one-key"
BODY = {"url": "http://127.0.0.1:9/drill-hooks", "eventTypes": ["user.created"]}


def _post(hub, token) -> tuple[int, dict, dict]:
    """(status, body, headers by lower-case name) of one POST with the drill's key."""
    status, body, headers = hub.call("POST", "/v1/webhooks", BODY, token=token, headers={"Idempotency-Key": KEY})
    return status, body, {name.lower(): value for name, value in headers.items()}


def _all_at_once(hub, tokens: dict) -> dict:
    """Every principal's requests released together; each principal's answers as (status, body, headers)."""
    calls = [name for name in tokens for _ in range(PER_PRINCIPAL)]
    barrier = threading.Barrier(len(calls))
    answers = {name: [] for name in tokens}

    def send(name):
        barrier.wait()
        answers[name].append(_post(hub, tokens[name]))

    threads = [threading.Thread(target=send, args=(name,)) for name in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def _kind(status, body, headers) -> str:
    if status == 201:
        return "201 replayed" if headers.get("idempotent-replayed") == "true" else "201"
    if status == 409:
        return f"409 {body.get('error', {}).get('code')}" + (" retry-after" if "retry-after" in headers else "")
    return str(status)


def test_one_key_runs_once_per_principal_and_never_crosses_principals(seeded, transactional_db):
    slug, email = tenant_admin()
    tenant = Tenant.objects.get(slug=slug)
    admin_key = create_api_key(tenant=tenant, name="drill-admin-key", profile="admin").key
    with web_server(workers=4, **UNLIMITED) as hub:
        tokens = {"admin's JWT": login(hub, slug, email), "admin API key": admin_key}
        answers = _all_at_once(hub, tokens)
        retries = {name: _post(hub, token) for name, token in tokens.items()}

    kinds = {name: Counter(_kind(*answer) for answer in got) for name, got in answers.items()}
    first = {name: [body for status, body, headers in got if _kind(status, body, headers) == "201"]
             for name, got in answers.items()}
    own_secret = {body["data"]["secret"]: name for name, bodies in first.items() for body in bodies}
    crossed = sum(own_secret.get(body["data"]["secret"], name) != name
                  for name, got in answers.items() for status, body, _ in [*got, retries[name]] if status == 201)
    created = WebhookSubscription.objects.filter(tenant=tenant).count()
    stuck = sum(status == 409 for status, _body, _headers in retries.values())
    answered = {body["data"]["id"] for got in answers.values() for status, body, _ in got if status == 201}
    print(f"\nidempotency drill: {len(tokens) * PER_PRINCIPAL + len(retries)} requests, events n/a, answers by "
          f"principal { {name: dict(kind) for name, kind in kinds.items()} }, {created} subscriptions created, "
          f"{created - len(answered)} lost (created, never answered), {stuck} keys stuck, "
          f"{crossed} answers holding the other principal's secret")

    for name, got in answers.items():
        assert len(got) == PER_PRINCIPAL
        assert len(first[name]) == 1, f"{name}: {len(first[name])} requests executed, not 1 ({dict(kinds[name])})"
        assert set(kinds[name]) <= {"201", "201 replayed", "409 IDEMPOTENCY_IN_PROGRESS retry-after"}, kinds[name]
        assert all(body == first[name][0] for status, body, _ in got if status == 201), f"{name}: a replay differs"
        status, body, headers = retries[name]
        assert (status, headers.get("idempotent-replayed"), body) == (201, "true", first[name][0])
    assert crossed == 0
    ids = {first[name][0]["data"]["id"] for name in tokens}
    assert len(ids) == len(tokens) and created == len(tokens)
