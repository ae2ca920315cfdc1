"""The small defects issue 25 lists, each held fixed through the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditLog
from identity.models import ApiKey, ApiKeyStatus

pytestmark = pytest.mark.django_db


def create_key(api, world, **fields):
    return api.post("/v1/api-keys", {"name": "ci", "profile": "read-only", **fields}, token=world.admin_token)


def test_an_api_key_cannot_be_created_already_expired(api, world):
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    response = create_key(api, world, expiresAt=past)
    assert response.status_code == 422 and response.json()["error"]["code"] == "UNPROCESSABLE"
    assert response.json()["error"]["details"] == {"expiresAt": ["Must be in the future."]}
    assert not ApiKey.objects.filter(tenant=world.tenant, name="ci").exists()


def test_a_revoked_key_cannot_be_rotated_into_a_secret_that_never_works(api, world):
    key_id = create_key(api, world).json()["data"]["id"]
    revoked = api.call("PATCH", f"/v1/api-keys/{key_id}/status", {"status": "revoked", "reason": "leaked in CI logs"},
                       world.admin_token)
    assert revoked.status_code == 200
    response = api.post(f"/v1/api-keys/{key_id}/rotate", token=world.admin_token)
    assert response.status_code == 409 and response.json()["error"]["code"] == "CONFLICT"
    assert ApiKey.objects.get(pk=key_id).status == ApiKeyStatus.REVOKED


def test_a_revocations_reason_is_kept_in_the_trail(api, world):
    key_id = create_key(api, world).json()["data"]["id"]
    api.call("PATCH", f"/v1/api-keys/{key_id}/status", {"status": "revoked", "reason": "leaked in CI logs"},
             world.admin_token)
    entry = AuditLog.objects.get(tenant=world.tenant, action="api_keys.status.update", entity_id=key_id)
    assert entry.metadata["reason"] == "leaked in CI logs" and entry.metadata["to"] == "revoked"


def test_the_audit_lists_q_searches_actions_and_entities(api, world):
    key_id = create_key(api, world).json()["data"]["id"]
    found = api.get("/v1/audit-logs?q=API_KEYS.CREATE", token=world.admin_token).json()["data"]
    assert found and {entry["action"] for entry in found} == {"api_keys.create"}
    by_entity = api.get(f"/v1/audit-logs?q={key_id}", token=world.admin_token).json()["data"]
    assert {entry["entityId"] for entry in by_entity} == {key_id}
    assert api.get("/v1/audit-logs?q=no-such-thing", token=world.admin_token).json()["data"] == []


def test_error_messages_quote_values_the_way_json_does(api, world):
    response = create_key(api, world, allowedIps=["nope"])
    assert response.json()["error"]["details"] == {"allowedIps": ['"nope" is not an IP address or network.']}
    webhook = api.post("/v1/webhooks", {"url": "https://hooks.example.com/x", "eventTypes": ["b.nope", "a.nope"]},
                       token=world.admin_token)
    # Event types are an enum in the schema: DRF's choice message, quoted as JSON quotes.
    assert webhook.json()["error"]["details"] == {"eventTypes": {"0": ['"b.nope" is not a valid choice.'],
                                                                 "1": ['"a.nope" is not a valid choice.']}}


def test_a_webhook_cannot_subscribe_to_events_the_operating_profile_never_emits(api, world, settings):
    settings.OPS_PROFILE = "mvp"
    body = {"url": "https://hooks.example.com/x", "eventTypes": ["user.created", "group.created"]}
    response = api.post("/v1/webhooks", body, token=world.admin_token)
    assert response.status_code == 422
    assert response.json()["error"]["details"] == {
        "eventTypes": ["Not emitted under this hub's operating profile (mvp): group.created."]}
    settings.OPS_PROFILE = "standard"
    assert api.post("/v1/webhooks", body, token=world.admin_token).status_code == 201


def test_authz_check_refuses_a_user_id_rather_than_answer_about_the_caller(api, world):
    body = {"toolActions": ["users.read"], "userId": str(world.admin.pk)}
    response = api.post("/v1/authz/check", body, token=world.nobody_token)
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"userId": ["Unknown field."]}


def test_a_pattern_error_names_the_pattern_as_the_schema_shows_it(api, world):
    response = api.call("PUT", "/v1/branding", {"primaryColor": "red"}, world.admin_token)
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"primaryColor": ['Must match the pattern "^#[0-9a-fA-F]{6}$".']}
