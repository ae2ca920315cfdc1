"""Idempotency-Key on POST: the first request runs, a replay gets its answer back.

A replay with the same request answers the first 2xx status and body with `Idempotent-Replayed:
true`; the same key with another request is 422 IDEMPOTENCY_KEY_REUSED; while the first still runs,
409 IDEMPOTENCY_IN_PROGRESS. A request that fails (non-2xx or an exception) releases its key, so the
client may fix it and retry with the same key. Keys are kept for IDEMPOTENCY_TTL.

The records are the tenant's rows, so they live in a domain app: the store named by
settings.IDEMPOTENCY_STORE (audit/idempotency.py) claims, completes and releases them.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Protocol

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.module_loading import import_string

from core.api.exceptions import ValidationFailed

__all__ = ["IDEMPOTENCY_TTL", "IdempotencyMixin", "IdempotencyStore", "StoredResponse"]

IDEMPOTENCY_TTL = timedelta(hours=24)
HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: object


class IdempotencyStore(Protocol):
    def claim(self, *, tenant, key: str, handler: str, fingerprint: str) -> object:
        """A claim of the key for this request, or the StoredResponse to replay; raises
        IdempotencyInProgress or IdempotencyKeyReused."""

    def complete(self, claim, *, status: int, body) -> None: ...

    def release(self, claim) -> None: ...


@cache
def _store() -> IdempotencyStore:
    return import_string(settings.IDEMPOTENCY_STORE)()


class _Replay(Exception):
    def __init__(self, response):
        self.response = response


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(stored: StoredResponse) -> HttpResponse:
    if stored.body is None:
        response = HttpResponse(status=stored.status)
    else:
        response = JsonResponse(stored.body, status=stored.status, safe=False)
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMixin:
    """For APIView subclasses: honours Idempotency-Key on POST once the caller is authorized."""

    _idempotency_claim = None

    def idempotency_handler(self, request) -> str:
        return getattr(request, "tool_action", None) or request.resolver_match.view_name or type(self).__name__

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return
        if not 1 <= len(key) <= 255:
            raise ValidationFailed(details={HEADER: ["Must be 1 to 255 characters."]})
        claim = _store().claim(
            tenant=request.user.tenant,
            key=key,
            handler=self.idempotency_handler(request),
            fingerprint=_fingerprint(request),
        )
        if isinstance(claim, StoredResponse):
            raise _Replay(_replay(claim))
        self._idempotency_claim = claim

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        claim, self._idempotency_claim = self._idempotency_claim, None
        if claim is None:
            return response
        if 200 <= response.status_code < 300:
            response.render()
            body = json.loads(response.content) if response.content else None
            _store().complete(claim, status=response.status_code, body=body)
        else:
            _store().release(claim)
        return response
