"""/v1/integrations/credentials: the secret goes in encrypted and never comes back out."""

import json

import pytest
from django.db import connection

from audit.models import AuditLog
from integrations.models import IntegrationCredential
from integrations.selectors import read_secret

pytestmark = pytest.mark.django_db

SECRET = {"clientId": "acme-client", "clientSecret": "s3cr3t-value-that-must-not-leak"}
BODY = {"provider": "salesforce", "name": "crm", "data": SECRET, "expiresAt": "2030-01-01T00:00:00Z"}


def test_create_answers_metadata_only_and_stores_ciphertext(api, world):
    response = api.post("/v1/integrations/credentials", BODY, token=world.admin_token)
    assert response.status_code == 201, response.content
    created = response.json()["data"]
    assert set(created) == {"id", "provider", "name", "keyVersion", "expiresAt", "createdAt"}
    listed = api.get("/v1/integrations/credentials", token=world.admin_token)
    shown = api.get(f"/v1/integrations/credentials/{created['id']}", token=world.admin_token)
    for answer in (response, listed, shown):
        assert SECRET["clientSecret"] not in answer.content.decode()
    assert [row["id"] for row in listed.json()["data"]] == [created["id"]]
    credential = IntegrationCredential.objects.get(pk=created["id"])
    assert read_secret(credential) == SECRET
    with connection.cursor() as cursor:
        cursor.execute("SELECT row::text FROM integration_credential AS row")
        assert SECRET["clientSecret"] not in cursor.fetchone()[0]
        cursor.execute("SELECT row::text FROM idempotency_key AS row")
        assert all(SECRET["clientSecret"] not in row[0] for row in cursor.fetchall())
    entry = AuditLog.objects.get(action="integrations.create", entity_id=created["id"])
    assert SECRET["clientSecret"] not in json.dumps(entry.metadata) and entry.actor_user == world.admin


def test_a_ciphertext_moved_to_another_row_does_not_decrypt(api, world):
    first = api.post("/v1/integrations/credentials", BODY, token=world.admin_token).json()["data"]
    second = api.post("/v1/integrations/credentials", {**BODY, "name": "other"}, token=world.admin_token).json()["data"]
    stolen = IntegrationCredential.objects.get(pk=first["id"]).data_encrypted
    IntegrationCredential.objects.filter(pk=second["id"]).update(data_encrypted=stolen)
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        read_secret(IntegrationCredential.objects.get(pk=second["id"]))


def test_duplicates_bad_bodies_and_delete(api, world):
    created = api.post("/v1/integrations/credentials", BODY, token=world.admin_token).json()["data"]
    duplicate = api.post("/v1/integrations/credentials", BODY, token=world.admin_token)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "DUPLICATE_RESOURCE"
    for bad in ({**BODY, "data": {}}, {**BODY, "provider": "no spaces"}, {**BODY, "data": "flat"}):
        assert api.post("/v1/integrations/credentials", bad, token=world.admin_token).status_code == 400
    deleted = api.call("DELETE", f"/v1/integrations/credentials/{created['id']}", token=world.admin_token)
    assert deleted.status_code == 204 and not IntegrationCredential.objects.filter(pk=created["id"]).exists()
    assert AuditLog.objects.filter(action="integrations.delete", entity_id=created["id"]).count() == 1
