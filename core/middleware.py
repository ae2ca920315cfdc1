"""Request plumbing: request ids, the access log line, and JSON errors outside DRF."""

import time

import structlog
from django.conf import settings
from django.http import JsonResponse, QueryDict

from core.api.exceptions import ValidationFailed, json_error_response
from core.observability.metrics import API_ERRORS
from core.observability.sentry import tag_request
from core.observability.tracing import current_trace_id
from core.request_context import RequestInfo, bind_request, new_request_id, reset_request

__all__ = ["ApiExceptionMiddleware", "QueryParametersMiddleware", "RequestIdMiddleware", "client_ip", "is_api_path"]

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


class _ReadQueryDict(QueryDict):
    """A query string that remembers which parameter names the view asked for, and which of them it
    asked for as lists (the only ones that may be given more than once)."""

    def __init__(self, query_string: str):
        self.asked: set[str] = set()
        self.listed: set[str] = set()
        super().__init__(query_string)
        self.asked.clear()  # filling the dict asks too

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.asked.add(key)
        return super().__contains__(key)

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)

    def getlist(self, key, default=None):
        self.asked.add(key)
        self.listed.add(key)
        return super().getlist(key, default)

    def problems(self) -> dict:
        """{name: [message]} for every parameter no one asked for, or given more than once for a
        view that reads one value (`?limit=1&limit=2`: the schema says integer, not array)."""
        found = {name: ["Unknown query parameter."] for name in self.keys() - self.asked}
        for name, values in self.lists():
            if len(values) > 1 and name in self.asked and name not in self.listed:
                found[name] = ["Given more than once; this parameter takes one value."]
        return found


_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class QueryParametersMiddleware:
    """A query parameter the operation does not take is a 400 on API paths, as an unknown body field
    is (docs/decisions.md, "Strict input"): `?profile=nope` answered by the filter, `?profiel=x` here.

    What an operation takes is what its view asks for: pagination, its filter set and its own
    parameters all read the query string by name, and every name they ask for counts, given or not.
    A read answers nothing it did not ask for, so a GET runs and is refused after if it was sent a
    name nobody asked for; a write takes no query parameters at all and is refused before its view
    runs (a method the route does not take is left to the view's own 405).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query_string = request.META.get("QUERY_STRING", "")
        if not query_string or not is_api_path(request.path):
            return self.get_response(request)
        params = _ReadQueryDict(query_string)
        request.GET = params
        response = self.get_response(request)
        if 200 <= response.status_code < 300 and (problems := params.problems()):
            return _refused(problems)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method in _WRITES and isinstance(request.GET, _ReadQueryDict) and _handles(view_func, request.method):
            return _refused({name: ["Unknown query parameter."] for name in request.GET})
        return None


def _handles(view_func, method: str) -> bool:
    """Whether the routed view takes `method` (else it answers its own 405, query string or not)."""
    actions = getattr(view_func, "actions", None)  # a DRF viewset's routes
    if actions is not None:
        return method.lower() in actions
    view_class = getattr(view_func, "view_class", None)  # set by View.as_view (DRF's APIView included)
    return view_class is not None and hasattr(view_class, method.lower())


def _refused(problems: dict) -> JsonResponse:
    return json_error_response(ValidationFailed(
        "The query string does not fit this operation (details: by parameter).",
        details=dict(sorted(problems.items())),
    ))
