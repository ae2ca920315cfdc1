"""Base views of the API and the catch-all for unknown /v1 paths."""

from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.http import Http404
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework.views import APIView

from core.api.exceptions import TenantOverrideForbidden, ValidationFailed, json_error_response
from core.api.idempotency import IdempotencyMixin
from core.api.strictness import type_errors, unknown_fields
from core.middleware import is_api_path

__all__ = ["TENANT_BODY_KEYS", "UUID_PATTERN", "TenantScopedAPIView", "api_not_found", "bad_request", "validated"]

# Ids in paths: a UUID in its canonical form, or the route does not match (404). Looser patterns let
# "------------------------------------" through to the database, which refused it with a 500.
UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# camelCase keys arrive underscored (tenantId → tenant_id) from the parser.
TENANT_BODY_KEYS = frozenset({"tenant_id", "tenant"})


def validated(serializer_class, request, **kwargs) -> dict:
    """The request body validated by `serializer_class`, or VALIDATION_ERROR with field details.

    A field the serializer does not take is refused, each named in `details`, never dropped: a
    client that misspells `expiresAt` or sends `isSuperuser` must learn that it was not applied. A
    value of another JSON type than its field's is refused too, not coerced (core/api/strictness.py).
    """
    serializer = serializer_class(data=request.data, **kwargs)
    unknown = unknown_fields(serializer, request.data)
    if unknown:
        raise ValidationFailed("The request has fields this operation does not take.", details=unknown)
    mistyped = type_errors(serializer, request.data)
    if mistyped:
        raise ValidationFailed(details=mistyped)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Unknown /v1 paths: the JSON envelope, whatever the method and whatever DEBUG says. CSRF-exempt:
    the API takes no cookie session, and a POST here must not get Django's HTML CSRF page."""
    return json_error_response(Http404())


def bad_request(request, exception=None):
    """Django's own 400s (`handler400`): a `Host` outside ALLOWED_HOSTS, a body Django refused before
    any view. On API paths they answer in the envelope like every other error; the admin keeps
    Django's page. (414 and 431 are answered by gunicorn before the hub sees the request.)"""
    if not is_api_path(request.path):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return json_error_response(exception)
    message = "This host is not served here." if isinstance(exception, DisallowedHost) else "Malformed request."
    return json_error_response(ValidationFailed(message))


class TenantScopedAPIView(IdempotencyMixin, APIView):
    """A route that works inside the caller's tenant; the tenant comes only from the credential.
    POSTs honour Idempotency-Key."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if isinstance(request.data, dict) and TENANT_BODY_KEYS & set(request.data):
            raise TenantOverrideForbidden()

    @property
    def tenant(self):
        return self.request.user.tenant

    def validated(self, serializer_class, **kwargs) -> dict:
        return validated(serializer_class, self.request, **kwargs)
