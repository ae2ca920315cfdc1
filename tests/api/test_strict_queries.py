"""Query strings and the 400/422 line (issue 25): what the schema states is what the hub refuses."""

from urllib.parse import urlencode

import pytest

from identity.models import ApiKey
from outbox.models import WebhookSubscription
from outbox.services import create_subscription
from tenancy.models import Tenant

pytestmark = pytest.mark.django_db


def error(response) -> dict:
    return response.json()["error"]


def test_a_query_parameter_no_operation_takes_is_a_400_naming_it(api, world):
    response = api.get("/v1/users?limit=2&profiel=admin&format=json", token=world.admin_token)
    assert response.status_code == 400
    assert error(response)["details"] == {"format": ["Unknown query parameter."], "profiel": ["Unknown query parameter."]}
    assert api.get("/v1/me?limit=1", token=world.admin_token).status_code == 400
    assert api.get("/v1/users?limit=2&status=active&q=a&sort=created_at:asc", token=world.admin_token).status_code == 200


def test_a_parameter_that_takes_one_value_given_twice_is_a_400(api, world):
    response = api.get("/v1/users?limit=1&limit=2", token=world.admin_token)
    assert response.status_code == 400
    assert error(response)["details"] == {"limit": ["Given more than once; this parameter takes one value."]}


def test_a_write_with_a_query_string_is_refused_before_it_runs(api, world):
    response = api.post("/v1/api-keys?dryRun=true", {"name": "ci", "profile": "read-only"}, token=world.admin_token)
    assert response.status_code == 400 and error(response)["details"] == {"dryRun": ["Unknown query parameter."]}
    assert not ApiKey.objects.filter(tenant=world.tenant, name="ci").exists()


@pytest.mark.parametrize("query", ["profile=nope", "status=gone", "actor=", "status=", "createdAtTo="])
def test_a_filter_out_of_its_enum_or_sent_empty_is_a_400(api, world, query):
    path = "/v1/audit-logs" if query.startswith("actor") else "/v1/api-keys"
    response = api.get(f"{path}?{query}", token=world.admin_token)
    assert response.status_code == 400 and query.split("=")[0] in error(response)["details"]


def test_an_empty_search_is_a_search_for_everything(api, world):
    assert api.get("/v1/users?q=", token=world.admin_token).json()["data"]


def test_any_cursor_of_the_published_pattern_is_a_position_and_nothing_else_is(api, world):
    first = api.get("/v1/groups?limit=1", token=world.admin_token).json()
    cursor = first["meta"]["nextCursor"]
    assert api.get(f"/v1/groups?limit=1&cursor={cursor}", token=world.admin_token).status_code == 200
    made_up = "0-" + "0" * 32 + "-a"  # before everything, ascending
    assert len(api.get(f"/v1/groups?cursor={made_up}", token=world.admin_token).json()["data"]) > 1
    for bad in ("garbage", cursor + "\n", cursor.upper()):
        assert api.get(f"/v1/groups?{urlencode({'cursor': bad})}", token=world.admin_token).status_code == 400


def test_a_subscriptions_deliveries_filter_and_paginate_like_every_list(api, world, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    from audit.services import SYSTEM

    mine = create_subscription(tenant=world.tenant, url="https://hooks.example.com/a", event_types=["user.created"],
                               actor=SYSTEM).subscription
    theirs = WebhookSubscription.objects.filter(tenant=world.other).first()
    assert api.get(f"/v1/webhooks/{mine.pk}/deliveries?status=failed", token=world.admin_token).status_code == 200
    assert api.get(f"/v1/webhooks/{mine.pk}/deliveries?status=nope", token=world.admin_token).status_code == 400
    assert api.get(f"/v1/webhooks/{theirs.pk}/deliveries", token=world.admin_token).status_code == 404


def test_an_unknown_field_inside_a_nested_object_is_refused_too(api, world, staff_token):
    body = {"slug": "initech", "name": "Initech", "packageKey": "erp-basic",
            "adminUser": {"email": "boss@initech.com", "name": "Boss", "isSuperuser": True}}
    response = api.post("/v1/tenants", body, token=staff_token)
    assert response.status_code == 400
    assert error(response)["details"] == {"adminUser": {"isSuperuser": ["Unknown field."]}}
    assert not Tenant.objects.filter(slug="initech").exists()


def test_a_schema_valid_body_naming_what_the_catalog_lacks_is_a_422(api, world, staff_token):
    body = {"slug": "initech", "name": "Initech", "packageKey": "no-such-package",
            "adminUser": {"email": "boss@initech.com", "name": "Boss"}}
    response = api.post("/v1/tenants", body, token=staff_token)
    assert response.status_code == 422 and error(response)["code"] == "UNPROCESSABLE"
    assert error(response)["details"] == {"packageKey": ['No package "no-such-package".']}


def test_a_status_change_always_carries_its_reason(api, world):
    group = api.get("/v1/groups?limit=1", token=world.admin_token).json()["data"][0]
    missing = api.call("PATCH", f"/v1/groups/{group['id']}/status", {"status": "active"}, token=world.admin_token)
    assert missing.status_code == 400 and error(missing)["details"] == {"reason": ["This field is required."]}


def test_only_an_api_key_is_exchanged_and_only_a_session_logs_out(api, world):
    response = api.post("/v1/auth/token", token=world.admin_token)
    assert response.status_code == 403 and error(response)["code"] == "CREDENTIAL_NOT_ALLOWED"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_trailing_slash_is_a_404_in_the_envelope_never_a_redirect(api, world, method):
    response = api.call(method, "/v1/users/", {} if method == "POST" else None, token=world.admin_token)
    assert response.status_code == 404 and error(response)["code"] == "NOT_FOUND"


@pytest.mark.parametrize("email, status", [
    ("rep@acme.com", 201), ("0@0.a", 400), ("rep@acme.com\n", 400), (" rep@acme.com", 400), ("a" * 65 + "@acme.com", 400),
])
def test_an_email_is_taken_exactly_when_its_published_pattern_says_so(api, world, email, status):
    response = api.post("/v1/users", {"email": email}, token=world.admin_token)
    assert response.status_code == status, response.content
