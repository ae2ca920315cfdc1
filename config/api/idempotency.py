"""Idempotency-Key on POST: the first request runs, a replay gets its answer back.

Stored per (tenant, handler, key) with a fingerprint of the request for 24 hours. A replay with the
same request answers the first 2xx status and body with `Idempotent-Replayed: true`; the same key
with another request is 422 IDEMPOTENCY_KEY_REUSED; while the first still runs, 409
IDEMPOTENCY_IN_PROGRESS. A request that fails (non-2xx or an exception) releases its key, so the
client may fix it and retry with the same key.
"""

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, models, transaction
from django.db.models.functions import Cast
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from audit.models import IdempotencyKey, IdempotencyStatus
from config.api.exceptions import IdempotencyInProgress, IdempotencyKeyReused, ValidationFailed

__all__ = ["IDEMPOTENCY_TTL", "IdempotencyMixin", "redact_stored_responses"]

IDEMPOTENCY_TTL = timedelta(hours=24)
HEADER = "Idempotency-Key"


class _Replay(Exception):
    def __init__(self, response):
        self.response = response


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(record) -> HttpResponse:
    if record.response_body is None:
        response = HttpResponse(status=record.response_status)
    else:
        response = JsonResponse(record.response_body, status=record.response_status, safe=False)
    response["Idempotent-Replayed"] = "true"
    return response


def _claim(*, tenant, key: str, handler: str, fingerprint: str):
    """The new in-progress record, or raise: replay, in progress, or reused with another request."""
    for _attempt in range(2):
        try:
            with transaction.atomic():
                record, created = IdempotencyKey.objects.select_for_update().get_or_create(
                    tenant=tenant, key=key, handler=handler, defaults={"fingerprint": fingerprint}
                )
                if created:
                    return record
                if record.created_at < timezone.now() - IDEMPOTENCY_TTL:
                    record.delete()
                    continue
        except IntegrityError:
            continue  # lost the insert race to a twin request: read what it stored
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        if record.status == IdempotencyStatus.IN_PROGRESS:
            raise IdempotencyInProgress()
        raise _Replay(_replay(record))
    raise IdempotencyInProgress()


def _redacted(value, resource_id: str, replacements: dict):
    if isinstance(value, list):
        return [_redacted(item, resource_id, replacements) for item in value]
    if not isinstance(value, dict):
        return value
    own = value.get("id") == resource_id
    return {key: replacements[key] if own and key in replacements else _redacted(item, resource_id, replacements)
            for key, item in value.items()}


def redact_stored_responses(*, tenant, resource_id, replacements: dict) -> int:
    """Overwrite fields of one resource wherever a stored response shows it (every object whose
    `id` is `resource_id`), so that a replay cannot hand back what was erased. Returns rows changed."""
    resource_id = str(resource_id)
    changed = 0
    stored = (IdempotencyKey.objects.for_tenant(tenant).select_for_update()
              .annotate(body_text=Cast("response_body", models.TextField()))
              .filter(body_text__contains=resource_id))
    for record in stored:
        body = _redacted(record.response_body, resource_id, replacements)
        if body != record.response_body:
            IdempotencyKey.objects.filter(pk=record.pk).update(response_body=body)
            changed += 1
    return changed


class IdempotencyMixin:
    """For APIView subclasses: honours Idempotency-Key on POST once the caller is authorized."""

    _idempotency_record = None

    def idempotency_handler(self, request) -> str:
        return getattr(request, "tool_action", None) or request.resolver_match.view_name or type(self).__name__

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return
        if not 1 <= len(key) <= 255:
            raise ValidationFailed(details={HEADER: ["Must be 1 to 255 characters."]})
        self._idempotency_record = _claim(
            tenant=request.user.tenant,
            key=key,
            handler=self.idempotency_handler(request),
            fingerprint=_fingerprint(request),
        )

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record, self._idempotency_record = self._idempotency_record, None
        if record is None:
            return response
        if 200 <= response.status_code < 300:
            response.render()
            body = json.loads(response.content) if response.content else None
            IdempotencyKey.objects.filter(pk=record.pk).update(
                status=IdempotencyStatus.COMPLETED, response_status=response.status_code, response_body=body
            )
        else:
            IdempotencyKey.objects.filter(pk=record.pk).delete()
        return response
