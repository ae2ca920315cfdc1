"""Keyset (cursor) pagination on (created_at, id): stable under concurrent inserts, no offsets.

`?limit=` (default 50, max 200), `?cursor=`, `?sort=created_at:desc|created_at:asc`.
Answers `{"data": [...], "meta": {"nextCursor": str|null, "hasMore": bool}}`.

A cursor is the position a page ends at, in plain text: the last row's creation time (microseconds
since the Unix epoch), its id and the order (`a`sc, `d`esc). It names a position, not a row: every
string of CURSOR_PATTERN is a valid cursor (the schema promises exactly that pattern), and one no
page ever handed out simply starts wherever it points.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.db import router
from django.db.models import Q
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from core.api.exceptions import ValidationFailed
from core.api.renderers import enveloped
from core.db.lookup import CompiledQuery

__all__ = ["KeysetPagination", "PageRequest"]

SORTS = {"created_at:desc": True, "created_at:asc": False}
# 16 digits of microseconds reach the year 2286.
CURSOR_PATTERN = r"^[0-9]{1,16}-[0-9a-f]{32}-[ad]$"
_CURSOR = re.compile(CURSOR_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _instance_key(row) -> tuple[datetime, uuid.UUID]:
    return row.created_at, row.pk


def _encode(key: tuple[datetime, uuid.UUID | str], descending: bool) -> str:
    created_at, pk = key
    micros = (created_at - _EPOCH) // _MICROSECOND
    return f"{micros}-{uuid.UUID(str(pk)).hex}-{'d' if descending else 'a'}"


def _decode(cursor: str) -> tuple[datetime, uuid.UUID, bool]:
    if not _CURSOR.fullmatch(cursor):
        raise ValidationFailed(details={"cursor": ["Not a cursor this API hands out (meta.nextCursor)."]})
    micros, pk, order = cursor.split("-")
    return _EPOCH + int(micros) * _MICROSECOND, uuid.UUID(pk), order == "d"


@dataclass(frozen=True)
class PageRequest:
    limit: int
    descending: bool
    after: tuple[datetime, uuid.UUID] | None = None  # the (created_at, pk) the page starts after

    @property
    def shape(self) -> tuple:
        """What the page's SQL depends on besides its values."""
        return self.limit, self.descending, self.after is not None

    def of(self, queryset):
        """The page's rows of `queryset`, and one more when there are more (a queryset)."""
        if self.after is not None:
            created_at, pk = self.after
            after = "lt" if self.descending else "gt"
            queryset = queryset.filter(
                Q(**{f"created_at__{after}": created_at}) | Q(created_at=created_at, **{f"pk__{after}": pk})
            )
        ordering = ["-created_at", "-pk"] if self.descending else ["created_at", "pk"]
        return queryset.order_by(*ordering)[: self.limit + 1]


# A page's SQL for the shapes asked of it lately, per list and row plan (the limit is part of the
# SQL: a client stepping through every limit must not grow this without end).
@lru_cache(maxsize=64)
def _tenant_page_query(view_class, plan, shape: tuple) -> CompiledQuery:
    limit, descending, has_cursor = shape
    model = view_class.queryset.model
    fields = {"tenant": model._meta.get_field("tenant")}
    if has_cursor:
        fields.update(created_at=model._meta.get_field("created_at"), pk=model._meta.pk)

    def build(tenant, created_at=None, pk=None):
        page = PageRequest(limit=limit, descending=descending, after=(created_at, pk) if has_cursor else None)
        return page.of(plan.select(view_class.queryset.for_tenant(tenant)))

    return CompiledQuery(build, fields)


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

    def _page_request(self, request) -> PageRequest:
        limit = self._limit(request)
        descending = self._descending(request)
        cursor = request.query_params.get("cursor")
        if cursor is None:
            return PageRequest(limit=limit, descending=descending)
        created_at, pk, descending = _decode(cursor)
        return PageRequest(limit=limit, descending=descending, after=(created_at, pk))

    def paginate_queryset(self, queryset, request, view=None):
        page = self._page_request(request)
        return self._trim(list(page.of(queryset)), page, _instance_key)

    def paginate_rows(self, queryset, request, plan) -> list:
        """The page as JSON-ready rows read by `plan` (core/api/rows.py) instead of model instances."""
        page = self._page_request(request)
        return plan.present(self._trim(list(page.of(plan.select(queryset))), page, plan.cursor_key))

    def paginate_tenant_rows(self, view_class, tenant_id, request, plan) -> list:
        """`paginate_rows` of `view_class.queryset.for_tenant(tenant_id)`, compiled once per shape of
        page (core/db/lookup.py): for a list whose request narrows it no further."""
        page = self._page_request(request)
        query = _tenant_page_query(view_class, plan, page.shape)
        values = {"tenant": tenant_id}
        if page.after is not None:
            values["created_at"], values["pk"] = page.after
        rows = query.rows(values, using=router.db_for_read(view_class.queryset.model))
        return plan.present(self._trim(rows, page, plan.cursor_key))

    def _trim(self, rows: list, page: PageRequest, key) -> list:
        """`key(row)` is the row's (created_at, pk)."""
        self.has_more = len(rows) > page.limit
        rows = rows[: page.limit]
        self.next_cursor = _encode(key(rows[-1]), page.descending) if self.has_more else None
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
                    "required": ["nextCursor", "hasMore"],
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
            {"name": "cursor", "in": "query", "required": False, "description": "meta.nextCursor of the page before.",
             "schema": {"type": "string", "pattern": CURSOR_PATTERN}},
            {"name": "sort", "in": "query", "required": False, "schema": {"type": "string", "enum": list(SORTS), "default": "created_at:desc"}},
        ]
