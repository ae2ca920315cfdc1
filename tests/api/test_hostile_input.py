"""Inputs that reached a 500 (issue 25): each is now a 4xx in the JSON envelope, and changes nothing."""

import json

import pytest
from django.db import IntegrityError, transaction

from core.api.exceptions import error_response_for
from core.api.parsers import MAX_JSON_DEPTH
from identity.models import Group, User

pytestmark = pytest.mark.django_db


def raw(api, method, path, text: str, token):
    return api.client.generic(method, path, text, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def assert_envelope(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == code


def test_an_id_shaped_like_a_uuid_but_not_one_is_not_found(api, world):
    group = Group.objects.get(tenant=world.tenant, name="ADM_CLIENTE")
    response = api.post(f"/v1/groups/{group.pk}/users/{'-' * 36}", token=world.admin_token)
    assert_envelope(response, 404, "NOT_FOUND")
    assert_envelope(api.get(f"/v1/users/{'-' * 36}", token=world.admin_token), 404, "NOT_FOUND")


@pytest.mark.parametrize("method", ["POST", "DELETE", "PUT", "PATCH"])
def test_any_method_on_an_unknown_api_path_gets_the_envelope_not_a_csrf_page(api, world, method):
    assert_envelope(api.call(method, "/v1/no-such-thing", {}, world.admin_token), 404, "NOT_FOUND")


def test_posting_to_the_jwks_is_a_405_in_the_envelope(api):
    assert_envelope(api.post("/.well-known/jwks.json"), 405, "METHOD_NOT_ALLOWED")


def test_datetime_filters_take_any_offset_and_compare_in_utc(api, world):
    # PostgreSQL refuses offsets beyond ±15:59; the filter converts to UTC first.
    late = api.get("/v1/users?createdAtFrom=2000-01-01T00:00:00-16:00", token=world.admin_token)
    assert late.status_code == 200 and len(late.json()["data"]) == User.objects.filter(tenant=world.tenant).count()
    assert api.get("/v1/users?createdAtTo=2000-01-01T00:00:00%2B23:59", token=world.admin_token).json()["data"] == []
    # Sent empty is not a date-time.
    assert_envelope(api.get("/v1/users?createdAtTo=", token=world.admin_token), 400, "VALIDATION_ERROR")
    # Too close to year 1 to have a UTC form.
    assert_envelope(api.get("/v1/users?createdAtFrom=0001-01-01T00:00:00%2B05:00", token=world.admin_token), 400,
                    "VALIDATION_ERROR")


def test_deep_json_is_refused_before_any_view(api, world):
    for depth in (MAX_JSON_DEPTH + 1, 1000, 100_000):
        body = '{"name": "deep", "description": ' + "[" * depth + "]" * depth + "}"
        response = raw(api, "POST", "/v1/groups", body, world.admin_token)
        assert_envelope(response, 400, "VALIDATION_ERROR")
        assert "nested deeper" in response.json()["error"]["details"]["body"][0]
    assert not Group.objects.filter(name="deep").exists()


@pytest.mark.parametrize("text, reason", [
    ('{"flags": {"a\\ud800b": true}}', "lone surrogate"),
    ('{"flags": {"ok": true}, "limits": {"note": "\\udfff"}}', "lone surrogate"),
    ('{"flags": {"nul\\u0000": true}}', "NUL"),
])
def test_strings_postgresql_cannot_store_are_refused(api, world, text, reason):
    before = api.get("/v1/config", token=world.admin_token).json()
    response = raw(api, "PUT", "/v1/config", text, world.admin_token)
    assert_envelope(response, 400, "VALIDATION_ERROR")
    assert reason in response.json()["error"]["details"]["body"][0]
    assert api.get("/v1/config", token=world.admin_token).json() == before


def test_a_group_name_with_nul_is_refused(api, world):
    assert_envelope(raw(api, "POST", "/v1/groups", json.dumps({"name": "a\x00b"}), world.admin_token), 400,
                    "VALIDATION_ERROR")


def test_a_unique_violation_is_a_409_duplicate_not_a_500(world):
    """What a lost insert race raises (two identical creates at the same moment, both past the
    service's own check): PostgreSQL's unique violation, answered as a duplicate."""
    existing = User.objects.get(tenant=world.tenant, email="admin@acme.com")
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        User.objects.create(tenant=world.tenant, email=existing.email.upper())
    status, body, _headers = error_response_for(raised.value)
    assert status == 409 and body["error"]["code"] == "DUPLICATE_RESOURCE"


def test_unknown_body_fields_are_refused_by_name_and_nothing_is_written(api, world):
    body = {"email": "god@acme.com", "isSuperuser": True, "role": "god"}
    response = api.post("/v1/users", body, token=world.admin_token)
    assert_envelope(response, 400, "VALIDATION_ERROR")
    assert response.json()["error"]["details"] == {"isSuperuser": ["Unknown field."], "role": ["Unknown field."]}
    assert not User.objects.filter(email="god@acme.com").exists()


def test_a_partial_update_refuses_unknown_fields_too(api, world):
    group = Group.objects.get(tenant=world.tenant, name="ADM_CLIENTE")
    response = api.call("PATCH", f"/v1/groups/{group.pk}", {"description": "x", "deletedAt": None}, world.admin_token)
    assert_envelope(response, 400, "VALIDATION_ERROR")
    assert response.json()["error"]["details"] == {"deletedAt": ["Unknown field."]}
    group.refresh_from_db()
    assert group.description != "x"


def test_a_host_outside_allowed_hosts_gets_the_envelope_on_api_paths(api):
    response = api.call("GET", "/v1/me", None, None, HTTP_HOST="evil.example")
    assert_envelope(response, 400, "VALIDATION_ERROR")
    assert response.json()["error"]["message"] == "This host is not served here."
    assert response["X-Request-Id"] == response.json()["error"]["requestId"]
    # The back office keeps Django's own page.
    admin = api.call("GET", "/admin/login/", None, None, HTTP_HOST="evil.example")
    assert admin.status_code == 400 and not admin["Content-Type"].startswith("application/json")


def test_an_api_path_with_a_newline_in_it_gets_the_envelope(api, world):
    assert_envelope(api.call("DELETE", "/v1/webhooks/%0Aw", None, world.admin_token), 404, "NOT_FOUND")


@pytest.mark.parametrize("path, body, details", [
    ("/v1/groups", {"name": "typed", "description": 0}, {"description": ["Must be a string."]}),
    ("/v1/authz/check", {"toolActions": [0, "users.read"]}, {"toolActions": {"0": ["Must be a string."]}}),
    ("/v1/authz/check", {"toolActions": "users.read"}, {"toolActions": ["Must be an array."]}),
    ("/v1/api-keys", {"name": 7, "profile": "read-only"}, {"name": ["Must be a string."]}),
])
def test_values_of_another_json_type_are_refused_not_coerced(api, world, path, body, details):
    response = api.post(path, body, token=world.admin_token)
    assert_envelope(response, 400, "VALIDATION_ERROR")
    assert response.json()["error"]["details"] == details
    assert not Group.objects.filter(name="typed").exists()
