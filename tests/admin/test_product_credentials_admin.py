"""Product credentials in the back office (issue 27): staff issue, rotate and revoke them through
identity/product_credentials.py; a new secret is shown once, on a page nobody caches."""

import pytest

from audit.models import AuditLog
from catalog.models import Tool
from identity.models import ProductCredential
from identity.product_credentials import CREDENTIAL_PATTERN, issue_product_credential
from tests.admin.test_back_office import messages_of, run_action

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/identity/productcredential/"


def shown(response) -> list[str]:
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    secrets = [secret for _credential, secret in response.context["issued"]]
    page = response.content.decode()
    assert all(CREDENTIAL_PATTERN.match(secret) and secret in page for secret in secrets)
    return secrets


def test_staff_issue_a_credential_and_see_it_once(operator_client, api, seeded):
    erp = Tool.objects.get(key="erp")
    assert operator_client.get(f"{CHANGELIST}add/").status_code == 200
    [secret] = shown(operator_client.post(f"{CHANGELIST}add/", {"tool": str(erp.pk), "name": "erp-backend"}))
    credential = ProductCredential.objects.get()
    assert credential.tool == erp and secret.split("_")[1] == credential.prefix
    page = operator_client.get(f"{CHANGELIST}{credential.pk}/change/").content.decode()
    assert credential.prefix in page and credential.key_hash not in page and secret not in page
    assert operator_client.get(CHANGELIST).status_code == 200
    assert AuditLog.objects.filter(action="product_credentials.create", entity_id=str(credential.pk)).exists()


def test_the_hubs_own_tool_is_refused_with_a_message(operator_client, seeded):
    hub = Tool.objects.get(key="hub")
    response = operator_client.post(f"{CHANGELIST}add/", {"tool": str(hub.pk), "name": "hub"}, follow=True)
    assert any("own tool" in message for message in messages_of(response))
    assert not ProductCredential.objects.exists()


def test_rotate_shows_the_new_secret_and_revoke_asks_for_a_reason(operator_client, api, seeded):
    issued = issue_product_credential(tool=Tool.objects.get(key="erp"), name="erp-backend")
    [rotated] = shown(run_action(operator_client, CHANGELIST, "rotate", [issued.credential]))
    assert rotated != issued.secret
    assert api.get("/v1/me", token=issued.secret).json()["error"]["code"] == "INVALID_TOKEN"
    asked = run_action(operator_client, CHANGELIST, "revoke", [issued.credential])
    assert asked.status_code == 200 and ProductCredential.objects.get().status == "active"
    run_action(operator_client, CHANGELIST, "revoke", [issued.credential], reason="Leaked in a log")
    assert ProductCredential.objects.get().status == "revoked"
    assert api.get("/v1/me", token=rotated).json()["error"]["code"] == "TOKEN_REVOKED"
    entry = AuditLog.objects.get(action="product_credentials.revoke")
    assert entry.metadata["reason"] == "Leaked in a log"


def test_support_reads_but_cannot_issue(support_client, seeded):
    issue_product_credential(tool=Tool.objects.get(key="erp"), name="erp-backend")
    assert support_client.get(CHANGELIST).status_code == 200
    assert support_client.get(f"{CHANGELIST}add/").status_code == 403
