"""Issue 26: changing one's own e-mail or password needs the current password, ends the user's other
sessions (refresh and access tokens) and keeps the current one; an admin's change of someone
else's e-mail stays as it was. All audited."""

import pytest

from audit.models import AuditLog
from identity.models import User
from tests.api.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long enough one"


def patch(api, user, body, token):
    return api.call("PATCH", f"/v1/users/{user.pk}", body, token)


def error(response):
    return response.json()["error"]


@pytest.fixture
def sessions(api, world):
    """The admin's current session (its token is the caller's) and another one, on another device."""
    login = api.login(world.tenant, "admin@acme.com")
    other = api.login(world.tenant, "admin@acme.com")
    return login.json()["data"], other.json()["data"]


def refresh(api, token):
    return api.post("/v1/auth/refresh", {"refreshToken": token})


def test_own_email_change_without_the_current_password_is_refused_naming_it(api, world, sessions):
    current, _ = sessions
    response = patch(api, world.admin, {"email": "boss@acme.com"}, current["accessToken"])
    # 422, not 400: the body is schema-valid (docs/decisions.md, identity section of issue 26).
    assert response.status_code == 422 and error(response)["code"] == "UNPROCESSABLE"
    assert set(error(response)["details"]) == {"currentPassword"}
    assert User.objects.get(pk=world.admin.pk).email == "admin@acme.com"


def test_a_wrong_current_password_is_a_422_audited_and_limited(api, world, sessions):
    current, other = sessions
    body = {"email": "boss@acme.com", "currentPassword": "wrong password!"}
    for _ in range(5):
        response = patch(api, world.admin, body, current["accessToken"])
        assert response.status_code == 422 and error(response)["code"] == "UNPROCESSABLE"
        assert set(error(response)["details"]) == {"currentPassword"}
    limited = patch(api, world.admin, {**body, "currentPassword": PASSWORD}, current["accessToken"])
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert User.objects.get(pk=world.admin.pk).email == "admin@acme.com"
    failures = AuditLog.objects.filter(action="auth.reauthentication.failed", entity_id=str(world.admin.pk))
    assert sorted(entry.metadata["reason"] for entry in failures) == ["rate_limited"] + ["wrong_password"] * 5
    # Nothing ended: the token is fine, a 422 is no logout.
    assert api.get("/v1/me", token=other["accessToken"]).status_code == 200


def test_own_email_change_ends_the_other_sessions_and_keeps_this_one(api, world, sessions):
    current, other = sessions
    response = patch(api, world.admin, {"email": "boss@acme.com", "currentPassword": PASSWORD}, current["accessToken"])
    assert response.status_code == 200 and response.json()["data"]["email"] == "boss@acme.com"
    assert "currentPassword" not in response.json()["data"]
    refused = api.get("/v1/me", token=other["accessToken"])
    assert refused.status_code == 401 and error(refused)["code"] == "TOKEN_REVOKED"
    assert error(refresh(api, other["refreshToken"]))["code"] == "TOKEN_REVOKED"
    # The world's own login of the admin was another session too.
    assert error(api.get("/v1/me", token=world.admin_token))["code"] == "TOKEN_REVOKED"
    assert api.get("/v1/me", token=current["accessToken"]).status_code == 200
    assert refresh(api, current["refreshToken"]).status_code == 200
    entry = AuditLog.objects.filter(action="users.update", entity_id=str(world.admin.pk)).latest("sequence")
    assert entry.metadata["changedFields"] == ["email"] and entry.metadata["endedRefreshTokens"] == 2
    assert entry.actor_user_id == world.admin.pk
    assert api.login(world.tenant, "boss@acme.com").status_code == 200


def test_own_password_change_needs_proof_and_a_policy_password(api, world, sessions):
    current, other = sessions
    token = current["accessToken"]
    assert set(error(patch(api, world.admin, {"password": NEW_PASSWORD}, token))["details"]) == {"currentPassword"}
    weak = patch(api, world.admin, {"password": "123", "currentPassword": PASSWORD}, token)
    assert weak.status_code == 422 and set(error(weak)["details"]) == {"password"}
    changed = patch(api, world.admin, {"password": NEW_PASSWORD, "currentPassword": PASSWORD}, token)
    assert changed.status_code == 200 and "password" not in changed.json()["data"]
    assert error(api.get("/v1/me", token=other["accessToken"]))["code"] == "TOKEN_REVOKED"
    assert api.get("/v1/me", token=token).status_code == 200
    assert api.login(world.tenant, "admin@acme.com").status_code == 401
    assert api.login(world.tenant, "admin@acme.com", NEW_PASSWORD).status_code == 200
    entry = AuditLog.objects.filter(action="users.update", entity_id=str(world.admin.pk)).latest("sequence")
    assert entry.metadata["changedFields"] == ["password"]


def test_own_name_change_or_an_unchanged_email_needs_no_proof(api, world, sessions):
    current, other = sessions
    response = patch(api, world.admin, {"name": "The Admin", "email": "admin@acme.com"}, current["accessToken"])
    assert response.status_code == 200 and response.json()["data"]["name"] == "The Admin"
    assert api.get("/v1/me", token=other["accessToken"]).status_code == 200


def test_an_admin_changes_another_users_email_as_before_audited(api, world, sessions):
    current, _ = sessions
    nobody = User.objects.get(email="nobody@acme.com")
    response = patch(api, nobody, {"email": "somebody@acme.com"}, current["accessToken"])
    assert response.status_code == 200 and response.json()["data"]["email"] == "somebody@acme.com"
    # Their session goes on: nobody but themself proved anything.
    assert api.get("/v1/me", token=world.nobody_token).status_code == 200
    entry = AuditLog.objects.filter(action="users.update", entity_id=str(nobody.pk)).latest("sequence")
    assert entry.metadata == {**entry.metadata, "changedFields": ["email"]}
    assert "endedRefreshTokens" not in entry.metadata and entry.actor_user_id == world.admin.pk


def test_nobody_sets_another_users_password(api, world, sessions):
    current, _ = sessions
    nobody = User.objects.get(email="nobody@acme.com")
    body = {"password": NEW_PASSWORD, "currentPassword": PASSWORD}
    response = patch(api, nobody, body, current["accessToken"])
    assert response.status_code == 422 and set(error(response)["details"]) == {"password"}
    assert api.login(world.tenant, "nobody@acme.com").status_code == 200
