"""Every error leaves the hub as `{"error": {"code", "message", "details"?, "requestId"}}`.

Services raise `ApiError` (or a subclass) with a stable code; DRF's own exceptions, Django's and
unexpected ones are mapped here, so no view ever builds an error body by hand.
"""

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from config.request_context import current_request_id

__all__ = ["ApiError", "api_exception_handler", "error_body", "error_response_for", "json_error_response"]

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
    drf.ParseError: ("VALIDATION_ERROR", "Malformed request body."),
    drf.Throttled: ("RATE_LIMITED", "Too many requests."),
}


def error_response_for(exc) -> tuple[int, dict, dict]:
    """(status, body, headers) for any exception; unknown ones become a logged 500."""
    if isinstance(exc, ApiError):
        return exc.status_code, error_body(exc.code, exc.message, exc.details), exc.headers
    if isinstance(exc, drf.ValidationError):
        return 400, error_body("VALIDATION_ERROR", "The request is invalid.", _validation_details(exc.detail)), {}
    if isinstance(exc, Http404):
        return 404, error_body("NOT_FOUND", "Resource not found."), {}
    if isinstance(exc, DjangoPermissionDenied):
        return 403, error_body("FORBIDDEN_ACTION", "You are not allowed to perform this action."), {}
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
