"""OpenTelemetry end to end: a request's trace id reaches its outbox event, the Celery task, the
webhook delivery and the log lines, exported over OTLP/HTTP to a collector stand-in on loopback."""

import json
import secrets

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from audit.models import AuditLog
from audit.services import SYSTEM
from outbox.models import OutboxEvent
from outbox.services import create_subscription
from tests.outbox.receiver import Receiver
from tests.runtime import celery_workers, wait_for, web_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def exported_spans(collector) -> list[dict]:
    """The spans OTLP/HTTP exports brought to the collector stand-in, each as a small dict."""
    spans = []
    for hit in collector.received:
        for resource_spans in ExportTraceServiceRequest.FromString(hit["raw"]).resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            spans += [
                {"traceId": span.trace_id.hex(), "name": span.name, "kind": span.kind,
                 "service": resource.get("service.name"),
                 "attributes": {a.key: a.value.string_value for a in span.attributes}}
                for scope_spans in resource_spans.scope_spans for span in scope_spans.spans
            ]
    return spans


def _queued_messages() -> int:
    from config.celery import app

    with app.connection_for_write() as conn:
        return conn.default_channel.queue_declare("celery", passive=True).message_count


def _origin(span) -> str:
    if span["kind"] == 2:  # SERVER: the Django request
        return "SERVER"
    if span["attributes"].get("db.system") == "postgresql":
        return "psycopg"
    if span["name"].startswith("run/outbox.tasks.drain_outbox"):
        return "celery"
    return "webhook" if span["name"] == "webhook.deliver" else span["name"]


def test_a_trace_id_links_the_request_to_its_outbox_event_and_webhook(world, tmp_path, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    trace_id = secrets.token_hex(16)
    log_path = tmp_path / "web.log"

    def in_trace():
        return [span for span in exported_spans(collector) if span["traceId"] == trace_id]

    with Receiver() as collector, Receiver() as receiver:
        otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.base, "OTEL_SERVICE_NAME": "hub-under-test",
                "OTEL_BSP_SCHEDULE_DELAY": "100"}
        create_subscription(tenant=world.tenant, url=receiver.url, event_types=["user.created"], actor=SYSTEM)
        with web_server(log_path=log_path, **otel) as web, celery_workers(1, **otel):
            status, body, _ = web.call(
                "POST", "/v1/users", {"email": "traced@acme.com", "name": "Traced"}, token=world.admin_token,
                headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01", "Idempotency-Key": "trace-1"},
            )
            assert status == 201, body
            assert wait_for(lambda: receiver.received, 60)
            # Each process exports its spans in batches, every 100 ms here: wait for all of them.
            expected = {"SERVER", "psycopg", "celery", "webhook"}
            assert wait_for(lambda: expected <= {_origin(s) for s in in_trace()}, 60), (
                {_origin(s) for s in in_trace()}, _queued_messages())

    event = OutboxEvent.objects.get(tenant=world.tenant, type="user.created", payload__data__userId=body["data"]["id"])
    assert event.payload["traceparent"].startswith(f"00-{trace_id}-")
    delivered = receiver.received[0]["headers"]
    assert delivered["webhook-id"] == str(event.pk)
    assert delivered["traceparent"].startswith(f"00-{trace_id}-")

    spans = in_trace()
    assert {span["service"] for span in spans} == {"hub-under-test"}
    server = [span for span in spans if _origin(span) == "SERVER"]
    assert len(server) == 1 and server[0]["attributes"]["http.route"].startswith("v1/users")
    delivery = next(span for span in spans if span["name"] == "webhook.deliver")
    assert delivery["attributes"]["messaging.message.id"] == str(event.pk)

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("path") == "/v1/users" and line.get("message") == "request"]
    assert access and access[0]["traceId"] == trace_id
    entry = AuditLog.objects.get(tenant=world.tenant, action="users.create", entity_id=body["data"]["id"])
    assert entry.metadata["traceId"] == trace_id
