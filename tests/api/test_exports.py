"""POST /v1/exports → a worker builds the document → GET /v1/exports/{id} → download."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditLog
from audit.services import SYSTEM
from branding.services import replace_branding, replace_config
from exports.document import SECTIONS
from exports.models import ExportStatus, TenantExport
from exports.services import build_export
from identity.api_keys import split_key
from identity.models import ApiKey, Invitation, RefreshToken, User
from identity.services import create_api_key, create_user
from integrations.services import create_credential
from outbox.services import create_subscription
from tests.api.conftest import PASSWORD
from tests.factories import ToolActionFactory
from usage.models import UsageMetric

pytestmark = pytest.mark.django_db

CREDENTIAL_SECRET = "integration-secret-value-x9"


def secrets_of(world, api):
    """Every secret the tenant's data involves, as the hub handed them out or stored them."""
    key = create_api_key(tenant=world.tenant, name="export-ci", profile="read-only").key
    invited = create_user(tenant=world.tenant, email="invited@acme.com", name="Invited")
    webhook = create_subscription(tenant=world.tenant, url="https://hooks.example.com/x", event_types=["user.created"],
                                  actor=SYSTEM)
    create_credential(tenant=world.tenant, provider="stripe", name="billing", data={"apiKey": CREDENTIAL_SECRET},
                      actor=SYSTEM)
    session = api.login(world.tenant, "admin@acme.com").json()["data"]
    stored = [
        *ApiKey.objects.filter(tenant=world.tenant).values_list("digest", flat=True),
        *RefreshToken.objects.filter(tenant=world.tenant).values_list("token_hash", flat=True),
        *Invitation.objects.filter(tenant=world.tenant).values_list("token_hash", flat=True),
        *User.objects.filter(tenant=world.tenant).exclude(password="").values_list("password", flat=True),
    ]
    # The secret part as the hub parses it: the secret itself may hold "_", so never split by hand.
    return [key, split_key(key)[1], invited.invitation.token, webhook.secret, CREDENTIAL_SECRET, PASSWORD,
            session["accessToken"], session["refreshToken"], *stored]


def requested(api, world):
    response = api.post("/v1/exports", token=world.admin_token)
    assert response.status_code == 201, response.content
    return response.json()["data"]


def test_the_document_holds_every_part_of_the_tenant_and_no_secret(api, world):
    secrets = secrets_of(world, api)
    replace_branding(tenant=world.tenant, actor=SYSTEM, logo_url="", primary_color="#112233", secondary_color="",
                     domain=None)
    replace_config(tenant=world.tenant, actor=SYSTEM, flags={"beta": True}, limits={})
    UsageMetric.objects.create(tenant=world.tenant, tool_action=ToolActionFactory(), period_start=timezone.now(),
                               period_end=timezone.now() + timedelta(hours=1), count=7)
    export = requested(api, world)
    assert export["status"] == "pending" and export["downloadUrl"] is None

    assert build_export(export["id"]) == ExportStatus.DONE

    status = api.get(f"/v1/exports/{export['id']}", token=world.admin_token).json()["data"]
    assert status["status"] == "done" and status["downloadUrl"].endswith(f"/v1/exports/{export['id']}/download")
    download = api.get(f"/v1/exports/{export['id']}/download", token=world.admin_token)
    assert download.status_code == 200 and download["Content-Type"] == "application/json"
    assert 'filename="acme-export-' in download["Content-Disposition"]
    text = download.content.decode()
    document = json.loads(text)
    assert set(SECTIONS) <= set(document)
    for section in SECTIONS:
        assert document[section], section
    assert document["tenant"]["id"] == str(world.tenant.pk)
    assert {"admin@acme.com", "invited@acme.com"} <= {user["email"] for user in document["users"]}
    assert {"ADM_CLIENTE", "VIEWER"} <= {group["name"] for group in document["groups"]}
    assert "users.read" in {grant["toolAction"] for grant in document["permissions"]}
    assert {"acme-ci", "export-ci"} <= {key["name"] for key in document["apiKeys"]}
    assert document["usage"][0]["count"] == 7
    assert document["branding"]["primaryColor"] == "#112233" and document["config"]["flags"] == {"beta": True}
    assert [entry["sequence"] for entry in document["auditLog"]] == sorted(e["sequence"] for e in document["auditLog"])
    assert document["integrationCredentials"][0]["provider"] == "stripe"
    # Nothing of another tenant, no secret, no hash.
    assert "globex" not in text
    for secret in secrets:
        assert secret not in text
    assert "$argon2" not in text and '"hash"' not in text and "prevHash" not in text
    actions = list(AuditLog.objects.filter(action="tenant.export", entity_id=export["id"]).order_by("sequence")
                   .values_list("actor_type", "metadata__status", "metadata__downloaded"))
    assert actions == [("user", "pending", None), ("system", "done", None), ("user", None, True)]


def test_one_export_at_a_time_and_a_finished_one_can_be_followed_by_another(api, world):
    first = requested(api, world)
    again = api.post("/v1/exports", token=world.admin_token)
    assert again.status_code == 409 and again.json()["error"]["code"] == "CONFLICT"
    not_ready = api.get(f"/v1/exports/{first['id']}/download", token=world.admin_token)
    assert not_ready.status_code == 409
    build_export(first["id"])
    assert requested(api, world)["id"] != first["id"]


def test_a_running_export_is_taken_over_only_once_its_worker_looks_dead(api, world, settings):
    export = requested(api, world)
    TenantExport.objects.filter(pk=export["id"]).update(status=ExportStatus.RUNNING, started_at=timezone.now())
    assert build_export(export["id"]) is None
    TenantExport.objects.filter(pk=export["id"]).update(
        started_at=timezone.now() - settings.EXPORT_STALE_AFTER - timedelta(seconds=1))
    assert build_export(export["id"]) == ExportStatus.DONE
    assert build_export(export["id"]) is None


def test_an_expired_export_is_gone_and_the_retention_run_deletes_it(api, world, settings):
    from exports.retention import purge_expired_exports

    export = requested(api, world)
    build_export(export["id"])
    row = TenantExport.objects.get(pk=export["id"])
    assert row.expires_at - row.finished_at == settings.EXPORT_LIFETIME
    TenantExport.objects.filter(pk=export["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.get(f"/v1/exports/{export['id']}", token=world.admin_token).status_code == 404
    assert api.get(f"/v1/exports/{export['id']}/download", token=world.admin_token).status_code == 404
    kept = TenantExport.objects.filter(tenant=world.other).count()
    assert purge_expired_exports(timezone.now()) == 1
    assert not TenantExport.objects.filter(pk=export["id"]).exists()
    assert TenantExport.objects.filter(tenant=world.other).count() == kept
