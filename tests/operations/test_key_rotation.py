"""Rotating CREDENTIAL_KEYS from v1 to v2: reads keep working throughout, then v1 can go."""

import base64
import io
import os
import threading

import pytest
from django.core.management import call_command

from audit.idempotency import DatabaseIdempotencyStore
from audit.models import AuditLog
from audit.services import SYSTEM
from core.api.idempotency import StoredResponse
from integrations.models import IntegrationCredential
from integrations.selectors import read_secret
from integrations.services import create_credential
from operations.selectors import rows_under_old_keys
from operations.services import reencrypt_all
from outbox.models import WebhookSubscription
from outbox.services import create_subscription, rotate_secret
from outbox.webhooks import signing_secrets
from tests.factories import TenantFactory

V1 = base64.b64encode(os.urandom(32)).decode()
V2 = base64.b64encode(os.urandom(32)).decode()


def secret_of(i):
    return {"apiKey": f"secret-number-{i}"}


@pytest.mark.django_db(transaction=True)
def test_rows_move_from_v1_to_v2_while_readers_keep_reading(settings):
    settings.CREDENTIAL_KEYS = {"1": V1}
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    TenantFactory(slug="aza8", is_platform=True)
    tenant = TenantFactory()
    for i in range(300):
        create_credential(tenant=tenant, provider="acme", name=f"c{i}", data=secret_of(i), actor=SYSTEM)
    created = create_subscription(tenant=tenant, url="https://hooks.example.com/k", event_types=["user.created"],
                                  actor=SYSTEM)
    rotated = rotate_secret(subscription=created.subscription, actor=SYSTEM)
    store = DatabaseIdempotencyStore()
    answer = {"data": {"key": "aza8_shown_once"}}
    claim = store.claim(tenant=tenant, principal="user:1", key="k", handler="api_keys.create", fingerprint="f")
    assert store.complete(claim, status=201, body=answer)
    store.claim(tenant=tenant, principal="user:1", key="k2", handler="api_keys.create", fingerprint="f")  # running

    settings.CREDENTIAL_KEYS = {"1": V1, "2": V2}
    newcomer = create_credential(tenant=tenant, provider="acme", name="new", data={"apiKey": "n"}, actor=SYSTEM)
    assert newcomer.key_version == 2
    assert rows_under_old_keys() == {"integrationCredentials": 300, "webhookSubscriptions": 1, "idempotentResponses": 1}

    failures, reads, stop = [], [0], threading.Event()

    def reader():
        from django.db import connection

        try:
            while not stop.is_set():
                for credential in IntegrationCredential.objects.exclude(name="new").order_by("name"):
                    if read_secret(credential) != secret_of(int(credential.name[1:])):
                        failures.append(credential.name)
                    reads[0] += 1
        except Exception as exc:  # noqa: BLE001 - any failed read fails the test
            failures.append(repr(exc))
        finally:
            connection.close()

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in readers:
        thread.start()
    done = reencrypt_all(batch_size=25)
    stop.set()
    for thread in readers:
        thread.join()

    assert failures == [] and reads[0] > 0
    assert done == {"integrationCredentials": 300, "webhookSubscriptions": 1, "idempotentResponses": 1}
    assert set(IntegrationCredential.objects.values_list("key_version", flat=True)) == {2}
    assert AuditLog.objects.filter(action="credentials.reencrypt", actor_type="system").count() == 1

    settings.CREDENTIAL_KEYS = {"2": V2}  # the old key is gone
    assert all(read_secret(c) == secret_of(int(c.name[1:])) for c in IntegrationCredential.objects.exclude(name="new"))
    subscription = WebhookSubscription.objects.get()
    assert signing_secrets(subscription) == [rotated.secret, created.secret]
    replay = store.claim(tenant=tenant, principal="user:1", key="k", handler="api_keys.create", fingerprint="f")
    assert replay == StoredResponse(status=201, body=answer)
    out = io.StringIO()
    call_command("rotate_credentials", stdout=out)
    assert "0 row(s) re-encrypted under key version 2" in out.getvalue() and "may be removed" in out.getvalue()


@pytest.mark.django_db
def test_a_webhook_secret_rotated_after_a_new_key_keeps_both_secrets_readable(settings):
    settings.CREDENTIAL_KEYS = {"1": V1}
    tenant = TenantFactory()
    created = create_subscription(tenant=tenant, url="https://hooks.example.com/k", event_types=["user.created"],
                                  actor=SYSTEM)
    settings.CREDENTIAL_KEYS = {"1": V1, "2": V2}
    rotated = rotate_secret(subscription=created.subscription, actor=SYSTEM)
    subscription = WebhookSubscription.objects.get()
    assert subscription.key_version == 2
    assert signing_secrets(subscription) == [rotated.secret, created.secret]
