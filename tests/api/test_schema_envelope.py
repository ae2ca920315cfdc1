"""The schema documents the bodies the hub writes: successes in their envelope, every error status."""

import pytest
from drf_spectacular.generators import SchemaGenerator

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [(f"{method.upper()} {path}", operation) for path, item in schema["paths"].items()
            for method, operation in item.items()]


def _json_schema(response):
    return response.get("content", {}).get("application/json", {}).get("schema")


def test_every_success_body_is_in_the_envelope_the_renderer_writes(operations):
    for name, operation in operations:
        for status, response in operation["responses"].items():
            schema = _json_schema(response)
            if not status.startswith("2") or schema is None or operation.get("x-bare-body"):
                continue
            paginated = schema.get("$ref", "").startswith("#/components/schemas/Paginated")
            assert paginated or schema.get("required") == ["data"], f"{name} {status} is not {{data}}: {schema}"


def test_every_operation_documents_its_errors_in_the_error_envelope(operations):
    for name, operation in operations:
        responses = operation["responses"]
        assert {"400", "500", "503"} <= set(responses), name
        for status, response in responses.items():
            if status in ("414", "431"):  # gunicorn's own HTML page, before the hub runs
                assert set(response["content"]) == {"text/html"}, f"{name} {status}"
            elif status >= "400":
                assert _json_schema(response) == {"$ref": ERROR_REF}, f"{name} {status}"
        if operation.get("x-tool-action") not in (None, "public") or name.startswith("POST /v1/auth/"):
            assert {"401", "403", "429"} <= set(responses), name
        if "{" in name:
            assert "404" in responses, name


def test_the_shapes_documented_are_the_shapes_answered(api, world):
    user_id = str(world.admin.pk)
    assert set(api.get(f"/v1/users/{user_id}", token=world.admin_token).json()) == {"data"}
    assert set(api.get("/v1/users", token=world.admin_token).json()) == {"data", "meta"}
    error = api.get("/v1/users/00000000-0000-0000-0000-000000000000", token=world.admin_token).json()
    assert set(error) == {"error"} and {"code", "message", "requestId"} <= set(error["error"])
    assert set(api.get("/health").json()) == {"data"}


def test_shown_once_and_once_bare_bodies_have_their_documented_fields(api, world):
    created = api.post("/v1/webhooks", {"url": "https://hooks.example.com/a", "eventTypes": ["user.created"]},
                       token=world.admin_token).json()["data"]
    assert created["secret"].startswith("whsec_")
    me = api.get("/v1/me", token=world.admin_token).json()["data"]
    assert set(me) == {"principal", "tenant", "groups", "permissions", "packages", "branding"}
    assert isinstance(api.get("/v1/usage", token=world.admin_token).json()["data"], list)
    check = api.post("/v1/authz/check", {"toolActions": ["users.read"]}, token=world.admin_token).json()["data"]
    assert check == {"users.read": True}
