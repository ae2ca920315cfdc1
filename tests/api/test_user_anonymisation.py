"""DELETE /v1/users/{id}: the person is gone from every table, the id and the audit trail stay."""

import pytest
from django.db import connection

from audit.models import AuditLog
from identity.models import ApiKey, ApiKeyStatus, Group, RefreshToken, User
from outbox.models import OutboxEvent
from tests.api.conftest import PASSWORD

pytestmark = pytest.mark.django_db

EMAIL = "zephyrine.quixote@acme.com"
NAME = "Zephyrine Halvorsen"
NEEDLES = ("zephyrine", "quixote", "halvorsen")


def tables_mentioning(needle: str) -> set[str]:
    """Every table of the database with a row whose text form contains `needle` (case-insensitive)."""
    found = set()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT 1 FROM "{table}" AS row WHERE row::text ILIKE %s LIMIT 1', [f"%{needle}%"])
            if cursor.fetchone():
                found.add(table)
    return found


def test_deleting_a_user_erases_email_and_name_everywhere_and_keeps_the_id(api, world):
    body = {"email": EMAIL, "name": NAME, "password": PASSWORD}
    created = api.post("/v1/users", body, token=world.admin_token, **{"Idempotency-Key": "create-zq"})
    assert created.status_code == 201, created.content
    user_id = created.json()["data"]["id"]
    admins = Group.objects.get(tenant=world.tenant, name="ADM_CLIENTE")
    assert api.post(f"/v1/groups/{admins.pk}/users/{user_id}", token=world.admin_token,
                    **{"Idempotency-Key": "join-zq"}).status_code == 204
    tokens = api.login(world.tenant, EMAIL).json()["data"]
    key = api.post("/v1/api-keys", {"name": "zq-ci", "scopes": ["users.read"]}, token=tokens["accessToken"])
    assert key.status_code == 201
    assert api.call("PATCH", f"/v1/users/{user_id}", {"name": NAME + " Jr"}, token=world.admin_token).status_code == 200
    # The stored answers show the person too, encrypted: only the user row holds them in the clear.
    assert "user" in tables_mentioning("halvorsen") and "idempotency_key" not in tables_mentioning("halvorsen")

    response = api.call("DELETE", f"/v1/users/{user_id}", token=world.admin_token)

    assert response.status_code == 204
    for needle in NEEDLES:
        assert tables_mentioning(needle) == set(), needle
    user = User.objects.get(pk=user_id)
    assert user.deleted_at is not None and user.name == "" and user.email == f"deleted-{user.pk.hex}@anonymised.invalid"
    # The trail still tells who did what, by id.
    trail = AuditLog.objects.filter(tenant=world.tenant)
    assert {"users.create", "users.update", "auth.login", "users.delete"} <= set(
        trail.filter(entity_id=user_id).values_list("action", flat=True)
    )
    assert trail.filter(action="api_keys.create", actor_user_id=user_id).exists()
    # Sessions and keys end.
    assert not RefreshToken.objects.filter(user_id=user_id, revoked_at__isnull=True).exists()
    assert api.get("/v1/me", token=tokens["accessToken"]).json()["error"]["code"] == "ACCOUNT_SUSPENDED"
    assert api.post("/v1/auth/refresh", {"refreshToken": tokens["refreshToken"]}).status_code == 401
    assert ApiKey.objects.get(name="zq-ci").status == ApiKeyStatus.REVOKED
    assert api.get("/v1/me", token=key.json()["data"]["key"]).status_code == 401
    event = OutboxEvent.objects.filter(type="user.updated").latest("created_at")
    assert event.payload["data"] == {"userId": user_id, "deleted": True}
    # A replay of the creation answers the anonymised user, never the erased values.
    replay = api.post("/v1/users", body, token=world.admin_token, **{"Idempotency-Key": "create-zq"})
    assert replay["Idempotent-Replayed"] == "true" and replay.json()["data"]["email"] == user.email
