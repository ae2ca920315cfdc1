"""Looking for secrets at rest: PostgreSQL searches every column of every table of the current
database for the given secrets (issue 26).

A secret is sought whole and by its random part (an API key's prefix, a refresh token's id or a
JWT's claims may be stored; the random part never may), as text in every column that can hold text
(JSON as PostgreSQL prints it, arrays, anything cast to text) and as bytes in every bytea column.
Django's database cache stores base64 of a pickle, which would hide a cached secret from a plain
search: its values are decoded first.
"""

import base64
import json
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from identity.api_keys import split_key

__all__ = ["MIN_LENGTH", "Finding", "Scan", "scan_database", "secret_forms"]

# Shorter strings would turn up by chance in unrelated text.
MIN_LENGTH = 8

# Column types that cannot hold a secret (booleans, numbers, dates and times, uuid): not read.
_NOT_TEXT = frozenset({16, 20, 21, 23, 26, 700, 701, 1082, 1083, 1114, 1184, 1186, 1266, 1700, 2950})
_BYTEA = 17

_RANDOM_PARTS = (
    re.compile(r"^whsec_(.+)$"),  # a webhook secret
    re.compile(r"^[0-9a-f]{32}\.(.+)$"),  # a refresh token: <jti>.<secret>
    re.compile(r"^eyJ[\w-]+\.[\w-]+\.([\w-]+)$"),  # a JWT's signature
)


@dataclass(frozen=True)
class Finding:
    table: str
    column: str
    rows: int
    secrets: tuple[str, ...]  # the labels of the secrets found there


@dataclass(frozen=True)
class Scan:
    tables: int
    columns: int
    rows: int
    findings: tuple[Finding, ...]

    def __str__(self):
        found = "; ".join(f"{f.table}.{f.column} ({f.rows} rows): {', '.join(f.secrets)}" for f in self.findings)
        secrets = len({label for finding in self.findings for label in finding.secrets})
        return f"{self.tables} tables, {self.columns} columns, {self.rows} rows scanned, {secrets} secrets found " \
               f"in {len(self.findings)} columns" + (f": {found}" if found else "")


def secret_forms(secret: str) -> set[str]:
    """`secret` and its random part: what any stored copy would hold, whatever was kept beside it."""
    parts = split_key(secret)
    forms = {secret, parts[1]} if parts else {secret}
    forms.update(match.group(1) for pattern in _RANDOM_PARTS if (match := pattern.match(secret)))
    return {form for form in forms if len(form) >= MIN_LENGTH}


def _base64_columns() -> set[tuple[str, str]]:
    return {(cache["LOCATION"], "value") for cache in settings.CACHES.values()
            if cache["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"}


def _like(text: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def _needles(secrets: dict) -> tuple[dict[str, str], dict[bytes, str]]:
    """Text and byte needles, each with the label of the secret it betrays."""
    text, raw = {}, {}
    for label, secret in secrets.items():
        if isinstance(secret, bytes):
            raw[secret] = label
            continue
        for form in secret_forms(secret):
            # As JSON prints it too (quotes, backslashes, non-ASCII escaped), and as UTF-8 in bytea.
            for variant in {form, json.dumps(form)[1:-1]}:
                text[variant] = label
            raw[form.encode()] = label
    return text, raw


def _condition(quoted: str, type_code: int, decoded: bool) -> str:
    if type_code == _BYTEA:
        return f"EXISTS (SELECT FROM unnest(needle.raw) AS b WHERE position(b IN {quoted}) > 0)"
    if decoded:
        return (f"{quoted} LIKE ANY (needle.patterns) OR EXISTS (SELECT FROM unnest(needle.raw) AS b "
                f"WHERE position(b IN decode({quoted}, 'base64')) > 0)")
    return f"{quoted}::text LIKE ANY (needle.patterns)"


def _columns(cursor, base64_columns) -> dict[str, list[tuple[str, str, str]]]:
    """Every table's searchable columns, as (name, SQL condition matching a needle, the value as text or
    bytes). Two queries, not one per table: tests/conftest.py scans after many tests."""
    tables = connection.introspection.table_names(cursor)
    cursor.execute(
        "SELECT c.relname, a.attname, a.atttypid FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid "
        "WHERE c.oid = ANY (%s::regclass[]) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
        [[connection.ops.quote_name(table) for table in tables]],
    )
    columns = {table: [] for table in tables}
    for table, column, type_code in cursor.fetchall():
        if type_code not in _NOT_TEXT:
            quoted = connection.ops.quote_name(column)
            columns[table].append((column, _condition(quoted, type_code, (table, column) in base64_columns),
                                   quoted if type_code == _BYTEA else f"{quoted}::text"))
    return columns


def _labels_in(cursor, table: str, column, params, needles: dict, decoded: bool) -> tuple[str, ...]:
    """Which secrets the matching rows of one column hold."""
    _name, condition, expression = column
    cursor.execute(f"WITH needle AS (SELECT %s::text[] AS patterns, %s::bytea[] AS raw) "
                   f"SELECT {expression} FROM ONLY {connection.ops.quote_name(table)}, needle WHERE {condition}", params)
    stored = []
    for (value,) in cursor.fetchall():
        value = bytes(value) if isinstance(value, memoryview) else value
        stored += [value, base64.b64decode(value)] if decoded else [value]
    return tuple(sorted({label for value in stored for needle, label in needles.items()
                         if type(needle) is type(value) and needle in value}))


def scan_database(secrets: dict, *, base64_columns=None) -> Scan:
    """Search every table for `secrets` ({label: str or bytes}; strings also by their random part).
    `base64_columns`: (table, column) pairs whose text is base64 to decode first (default: the
    database caches' tables)."""
    text, raw = _needles(secrets)
    base64_columns = _base64_columns() if base64_columns is None else base64_columns
    params = [[_like(needle) for needle in text], list(raw)]
    with connection.cursor() as cursor:
        tables = _columns(cursor, base64_columns)
        selects = [
            f"SELECT %s::text, count(*), ARRAY[{', '.join(f'count(*) FILTER (WHERE {column[1]})' for column in columns)}]"
            f"::bigint[] FROM ONLY {connection.ops.quote_name(table)}, needle"
            for table, columns in tables.items()
        ]
        cursor.execute(f"WITH needle AS (SELECT %s::text[] AS patterns, %s::bytea[] AS raw) {' UNION ALL '.join(selects)}",
                       [*params, *tables])
        counts = cursor.fetchall()
        findings = tuple(
            Finding(table, column[0], hits, _labels_in(cursor, table, column, params, text | raw,
                                                       (table, column[0]) in base64_columns))
            for table, _rows, hits_per_column in counts
            for column, hits in zip(tables[table], hits_per_column, strict=True) if hits
        )
    return Scan(len(tables), sum(len(columns) for columns in tables.values()), sum(row[1] for row in counts), findings)
