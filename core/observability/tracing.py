"""OpenTelemetry tracing, switched on by OTEL_EXPORTER_OTLP_ENDPOINT.

With it, every process exports spans over OTLP/HTTP: Django requests, psycopg queries, Celery
publishes and task runs. The `traceparent` of the request that wrote an outbox event is kept in
the event, and its webhook deliveries continue that trace and send it on to the receiver, so one
trace id follows a change from the HTTP request to the receiver's endpoint.

Without it the OpenTelemetry API is a no-op: the helpers below cost nothing and add nothing.
"""

from contextlib import contextmanager

from opentelemetry import propagate, trace
from opentelemetry.trace import format_span_id, format_trace_id

__all__ = ["configure_tracing", "continue_trace", "current_trace_id", "current_traceparent", "add_trace_ids"]

tracer = trace.get_tracer("aza8.hub")


def configure_tracing(*, service_name: str) -> None:
    """Export spans (the exporter reads OTEL_EXPORTER_OTLP_* itself) and instrument the libraries."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    # The batch processor restarts its export thread after a fork (Celery's prefork pool).
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()
    PsycopgInstrumentor().instrument()
    CeleryInstrumentor().instrument()


def current_traceparent() -> str | None:
    """The W3C `traceparent` of the current span, when there is one."""
    carrier = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format_trace_id(context.trace_id) if context.is_valid else None


@contextmanager
def continue_trace(name: str, traceparent: str | None, attributes: dict):
    """A span in the trace `traceparent` names; yields the headers that carry it further."""
    parent = propagate.extract({"traceparent": traceparent}) if traceparent else None
    with tracer.start_as_current_span(name, context=parent, kind=trace.SpanKind.CLIENT, attributes=attributes):
        headers = {}
        propagate.inject(headers)
        yield headers


def add_trace_ids(_logger, _method, event_dict):
    """structlog processor: the log line names the trace and span it was written in."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("traceId", format_trace_id(context.trace_id))
        event_dict.setdefault("spanId", format_span_id(context.span_id))
    return event_dict
