"""Request plumbing: request ids, the access log line, and JSON errors outside DRF."""

import time

import structlog
from django.conf import settings

from core.api.exceptions import json_error_response
from core.observability.metrics import API_ERRORS
from core.observability.sentry import tag_request
from core.observability.tracing import current_trace_id
from core.request_context import RequestInfo, bind_request, new_request_id, reset_request

__all__ = ["ApiExceptionMiddleware", "RequestIdMiddleware", "client_ip", "is_api_path"]

access_log = structlog.get_logger("hub.access")

_API_PREFIXES = ("/v1/", "/health", "/.well-known/", "/metrics")


def is_api_path(path: str) -> bool:
    return path.startswith(_API_PREFIXES) or path == "/v1"


def client_ip(request) -> str | None:
    """The caller's address; X-Forwarded-For is believed only for the configured proxy hops."""
    proxies = getattr(settings, "TRUSTED_PROXY_HOPS", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR")


class RequestIdMiddleware:
    """Gives every request an id (the client's when well-formed), echoes it, logs one access line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request_id = new_request_id(request.headers.get("X-Request-Id"))
        request.request_id = request_id
        tag_request(request)
        token = bind_request(
            RequestInfo(
                request_id=request_id,
                ip=client_ip(request),
                user_agent=request.headers.get("User-Agent", "")[:512],
                trace_id=current_trace_id(),
            )
        )
        try:
            with structlog.contextvars.bound_contextvars(requestId=request_id):
                response = self.get_response(request)
                response["X-Request-Id"] = request_id
                self._log(request, response, started)
        finally:
            reset_request(token)
        return response

    @staticmethod
    def _log(request, response, started):
        fields = {
            "method": request.method,
            "path": request.path,
            "statusCode": response.status_code,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        principal = getattr(request, "principal", None)
        if principal is not None:
            fields.update(principal.log_fields())
        error_code = getattr(response, "error_code", None)
        if error_code:
            fields["error"] = {"code": error_code}
            API_ERRORS.labels(code=error_code).inc()
        level = "error" if response.status_code >= 500 else "warning" if response.status_code >= 400 else "info"
        getattr(access_log, level)("request", **fields)


class ApiExceptionMiddleware:
    """Errors escaping plain Django views under the API paths still get the JSON envelope."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_api_path(request.path):
            return json_error_response(exception)
        return None
