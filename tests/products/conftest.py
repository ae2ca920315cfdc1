"""A live hub for the SDKs and the example products: gunicorn and a Celery worker on the test's database,
a tenant holding erp-basic (and the package of the product's action when it is another tool's) with a
user granted that action and one who is not, a product credential for its tool issued by the hub's
service, and a receiver for the hub's product events."""

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

import pytest
from django.core.cache import cache

from audit.services import SYSTEM
from catalog.models import Package, ToolAction
from identity.product_credentials import issue_product_credential
from identity.services import add_member, create_group, create_user, grant_permissions
from tenancy.models import Tenant
from tenancy.services import assign_package
from tests.contract.conftest import UNLIMITED, login, platform_admin, tenant_admin
from tests.identity.conftest import PASSWORD
from tests.outbox.receiver import Server
from tests.runtime import HttpClient, celery_workers, web_server

READ = "erp.vehicles.read"


@dataclass
class World:
    hub: HttpClient
    tenant_id: str
    staff: str  # a platform admin's access token
    admin: str  # the tenant admin's access token (ADM_CLIENTE: every entitled action)
    reader_id: str
    group_id: str
    permission_id: str  # the group's grant of `action`, the reader's only permission
    credential: str  # aza8p_… for the action's tool
    action: str = READ  # the product's action the reader is granted and the outsider is not

    def ok(self, method, path, body=None, *, token=None, expect=200, **headers) -> dict:
        status, answer, _ = self.hub.call(method, path, body, token=token, headers=headers or None)
        assert status == expect, (method, path, status, answer)
        return answer.get("data", {})

    def login(self, email: str) -> dict:
        return self.ok("POST", "/v1/auth/login", {"tenant": "acme", "email": email, "password": PASSWORD})

    def subscribe(self, url: str) -> dict:
        """A product subscription to access.changed (id, secret)."""
        return self.ok("POST", "/v1/product/webhooks", {"url": url, "eventTypes": ["access.changed"]},
                       token=self.credential, expect=201)

    def revoke_read(self) -> None:
        self.ok("DELETE", f"/v1/groups/{self.group_id}/permissions/{self.permission_id}", token=self.admin,
                expect=204)

    def grant_read(self) -> None:
        granted = self.ok("POST", f"/v1/groups/{self.group_id}/permissions", {"toolActions": [self.action]},
                          token=self.admin, expect=201)
        self.permission_id = granted[0]["id"]

    def usage(self, tool_action: str) -> int:
        totals = self.ok("GET", f"/v1/usage?toolAction={tool_action}", token=self.admin)
        return sum(total["count"] for total in totals)


class EventSink:
    """The product's webhook endpoint: hands each delivery to `sdk.webhooks.handle` (set `sdk` first)
    and keeps what came: (raw body, headers, outcome)."""

    def __init__(self):
        self.sdk, self.received = None, []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = dict(self.headers.items())
                try:
                    outcome = sink.sdk.webhooks.handle(raw, headers) if sink.sdk else None
                    status = 204
                except Exception as exc:  # noqa: BLE001 - an answer the hub will retry, and a record of why
                    outcome, status = exc, 400
                sink.received.append((raw, headers, outcome))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def world(request, seeded, transactional_db):
    """The ERP's world; `@pytest.mark.parametrize("world", [action], indirect=True)` for another one."""
    action = ToolAction.objects.select_related("tool").get(key=getattr(request, "param", READ))
    _, staff_email = platform_admin()
    tenant_admin()
    tenant = Tenant.objects.get(slug="acme")
    if action.tool.key != "erp":
        assign_package(tenant=tenant, package=Package.objects.filter(actions=action).earliest("key"), actor=SYSTEM)
    reader = create_user(tenant=tenant, email="reader@acme.com", password=PASSWORD).user
    create_user(tenant=tenant, email="outsider@acme.com", password=PASSWORD)
    group = create_group(tenant=tenant, name="Product users", actor=SYSTEM)
    [permission] = grant_permissions(group=group, tool_action_keys=[action.key], actor=SYSTEM)
    add_member(group=group, user=reader, actor=SYSTEM)
    credential = issue_product_credential(tool=action.tool, name=f"{action.tool.key}-backend").secret
    with web_server(workers=2, **UNLIMITED) as hub, celery_workers(1):
        yield World(hub=hub, tenant_id=str(tenant.pk), staff=login(hub, "aza8", staff_email),
                    admin=login(hub, "acme", "admin@acme.com"), reader_id=str(reader.pk), group_id=str(group.pk),
                    permission_id=str(permission.pk), credential=credential, action=action.key)
    cache.clear()


@pytest.fixture
def sink():
    receiver = EventSink()
    yield receiver
    receiver.close()
