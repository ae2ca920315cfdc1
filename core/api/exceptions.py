"""Every error leaves the hub as `{"error": {"code", "message", "details"?, "requestId"}}`.

Services raise `ApiError` (or a subclass) with a stable code; DRF's own exceptions, Django's and
unexpected ones are mapped here, so no view ever builds an error body by hand.
"""

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from core.observability.sentry import report_exception
from core.request_context import current_request_id

__all__ = [
    "AccountSuspended",
    "ApiError",
    "Conflict",
    "DuplicateResource",
    "ForbiddenAction",
    "IdempotencyInProgress",
    "IdempotencyKeyReused",
    "InvalidToken",
    "NotFound",
    "PreconditionFailed",
    "RateLimited",
    "ServiceUnavailable",
    "TenantMismatch",
    "TenantNotFound",
    "TenantOverrideForbidden",
    "TenantSuspended",
    "TokenExpired",
    "TokenRevoked",
    "Unauthorized",
    "ValidationFailed",
    "api_exception_handler",
    "error_body",
    "error_response_for",
    "json_error_response",
]

logger = structlog.get_logger("hub.errors")


class ApiError(Exception):
    """A failure with a stable public code, an HTTP status and a short, safe message."""

    status_code = 400
    code = "VALIDATION_ERROR"
    message = "The request is invalid."

    def __init__(self, message=None, *, code=None, status_code=None, details=None, headers=None):
        self.message = message or self.message
        self.code = code or self.code
        self.status_code = status_code or self.status_code
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)


def error_body(code: str, message: str, details=None) -> dict:
    error = {"code": code, "message": message}
    if details:
        error["details"] = details
    error["requestId"] = current_request_id()
    return {"error": error}


def _validation_details(detail):
    """DRF's nested ValidationError detail as plain strings, keyed by field."""
    if isinstance(detail, dict):
        return {key: _validation_details(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_validation_details(item) for item in detail]
    return str(detail)


# DRF exception → (code, safe message); the status comes from the exception.
_DRF_CODES = {
    drf.NotAuthenticated: ("UNAUTHORIZED", "Authentication credentials were not provided."),
    drf.AuthenticationFailed: ("UNAUTHORIZED", "Authentication failed."),
    drf.PermissionDenied: ("FORBIDDEN_ACTION", "You are not allowed to perform this action."),
    drf.NotFound: ("NOT_FOUND", "Resource not found."),
    drf.MethodNotAllowed: ("METHOD_NOT_ALLOWED", "Method not allowed."),
    drf.NotAcceptable: ("VALIDATION_ERROR", "The requested representation is not available."),
    drf.UnsupportedMediaType: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type; send application/json."),
    drf.Throttled: ("RATE_LIMITED", "Too many requests."),
}


WWW_AUTHENTICATE = 'Bearer realm="aza8-hub"'
# The hub reconnects on the next request: a lost connection is a moment, not an outage.
DATABASE_RETRY_AFTER_SECONDS = 1
# PostgreSQL's SQLSTATE for a unique constraint refusing a row.
UNIQUE_VIOLATION = "23505"


def error_response_for(exc) -> tuple[int, dict, dict]:
    """(status, body, headers) for any exception; unknown ones become a logged 500."""
    status, body, headers = _error_response_for(exc)
    if status == 401:
        # RFC 9110: a 401 names the scheme the client should use.
        headers = {"WWW-Authenticate": WWW_AUTHENTICATE, **headers}
    return status, body, headers


def _error_response_for(exc) -> tuple[int, dict, dict]:
    if isinstance(exc, ApiError):
        return exc.status_code, error_body(exc.code, exc.message, exc.details), exc.headers
    if isinstance(exc, drf.ValidationError):
        return 400, error_body("VALIDATION_ERROR", "The request is invalid.", _validation_details(exc.detail)), {}
    if isinstance(exc, Http404):
        return 404, error_body("NOT_FOUND", "Resource not found."), {}
    if isinstance(exc, DjangoPermissionDenied):
        return 403, error_body("FORBIDDEN_ACTION", "You are not allowed to perform this action."), {}
    if isinstance(exc, drf.ParseError):
        return 400, error_body("VALIDATION_ERROR", "Malformed request body.", {"body": [str(exc.detail)]}), {}
    if isinstance(exc, RequestDataTooBig):
        return 413, error_body("PAYLOAD_TOO_LARGE", "The request body is too large."), {}
    for exc_class, (code, message) in _DRF_CODES.items():
        if isinstance(exc, exc_class):
            headers = {}
            if isinstance(exc, drf.Throttled) and exc.wait is not None:
                headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
            return exc.status_code, error_body(code, message), headers
    if isinstance(exc, drf.APIException):
        code = "INTERNAL_ERROR" if exc.status_code >= 500 else "VALIDATION_ERROR"
        return exc.status_code, error_body(code, "The request failed."), {}
    if isinstance(exc, IntegrityError) and getattr(exc.__cause__, "sqlstate", None) == UNIQUE_VIOLATION:
        # Two identical writes at the same moment: both passed the service's check, one insert lost.
        return 409, error_body("DUPLICATE_RESOURCE", "A resource with these values already exists."), {}
    # Answered here, so never seen by Sentry's Django integration: reported explicitly.
    report_exception(exc)
    if isinstance(exc, (OperationalError, InterfaceError)):
        # A lost connection, a restart, a timeout, a deadlock: the transaction did not commit (or, at
        # the commit itself, a retry with the same Idempotency-Key finds out), and a retry may succeed.
        logger.warning("database_unavailable", exc_info=True, error={"code": "SERVICE_UNAVAILABLE"})
        return 503, error_body("SERVICE_UNAVAILABLE", "The database is unavailable; try again."), {
            "Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    if isinstance(exc, DatabaseError):
        logger.exception("database_error", error={"code": "DATABASE_ERROR"})
        return 500, error_body("DATABASE_ERROR", "A database error occurred."), {}
    logger.exception("unhandled_error", error={"code": "INTERNAL_ERROR"})
    return 500, error_body("INTERNAL_ERROR", "An internal error occurred."), {}


def api_exception_handler(exc, context):
    status, body, headers = error_response_for(exc)
    response = Response(body, status=status, headers=headers)
    response.error_code = body["error"]["code"]
    return response


def json_error_response(exc) -> JsonResponse:
    """The same envelope for errors raised outside DRF views (middleware, plain Django views)."""
    status, body, headers = error_response_for(exc)
    response = JsonResponse(body, status=status)
    response.error_code = body["error"]["code"]
    for name, value in headers.items():
        response[name] = value
    return response


def _error(name: str, status: int, code: str, message: str) -> type[ApiError]:
    return type(name, (ApiError,), {"status_code": status, "code": code, "message": message, "__module__": __name__})


# The stable codes of spec §7; services raise these and the handler renders them.
ValidationFailed = _error("ValidationFailed", 400, "VALIDATION_ERROR", "The request is invalid.")
TenantMismatch = _error("TenantMismatch", 400, "TENANT_MISMATCH", "X-Tenant-Id does not match the credential's tenant.")
TenantOverrideForbidden = _error(
    "TenantOverrideForbidden", 400, "TENANT_OVERRIDE_FORBIDDEN", "The tenant comes from the credential, not the body."
)
Unauthorized = _error("Unauthorized", 401, "UNAUTHORIZED", "Authentication failed.")
InvalidToken = _error("InvalidToken", 401, "INVALID_TOKEN", "The token is invalid.")
TokenExpired = _error("TokenExpired", 401, "TOKEN_EXPIRED", "The token has expired.")
TokenRevoked = _error("TokenRevoked", 401, "TOKEN_REVOKED", "The token has been revoked.")
TenantNotFound = _error("TenantNotFound", 401, "TENANT_NOT_FOUND", "The credential's tenant does not exist.")
TenantSuspended = _error("TenantSuspended", 403, "TENANT_SUSPENDED", "The tenant is suspended.")
AccountSuspended = _error("AccountSuspended", 403, "ACCOUNT_SUSPENDED", "The account is suspended.")
ToolNotEntitled = _error(
    "ToolNotEntitled", 403, "TOOL_NOT_ENTITLED", "The tenant is not entitled to this product's tool."
)
ForbiddenAction = _error("ForbiddenAction", 403, "FORBIDDEN_ACTION", "You are not allowed to perform this action.")
NotFound = _error("NotFound", 404, "NOT_FOUND", "Resource not found.")
Conflict = _error("Conflict", 409, "CONFLICT", "The request conflicts with the current state.")
DuplicateResource = _error("DuplicateResource", 409, "DUPLICATE_RESOURCE", "A resource with these values already exists.")
# Well-formed and schema-valid, yet not something the hub can act on: a rule across fields or about
# its state that the schema cannot state (a key the catalog does not hold, a time already past).
Unprocessable = _error("Unprocessable", 422, "UNPROCESSABLE", "The request cannot be acted on as it stands.")
CredentialNotAllowed = _error(
    "CredentialNotAllowed", 403, "CREDENTIAL_NOT_ALLOWED", "This kind of credential cannot do this."
)


class RateLimited(ApiError):
    status_code = 429
    code = "RATE_LIMITED"
    message = "Too many requests."

    def __init__(self, retry_after: int, message=None):
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, headers={"Retry-After": str(self.retry_after)})


class ServiceUnavailable(ApiError):
    """Something the answer depends on cannot be reached now; nothing was changed."""

    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    message = "A dependency is unavailable; try again later."

    def __init__(self, retry_after: int, message=None):
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after)))})


PreconditionFailed = _error(
    "PreconditionFailed", 412, "PRECONDITION_FAILED", "The resource changed since you read it (If-Match)."
)
IdempotencyInProgress = _error(
    "IdempotencyInProgress", 409, "IDEMPOTENCY_IN_PROGRESS", "A request with this Idempotency-Key is still running."
)
IdempotencyKeyReused = _error(
    "IdempotencyKeyReused", 422, "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with a different request."
)
