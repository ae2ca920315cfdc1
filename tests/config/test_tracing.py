"""OpenTelemetry end to end: a request's trace id reaches its outbox event, the Celery task, the
webhook delivery and the log lines, exported over OTLP/HTTP to a collector stand-in on loopback."""

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from audit.models import AuditLog
from audit.services import SYSTEM
from outbox.models import OutboxEvent
from outbox.services import create_subscription
from tests.outbox.receiver import Receiver
from tests.runtime import celery_workers, wait_for, web_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class Collector:
    """Accepts OTLP/HTTP protobuf exports and keeps each span as a small dict."""

    def __init__(self):
        self.spans = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                export = ExportTraceServiceRequest.FromString(self.rfile.read(int(self.headers["Content-Length"])))
                for resource_spans in export.resource_spans:
                    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                    for scope_spans in resource_spans.scope_spans:
                        for span in scope_spans.spans:
                            collector.spans.append({
                                "traceId": span.trace_id.hex(), "name": span.name, "kind": span.kind,
                                "service": resource.get("service.name"),
                                "attributes": {a.key: a.value.string_value for a in span.attributes},
                            })
                body = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def in_trace(self, trace_id):
        return [span for span in self.spans if span["traceId"] == trace_id]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_trace_id_links_the_request_to_its_outbox_event_and_webhook(world, tmp_path, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    collector = Collector()
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_SERVICE_NAME": "hub-under-test",
            "OTEL_BSP_SCHEDULE_DELAY": "100"}
    trace_id = secrets.token_hex(16)
    log_path = tmp_path / "web.log"
    with Receiver() as receiver:
        create_subscription(tenant=world.tenant, url=receiver.url, event_types=["user.created"], actor=SYSTEM)
        with web_server(log_path=log_path, **otel) as web, celery_workers(1, **otel):
            status, body, _ = web.call(
                "POST", "/v1/users", {"email": "traced@acme.com", "name": "Traced"}, token=world.admin_token,
                headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01", "Idempotency-Key": "trace-1"},
            )
            assert status == 201, body
            assert wait_for(lambda: receiver.received, 60)
            # Spans are exported in batches every 100 ms; the worker's last one closes after the POST.
            assert wait_for(lambda: {"webhook.deliver"} <= {s["name"] for s in collector.in_trace(trace_id)}, 20)
    collector.close()

    event = OutboxEvent.objects.get(tenant=world.tenant, type="user.created", payload__data__userId=body["data"]["id"])
    assert event.payload["traceparent"].startswith(f"00-{trace_id}-")
    delivered = receiver.received[0]["headers"]
    assert delivered["webhook-id"] == str(event.pk)
    assert delivered["traceparent"].startswith(f"00-{trace_id}-")

    spans = collector.in_trace(trace_id)
    assert {span["service"] for span in spans} == {"hub-under-test"}
    server = [span for span in spans if span["kind"] == 2]  # SERVER: the Django request
    assert server and server[0]["attributes"].get("http.route", "").startswith("v1/users")
    assert any(span["attributes"].get("db.system") == "postgresql" for span in spans)  # psycopg
    assert any(span["name"].startswith("run/outbox.tasks.drain_outbox") for span in spans)  # Celery
    delivery = next(span for span in spans if span["name"] == "webhook.deliver")
    assert delivery["attributes"]["messaging.message.id"] == str(event.pk)

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("path") == "/v1/users" and line.get("message") == "request"]
    assert access and access[0]["traceId"] == trace_id
    entry = AuditLog.objects.get(tenant=world.tenant, action="users.create", entity_id=body["data"]["id"])
    assert entry.metadata["traceId"] == trace_id
