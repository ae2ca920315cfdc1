"""List pages read as rows instead of model instances.

DRF builds a model instance per row and formats it field by field, which is most of a 50-row
list's time. When a list's serializer is a plain read-only ModelSerializer whose every field shows a
column as stored, a UUID or a timestamp, the page is read with `values_list()`: PostgreSQL formats
UUIDs and timestamps exactly as DRF does, and each row is zipped with camelCase keys worked out once
per serializer class. `plan_for` answers None for anything it cannot express (method fields, nested
serializers, dotted sources, custom `to_representation`, a non-UTC or non-ISO timestamp format) and
the view uses DRF as before. tests/api/test_list_rows.py holds every list route equal to DRF's bytes.
"""

from datetime import datetime
from functools import cache

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.functions import Cast
from django.db.models.query_utils import DeferredAttribute
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from core.api.renderers import IGNORED_FIELDS, CamelCaseRows, PlainRows, camel_key, camelize

__all__ = ["RowPlan", "plan_for"]

_TEXT = frozenset({"CharField", "TextField", "EmailField", "URLField", "SlugField", "GenericIPAddressField"})
_INTEGER = frozenset({"IntegerField", "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
                      "PositiveSmallIntegerField", "PositiveBigIntegerField"})

# Serializer fields whose `to_representation` returns a value of these column types unchanged.
_AS_STORED = {
    serializers.CharField: _TEXT,
    serializers.EmailField: _TEXT,
    serializers.URLField: _TEXT,
    serializers.SlugField: _TEXT,
    serializers.RegexField: _TEXT,
    serializers.IPAddressField: _TEXT,
    serializers.IntegerField: _INTEGER,
    serializers.BooleanField: frozenset({"BooleanField"}),
}


class IsoTimestamp(models.Func):
    """A timestamptz as DRF writes it in UTC: `datetime.isoformat()` with `Z` for `+00:00`, whose
    fraction appears only when the microseconds are not zero. Saves parsing each timestamp into a
    datetime (psycopg's Python loader under Django's time-zone loader) and formatting it back. One
    `to_char` per value (three, with a CASE on the fraction, cost PostgreSQL twice the time)."""

    output_field = models.TextField()
    arity = 1
    template = (
        "replace(to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '.000000Z', 'Z')"
    )


def _as_stored(field, column: models.Field) -> bool:
    kind = column.get_internal_type()
    if type(field) is serializers.ListField:
        return isinstance(column, ArrayField) and _as_stored(field.child, column.base_field)
    if type(field) is serializers.ChoiceField:
        return kind in _TEXT and all(type(choice) is str for choice in field.choice_strings_to_values.values())
    if type(field) is serializers.BigIntegerField:
        return kind in _INTEGER and not getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING)
    return kind in _AS_STORED.get(type(field), ())


def _expression(field, column: models.Field):
    """The SQL whose value is what `field.to_representation` makes of `column`, or None."""
    if _as_stored(field, column):
        return column.name
    kind = column.get_internal_type()
    if type(field) is serializers.UUIDField and kind == "UUIDField" and field.uuid_format == "hex_verbose":
        return Cast(column.name, models.TextField())
    if (type(field) is serializers.DateTimeField and kind == "DateTimeField" and not hasattr(field, "timezone")
            and getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601):
        return IsoTimestamp(column.name)
    if type(field) is serializers.JSONField and kind == "JSONField" and not field.binary:
        return column.name
    return None


def _column(model, field) -> models.Field | None:
    if field.source == "*" or "." in field.source:
        return None
    try:
        column = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None
    # FileField and its kin put an object of their own on the instance; values_list() does not.
    if not column.concrete or column.is_relation or column.descriptor_class is not DeferredAttribute:
        return None
    return column


def _plain(serializer_class) -> bool:
    """No hook through which a subclass could show something other than its fields' columns."""
    meta = getattr(serializer_class, "Meta", None)
    return (
        issubclass(serializer_class, serializers.ModelSerializer)
        and serializer_class.to_representation is serializers.Serializer.to_representation
        and serializer_class.__init__ is serializers.BaseSerializer.__init__
        and serializer_class.get_fields is serializers.ModelSerializer.get_fields
        and serializer_class.many_init.__func__ is serializers.BaseSerializer.many_init.__func__
        and getattr(meta, "list_serializer_class", serializers.ListSerializer) is serializers.ListSerializer
    )


class RowPlan:
    """What to select for a serializer's page, and how each selected row becomes its JSON object."""

    def __init__(self, model, keys: tuple[str, ...], expressions: list, camelized: tuple[str, ...], *,
                 plain: bool):
        """`plain`: no column holds JSON, whose numbers may be floats or beyond 64 bits (PlainRows)."""
        self.keys = keys
        self._camelized = camelized
        self._rows_class = PlainRows if plain else CamelCaseRows
        # The cursor's (created_at, pk), read as text: they ride after the shown columns unless shown.
        self._expressions = list(expressions)
        cursor = (IsoTimestamp("created_at"), Cast(model._meta.pk.name, models.TextField()))
        for expression in cursor:
            if expression not in self._expressions:
                self._expressions.append(expression)
        self._cursor_at = tuple(self._expressions.index(expression) for expression in cursor)

    def select(self, queryset):
        return queryset.values_list(*self._expressions)

    def cursor_key(self, row) -> tuple[datetime, str]:
        """(created_at, pk) of a selected row, as the paginator's cursor wants them."""
        created_at, pk = (row[position] for position in self._cursor_at)
        return datetime.fromisoformat(created_at), pk

    def present(self, rows) -> CamelCaseRows:
        # zip() stops at the shown keys: the cursor's own columns, selected last, are left out.
        page = self._rows_class(dict(zip(self.keys, row)) for row in rows)
        for key in self._camelized:
            for item in page:
                item[key] = camelize(item[key], IGNORED_FIELDS)
        return page


@cache
def _plan(serializer_class) -> RowPlan | None:
    if not _plain(serializer_class):
        return None
    model = serializer_class.Meta.model
    keys, expressions, camelized, plain = [], [], [], True
    for name, field in serializer_class().fields.items():
        if field.write_only:
            continue
        column = _column(model, field)
        expression = None if column is None else _expression(field, column)
        if expression is None:
            return None
        key = camel_key(name)
        keys.append(key)
        expressions.append(expression)
        if isinstance(column, models.JSONField):
            plain = False
            if not {name, key} & IGNORED_FIELDS:
                camelized.append(key)
    return RowPlan(model, tuple(keys), expressions, tuple(camelized), plain=plain)


def _utc() -> bool:
    """DRF writes timestamps in the current time zone, which a request could change."""
    return settings.USE_TZ and getattr(timezone.get_current_timezone(), "key", None) == "UTC"


def plan_for(serializer_class) -> RowPlan | None:
    """The row plan for a list serialized by `serializer_class`, or None when DRF must do it."""
    plan = _plan(serializer_class)
    return plan if plan is not None and _utc() else None
