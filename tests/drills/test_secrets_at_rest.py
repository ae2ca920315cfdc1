"""Issue 26's secrets-at-rest drill: a live hub (gunicorn and a worker on the test database) is driven
through everything that mints a secret, each write with an Idempotency-Key so that stored answers
are exercised too; then every column of every table is searched for every secret it handed out and
every password it was sent. Rolled-back tests leave nothing to scan: this one's rows are committed.

Secrets minted inside the test process by the rest of the suite are looked for after each test by
tests/conftest.py (tests/drills/minted.py records them)."""

import base64
import hashlib
import pickle
import secrets
from collections import Counter

import pytest
from django.db import connection

from identity.api_keys import generate_key, split_key
from identity.onboarding import create_platform_staff
from outbox.models import OutboxEvent, WebhookDelivery
from outbox.webhooks import generate_secret
from tests.contract.conftest import UNLIMITED
from tests.drills.secrets_at_rest import scan_database
from tests.outbox.receiver import Receiver
from tests.runtime import celery_workers, wait_for, web_server

STAFF_PASSWORD = "drill: the staff member's passphrase"
ADMIN_PASSWORD = "drill: the tenant admin's passphrase"
USER_PASSWORD = "drill: a user created with a password"


class Session:
    """Calls to the live hub, each checked for its status, with every secret the answers hold."""

    def __init__(self, hub):
        self.hub, self.statuses, self.secrets = hub, Counter(), {}

    def call(self, method, path, body=None, *, token=None, key=None, expect=200) -> dict:
        status, answer, _ = self.hub.call(method, path, body, token=token,
                                          headers={"Idempotency-Key": key} if key else None)
        self.statuses[status] += 1
        assert status == expect, (method, path, status, answer)
        return answer.get("data", {})

    def keep(self, label: str, secret: str) -> str:
        self.secrets[f"{label} #{len(self.secrets) + 1}"] = secret
        return secret


def _sign_in(session, tenant, email, password) -> dict:
    tokens = session.call("POST", "/v1/auth/login", {"tenant": tenant, "email": email, "password": password})
    session.keep("access token", tokens["accessToken"])
    session.keep("refresh token", tokens["refreshToken"])
    return tokens


def _mint_everything(session, receiver_url):
    staff = _sign_in(session, "aza8", "staff@aza8.local", STAFF_PASSWORD)["accessToken"]
    onboarded = session.call("POST", "/v1/tenants", {
        "slug": "drill", "name": "Drill", "packageKey": "erp-basic",
        "adminUser": {"email": "admin@drill.example.com", "name": "Drill Admin"},
    }, token=staff, key="onboard", expect=201)
    invitation = session.keep("invitation token", onboarded["adminUser"]["invitation"]["token"])
    session.call("POST", "/v1/auth/invitations/accept", {"token": invitation, "password": ADMIN_PASSWORD})
    first = _sign_in(session, "drill", "admin@drill.example.com", ADMIN_PASSWORD)
    renewed = session.call("POST", "/v1/auth/refresh", {"refreshToken": first["refreshToken"]})
    admin = session.keep("access token", renewed["accessToken"])
    session.keep("refresh token", renewed["refreshToken"])

    invited = session.call("POST", "/v1/users", {"email": "invited@drill.example.com"}, token=admin, key="u1", expect=201)
    session.keep("invitation token", invited["invitation"]["token"])
    session.call("POST", "/v1/users", {"email": "set@drill.example.com", "password": USER_PASSWORD},
                 token=admin, key="u2", expect=201)

    created = session.call("POST", "/v1/api-keys", {"name": "drill", "profile": "admin"}, token=admin, key="k1", expect=201)
    session.keep("API key", created["key"])
    rotated = session.call("POST", f"/v1/api-keys/{created['id']}/rotate", token=admin, key="k2")
    service = session.call("POST", "/v1/auth/token", token=session.keep("API key", rotated["key"]))
    session.keep("access token", service["accessToken"])

    webhook = session.call("POST", "/v1/webhooks", {"url": receiver_url, "eventTypes": ["user.created"]},
                           token=admin, key="w1", expect=201)
    session.keep("webhook secret", webhook["secret"])
    rotated = session.call("POST", f"/v1/webhooks/{webhook['id']}/rotate-secret", token=admin, key="w2")
    session.keep("webhook secret", rotated["secret"])

    lent = {"apiKey": session.keep("credential", "sk_live_" + secrets.token_hex(16)),
            "signingSecret": session.keep("credential", secrets.token_urlsafe(24))}
    session.call("POST", "/v1/integrations/credentials", {"provider": "stripe", "name": "drill", "data": lent},
                 token=admin, key="c1", expect=201)
    # After the subscription: an event to deliver, signed with the secrets above.
    session.call("POST", "/v1/users", {"email": "late@drill.example.com"}, token=admin, key="u3", expect=201)
    session.call("POST", "/v1/api-keys", {"name": "drill", "profile": "admin"}, token=admin, key="k1", expect=201)
    session.call("POST", "/v1/auth/logout", {"refreshToken": renewed["refreshToken"]}, token=admin, expect=204)


@pytest.mark.slow
@pytest.mark.once
def test_no_secret_the_hub_hands_out_is_stored_in_plaintext(seeded, transactional_db):
    create_platform_staff(email="staff@aza8.local", password=STAFF_PASSWORD, name="Staff")
    with Receiver() as receiver, web_server(workers=2, **UNLIMITED) as hub, celery_workers(1):
        session = Session(hub)
        _mint_everything(session, receiver.url)
        assert wait_for(lambda: not WebhookDelivery.objects.exclude(status="succeeded").exists()
                        and len(receiver.received) >= 1, 30)
    sought = {**session.secrets, "staff password": STAFF_PASSWORD, "admin password": ADMIN_PASSWORD,
              "user password": USER_PASSWORD}
    scan = scan_database(sought)
    print(f"\nsecrets at rest drill: {sum(session.statuses.values())} requests, answers by status "
          f"{dict(session.statuses)}, {OutboxEvent.objects.count()} events, {len(receiver.received)} deliveries, "
          f"{len(sought)} secrets sought; {scan}")
    assert scan.rows > 100
    assert not scan.findings, str(scan)


@pytest.mark.django_db
def test_the_scan_finds_a_planted_secret_wherever_it_lies():
    """Random part of an API key in text, a webhook secret inside JSON, an invitation token inside
    bytes, a refresh token in a pickled cache value; a digest of a password is no finding."""
    api_key, webhook, invitation = generate_key().full_key, generate_secret(), secrets.token_urlsafe(32)
    refresh = f"{secrets.token_hex(16)}.{secrets.token_urlsafe(32)}"
    password = "a password only its digest may show"
    planted = {"api key": api_key, "webhook secret": webhook, "invitation token": invitation,
               "refresh token": refresh, "password": password}
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE planted (note text, doc jsonb, blob bytea, cached text, digest text)")
        try:
            cursor.execute("INSERT INTO planted VALUES (%s, %s, %s, %s, %s)", [
                f"key …{split_key(api_key)[1]}… in a note", f'{{"outer": {{"list": [1, "{webhook}"]}}}}',
                b"\x00\x01" + invitation.encode() + b"\xff",
                base64.b64encode(pickle.dumps({"session": refresh})).decode(), hashlib.sha256(password.encode()).hexdigest(),
            ])
            found = {(f.table, f.column, f.rows, f.secrets)
                     for f in scan_database(planted, base64_columns={("planted", "cached")}).findings}
            cursor.execute("DELETE FROM planted")
            clean = scan_database(planted, base64_columns={("planted", "cached")})
        finally:
            cursor.execute("DROP TABLE planted")
    assert found == {("planted", "note", 1, ("api key",)), ("planted", "doc", 1, ("webhook secret",)),
                     ("planted", "blob", 1, ("invitation token",)), ("planted", "cached", 1, ("refresh token",))}
    assert not clean.findings and clean.rows >= 0
