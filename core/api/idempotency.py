"""Idempotency-Key on POST: the first request runs, a replay gets its answer back.

Keys belong to one caller: a record is scoped per (tenant, principal, handler, key), so another
principal sending the same key runs its own request. A replay with the same request answers the
first 2xx status and body with `Idempotent-Replayed: true`; the same key with another request is 422
IDEMPOTENCY_KEY_REUSED; while the first still runs, 409 IDEMPOTENCY_IN_PROGRESS with Retry-After.

The answer is stored in the transaction of the write itself: the view runs inside one atomic block
that ends by completing the record, so a committed write can always be replayed and a rolled-back
one leaves no answer behind. The claim before it is committed on its own, with a short lease: a
request that fails releases its key at once, and one that died with its connection or its worker
leaves a claim that a retry takes over once the lease ends. Keys are kept for IDEMPOTENCY_TTL.

The records are the tenant's rows, so they live in a domain app: the store named by
settings.IDEMPOTENCY_STORE (audit/idempotency.py) claims, completes and releases them.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Protocol

import structlog
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse, JsonResponse
from django.utils.module_loading import import_string

from core.api.exceptions import IdempotencyInProgress, ValidationFailed

__all__ = ["IDEMPOTENCY_TTL", "IdempotencyMixin", "IdempotencyStore", "StoredResponse", "principal_key"]

IDEMPOTENCY_TTL = timedelta(hours=24)
HEADER = "Idempotency-Key"

logger = structlog.get_logger("hub.idempotency")


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: object


class IdempotencyStore(Protocol):
    def claim(self, *, tenant, principal: str, key: str, handler: str, fingerprint: str) -> object:
        """A claim of the key for this request, or the StoredResponse to replay; raises
        IdempotencyInProgress (with Retry-After) or IdempotencyKeyReused."""

    def complete(self, claim, *, status: int, body) -> bool:
        """Store the answer inside the caller's transaction; False when the claim's lease was taken
        over by a retry, and the caller's write must not stand."""

    def release(self, claim) -> None: ...


@cache
def _store() -> IdempotencyStore:
    return import_string(settings.IDEMPOTENCY_STORE)()


def principal_key(principal) -> str:
    """Who a key belongs to: a user, or the API key behind a service principal."""
    return f"{principal.type}:{principal.id}"


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


def _release(claim) -> None:
    """Give the key back so the client may retry at once. After a lost connection this reconnects
    first; if even that fails the claim's lease runs out instead. The store deletes only a claim still
    in progress under this request's token: a write whose commit did go through keeps its answer."""
    try:
        if connection.errors_occurred and not connection.in_atomic_block and not connection.is_usable():
            connection.close()  # the next query opens a new one
        _store().release(claim)
    except DatabaseError:
        logger.warning("idempotency_release_failed", exc_info=True)


class IdempotencyMixin:
    """For APIView subclasses: honours Idempotency-Key on POST once the caller is authorized."""

    _idempotency_claim = None
    _idempotent_write = None

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
            principal=principal_key(request.user),
            key=key,
            handler=self.idempotency_handler(request),
            fingerprint=_fingerprint(request),
        )
        if isinstance(claim, StoredResponse):
            raise _Replay(_replay(claim))
        self._idempotency_claim = claim
        # Closed in finalize_response, which DRF calls however the handler ended.
        self._idempotent_write = transaction.atomic()
        self._idempotent_write.__enter__()

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        claim, self._idempotency_claim = self._idempotency_claim, None
        write, self._idempotent_write = self._idempotent_write, None
        if claim is None:
            return response
        try:
            if 200 <= response.status_code < 300:
                if self._complete(claim, write, response):
                    return response
                response = self._finalized_error(request, IdempotencyInProgress(headers={"Retry-After": "1"}))
            transaction.set_rollback(True)
            write.__exit__(None, None, None)
        except DatabaseError as exc:
            # The write did not commit, or its commit's outcome is unknown: a retry with the key
            # replays the answer if it did, and runs the request if it did not.
            response = self._finalized_error(request, exc)
        _release(claim)
        return response

    def _complete(self, claim, write, response) -> bool:
        """Store the answer and commit it with the write; False (still open) when the lease was lost."""
        try:
            response.render()
            body = json.loads(response.content) if response.content else None
            completed = _store().complete(claim, status=response.status_code, body=body)
        except BaseException as exc:
            write.__exit__(type(exc), exc, exc.__traceback__)
            raise
        if completed:
            write.__exit__(None, None, None)  # the commit; on failure Django rolls back and raises
        return completed

    def _finalized_error(self, request, exc):
        return super().finalize_response(request, self.handle_exception(exc))
