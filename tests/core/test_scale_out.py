"""Scale-out needs no code change: two web servers and two Celery workers on one database share
every piece of state that matters — rate limits, the token blacklist, permission caches, the
outbox — and each server's /metrics adds up its own gunicorn workers (docs/scaling.md)."""

import re
import time
from pathlib import Path

import pytest
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from audit.services import SYSTEM
from identity.models import GroupPermission
from identity.services import add_member, create_group, create_user, grant_permissions
from outbox.services import create_subscription
from tests.api.conftest import PASSWORD
from tests.outbox.receiver import Receiver
from tests.runtime import celery_workers, database_url, wait_for, web_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

METRICS_TOKEN = "scale-out-metrics-token-0123456789"


def login(web, email, password=PASSWORD):
    return web.call("POST", "/v1/auth/login", {"tenant": "acme", "email": email, "password": password})


def metric(web, name, **labels) -> float:
    status, body, _ = web.call("GET", "/metrics", token=METRICS_TOKEN)
    assert status == 200
    for family in text_string_to_metric_families(body["text"]):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_two_web_servers_and_two_workers_share_all_state(world, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    reader = create_user(tenant=world.tenant, email="reader@acme.com", password=PASSWORD).user
    readers = create_group(tenant=world.tenant, name="readers", actor=SYSTEM)
    grant_permissions(group=readers, tool_action_keys=["users.read"], actor=SYSTEM)
    add_member(group=readers, user=reader, actor=SYSTEM)
    users_read = GroupPermission.objects.get(group=readers, tool_action__key="users.read")
    url = database_url(connection.settings_dict)
    replica_url = url + ("&" if "?" in url else "?") + "application_name=hub-replica-stand-in"
    shared = {"METRICS_TOKEN": METRICS_TOKEN, "DATABASE_POOLED": "true"}

    with Receiver() as receiver:
        create_subscription(tenant=world.tenant, url=receiver.url, event_types=["group.permission.changed"],
                            actor=SYSTEM)
        with (
            web_server(workers=2, **shared) as a,
            web_server(workers=1, DATABASE_REPLICA_URL=replica_url, **shared) as b,
            celery_workers(2),
        ):
            # Rate limits: five login attempts per address, tenant and email, counted across servers.
            answers = [login(server, "ghost@acme.com", "wrong password!")[0] for server in (a, a, a, b, b)]
            assert answers == [401] * 5
            assert login(a, "ghost@acme.com", "wrong password!")[0] == 429
            assert login(b, "ghost@acme.com", "wrong password!")[0] == 429

            # The token blacklist: logged out on A, refused on B at once.
            status, body, _ = login(a, "reader@acme.com")
            assert status == 200, body
            access = body["data"]["accessToken"]
            assert b.call("GET", "/v1/me", token=access)[0] == 200
            assert a.call("POST", "/v1/auth/logout", {}, token=access)[0] == 204
            status, body, _ = b.call("GET", "/v1/me", token=access)
            assert status == 401 and body["error"]["code"] == "TOKEN_REVOKED"

            # Permission caches: B caches the reader's permissions, A revokes one, B enforces it at once.
            access = login(b, "reader@acme.com")[1]["data"]["accessToken"]
            assert b.call("GET", "/v1/users", token=access)[0] == 200
            revoked = a.call("DELETE", f"/v1/groups/{readers.pk}/permissions/{users_read.pk}", token=world.admin_token)
            assert revoked[0] == 204, revoked
            status, body, _ = b.call("GET", "/v1/users", token=access)
            assert status == 403 and body["error"]["details"]["toolAction"] == "users.read"

            # The outbox: one of the two workers delivers the change, exactly once.
            assert wait_for(lambda: receiver.received, 60)
            time.sleep(1)  # a second delivery would arrive now
            assert len(receiver.received) == 1

            # /metrics on A counts what both of its gunicorn workers answered.
            assert metric(a, "hub_api_errors_total", code="UNAUTHORIZED") == 3
            assert metric(a, "hub_api_errors_total", code="RATE_LIMITED") == 1
            assert metric(a, "hub_logins_total", outcome="unknown_account") == 3
            assert metric(b, "hub_logins_total", outcome="rate_limited") == 1
            assert metric(a, "hub_webhook_deliveries", status="succeeded") == 1

            # B reads the audit trail from its replica (a stand-in: the same database, named apart).
            status, body, _ = b.call("GET", "/v1/audit-logs?action=groups.permissions.revoke", token=world.admin_token)
            assert status == 200 and len(body["data"]) == 1
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                               ["hub-replica-stand-in"])
                assert cursor.fetchone()[0] >= 1


@pytest.mark.django_db(transaction=False)
def test_no_session_state_a_transaction_pooler_would_lose():
    """Behind PgBouncer in transaction mode, consecutive transactions may run on different server
    sessions: session-level advisory locks and plain SET would leak to, or vanish from, a stranger."""

    project = Path(__file__).resolve().parents[2]
    session_state = re.compile(
        r"pg_(try_)?advisory_lock(_shared)?\(|[\"']SET (SESSION )?[a-z_.]+\s*(TO|=)|set_config\([^)]*false"
    )
    sources = [path for path in project.rglob("*.py") if not path.is_relative_to(project / ".venv")
               and not path.is_relative_to(project / "tests")]
    offenders = [f"{path.relative_to(project)}:{number}" for path in sources
                 for number, line in enumerate(path.read_text().splitlines(), 1) if session_state.search(line)]
    assert offenders == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'audit_append'")
        assert "pg_advisory_xact_lock(" in cursor.fetchone()[0]
