"""Keyset (cursor) pagination on (created_at, id): stable under concurrent inserts, no offsets.

`?limit=` (default 50, max 200), `?cursor=` (opaque), `?sort=created_at:desc|created_at:asc`.
Answers `{"data": [...], "meta": {"nextCursor": str|null, "hasMore": bool}}`.
"""

import base64
import binascii
import json
import uuid
from datetime import datetime

from django.db.models import Q
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from config.api.exceptions import ValidationFailed
from config.api.renderers import enveloped

__all__ = ["KeysetPagination"]

SORTS = {"created_at:desc": True, "created_at:asc": False}


def _instance_key(row) -> tuple[str, str]:
    return row.created_at.isoformat(), str(row.pk)


def _encode(key: tuple[str, str], descending: bool) -> str:
    created_at, pk = key
    raw = json.dumps([created_at, pk, descending]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str):
    try:
        created_at, pk, descending = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(created_at), uuid.UUID(pk), bool(descending)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ValidationFailed(details={"cursor": ["Invalid cursor."]}) from exc


class KeysetPagination(BasePagination):
    default_limit = 50
    max_limit = 200

    def _limit(self, request) -> int:
        raw = request.query_params.get("limit")
        if raw is None:
            return self.default_limit
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if not 1 <= limit <= self.max_limit:
            raise ValidationFailed(details={"limit": [f"Must be an integer from 1 to {self.max_limit}."]})
        return limit

    def _descending(self, request) -> bool:
        sort = request.query_params.get("sort", "created_at:desc")
        if sort not in SORTS:
            raise ValidationFailed(details={"sort": [f"Must be one of {', '.join(SORTS)}."]})
        return SORTS[sort]

    def paginate_queryset(self, queryset, request, view=None):
        return self._page(queryset, request, _instance_key)

    def paginate_rows(self, queryset, request, plan) -> list:
        """The page as JSON-ready rows read by `plan` (config/api/rows.py) instead of model instances."""
        return plan.present(self._page(plan.select(queryset), request, plan.cursor_key))

    def _page(self, queryset, request, key) -> list:
        """`key(row)` is the row's (created_at, pk) in the cursor's text form."""
        limit = self._limit(request)
        descending = self._descending(request)
        cursor = request.query_params.get("cursor")
        if cursor:
            created_at, pk, descending = _decode(cursor)
            after = "lt" if descending else "gt"
            queryset = queryset.filter(
                Q(**{f"created_at__{after}": created_at}) | Q(created_at=created_at, **{f"pk__{after}": pk})
            )
        ordering = ["-created_at", "-pk"] if descending else ["created_at", "pk"]
        rows = list(queryset.order_by(*ordering)[: limit + 1])
        self.has_more = len(rows) > limit
        rows = rows[:limit]
        self.next_cursor = _encode(key(rows[-1]), descending) if self.has_more else None
        return rows

    def get_paginated_response(self, data):
        return Response(enveloped(data, meta={"next_cursor": self.next_cursor, "has_more": self.has_more}))

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["data", "meta"],
            "properties": {
                "data": schema,
                "meta": {
                    "type": "object",
                    "properties": {
                        "nextCursor": {"type": "string", "nullable": True},
                        "hasMore": {"type": "boolean"},
                    },
                },
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
            {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
            {"name": "sort", "in": "query", "required": False, "schema": {"type": "string", "enum": list(SORTS), "default": "created_at:desc"}},
        ]
