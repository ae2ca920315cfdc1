"""Idempotency records: one caller's, encrypted at rest, completed with the write or not at all."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import IdempotencyKey, IdempotencyStatus
from identity.models import ApiKey, User
from identity.services import create_api_key

pytestmark = pytest.mark.django_db

KEY = {"Idempotency-Key": "same-key"}


def _admin_key(world) -> str:
    return create_api_key(tenant=world.tenant, name="acme-admin", profile="admin").key


def test_another_principal_with_the_same_key_runs_its_own_request(api, world):
    body = {"name": "deploy", "profile": "read-only"}
    mine = api.post("/v1/api-keys", body, token=world.admin_token, **KEY)
    ApiKey.objects.filter(name="deploy").update(name="deploy-1")  # names are unique in a tenant
    theirs = api.post("/v1/api-keys", body, token=_admin_key(world), **KEY)
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert theirs.json()["data"]["key"] != mine.json()["data"]["key"]
    assert ApiKey.objects.filter(tenant=world.tenant, name__startswith="deploy").count() == 2
    # Each replays its own answer.
    again = api.post("/v1/api-keys", body, token=world.admin_token, **KEY)
    assert again["Idempotent-Replayed"] == "true" and again.json() == mine.json()


def test_a_stored_answer_holds_no_secret_in_plaintext(api, world):
    created = api.post("/v1/api-keys", {"name": "ci", "profile": "read-only"}, token=world.admin_token, **KEY)
    secret = created.json()["data"]["key"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(k)::text, response_encrypted FROM idempotency_key k WHERE key = %s",
                       [KEY["Idempotency-Key"]])
        (row_text, blob), = cursor.fetchall()
    assert secret not in row_text and secret.encode() not in bytes(blob)
    record = IdempotencyKey.objects.get(key=KEY["Idempotency-Key"])
    assert record.status == IdempotencyStatus.COMPLETED and record.key_version is not None
    assert record.principal == f"user:{world.admin.pk}"
    replayed = api.post("/v1/api-keys", {"name": "ci", "profile": "read-only"}, token=world.admin_token, **KEY)
    assert replayed.json()["data"]["key"] == secret


def test_a_running_claim_answers_409_with_retry_after(api, world):
    body = {"email": "slow@acme.com"}
    api.post("/v1/users", body, token=world.admin_token, **KEY)
    IdempotencyKey.objects.filter(key=KEY["Idempotency-Key"]).update(
        status=IdempotencyStatus.IN_PROGRESS, lease_expires_at=timezone.now() + timedelta(seconds=20))
    busy = api.post("/v1/users", body, token=world.admin_token, **KEY)
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert 19 <= int(busy["Retry-After"]) <= 20


def test_a_claim_whose_request_died_is_taken_over_after_its_lease(api, world):
    body = {"email": "orphan@acme.com"}
    IdempotencyKey.objects.create(
        tenant=world.tenant, principal=f"user:{world.admin.pk}", key=KEY["Idempotency-Key"], handler="users.create",
        fingerprint=_fingerprint_of(api, world, body), lease_expires_at=timezone.now() - timedelta(seconds=1))
    retried = api.post("/v1/users", body, token=world.admin_token, **KEY)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert User.objects.filter(email="orphan@acme.com").count() == 1
    assert IdempotencyKey.objects.get(key=KEY["Idempotency-Key"]).status == IdempotencyStatus.COMPLETED


def _fingerprint_of(api, world, body) -> str:
    """The fingerprint the hub stores for `body`, read from a claim it makes under another key."""
    api.post("/v1/users", body, token=world.admin_token, **{"Idempotency-Key": "probe"})
    record = IdempotencyKey.objects.get(key="probe")
    User.objects.filter(email=body["email"]).delete()
    record.delete()
    return record.fingerprint


DOOM = """
CREATE FUNCTION test_doom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the connection went away' USING ERRCODE = '08006'; END $$;
CREATE CONSTRAINT TRIGGER test_doom AFTER UPDATE ON idempotency_key DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (NEW.key = 'doomed' AND NEW.status = 'completed') EXECUTE FUNCTION test_doom();
"""


@pytest.mark.django_db(transaction=True)
def test_a_write_whose_commit_fails_leaves_nothing_and_answers_503(api, world):
    """The answer is completed in the write's own transaction: when that commit fails, neither the
    user nor an answer exists, the client hears 503 with Retry-After, and its retry runs."""
    with connection.cursor() as cursor:
        cursor.execute(DOOM)
    try:
        failed = api.post("/v1/users", {"email": "doomed@acme.com"}, token=world.admin_token,
                          **{"Idempotency-Key": "doomed"})
        assert failed.status_code == 503 and failed.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert failed["Retry-After"] == "1"
        assert not User.objects.filter(email="doomed@acme.com").exists()
        assert not IdempotencyKey.objects.filter(key="doomed").exists()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_doom ON idempotency_key; DROP FUNCTION test_doom()")
    retried = api.post("/v1/users", {"email": "doomed@acme.com"}, token=world.admin_token,
                       **{"Idempotency-Key": "doomed"})
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert User.objects.filter(email="doomed@acme.com").count() == 1
