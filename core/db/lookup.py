"""Queries on hot paths, compiled to SQL once per process and prepared once per connection.

Every authenticated request loads its principal (a user or an API key, with its tenant joined), and
most lists read a page of the tenant's rows in the same few shapes. Each query is the same every
time but for its values, yet the ORM compiled it anew per request: on the bench machine that took
six times as long as PostgreSQL took to answer it. A `CompiledQuery` lets the ORM compile it once,
with stand-in values, and then only executes the SQL with the real values and converts the rows the
way the queryset would, through Django's cursor so that query counting, metrics and tracing see it
as before. `RowLookup` builds model instances from such a query, as a queryset would (`from_db`, the
related instance cached on its foreign key).

PostgreSQL then spent more time planning than running them (0.4 ms against 0.2 ms for the
principal's join): each database connection PREPAREs a statement once and EXECUTEs it after. Not
behind a transaction-mode pooler (DATABASE_POOLED), where consecutive transactions may land on
different server sessions and a prepared statement would not be there.
"""

import itertools
import re
import threading
import uuid
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from random import randrange

from django.conf import settings
from django.db import connections, models, router

__all__ = ["PREPARED_PER_CONNECTION", "CompiledQuery", "RowLookup", "execute_prepared", "statement_name"]


_statement_names = (f"hub_compiled_{number}" for number in itertools.count(1))
# A server session keeps what is prepared on it until it ends: however many shapes of page clients
# ask for within a connection's lifetime, each session holds at most this many statements.
PREPARED_PER_CONNECTION = 100
# Per server connection (psycopg's, replaced when Django reconnects): the statements prepared on it.
_prepared_on = weakref.WeakKeyDictionary()


def _numbered_placeholders(sql: str) -> str:
    """Django's `%s` placeholders as PREPARE's `$1, $2…` (and `%%` as the `%` it stands for)."""
    numbers = itertools.count(1)
    return re.sub(r"%[s%]", lambda match: "%" if match.group() == "%%" else f"${next(numbers)}", sql)


def statement_name() -> str:
    """A name for a statement that `execute_prepared` prepares, unique in this process."""
    return next(_statement_names)


def execute_prepared(cursor, name: str, sql: str, params: list) -> None:
    """Run `sql` (with Django's `%s` placeholders) as statement `name`: PREPAREd the first time on
    this database connection and EXECUTEd after; as plain SQL behind DATABASE_POOLED or once the
    connection holds PREPARED_PER_CONNECTION statements."""
    prepared = None if settings.DATABASE_POOLED else _prepared_on.setdefault(cursor.db.connection, set())
    if prepared is not None and name not in prepared and len(prepared) < PREPARED_PER_CONNECTION:
        cursor.execute(f"PREPARE {name} AS {_numbered_placeholders(sql)}")
        prepared.add(name)
    if prepared is None or name not in prepared:
        cursor.execute(sql, params)
        return
    cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)


def _stand_in(field: models.Field):
    """A value no real row holds, recognisable among the compiled query's parameters."""
    if isinstance(field, (models.UUIDField, models.ForeignKey)):
        return uuid.uuid4()
    if isinstance(field, models.DateTimeField):
        return datetime(1900, 1, 1, tzinfo=UTC) + timedelta(microseconds=randrange(10**15))
    return f"stand-in {uuid.uuid4()}"


def _prepare(field: models.Field, value, connection):
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    return target.get_db_prep_value(value, connection, prepared=False)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    param_names: tuple  # the value that goes in each parameter, in order
    converters: list  # (position in the row, converters, expression)
    description: object  # what `describe` made of the compiler


class CompiledQuery:
    """The SQL of `build(**values)` — a queryset whose every parameter is one of `fields`' values,
    each field saying how its value is written — compiled once per database with stand-in values.
    `rows(values)` runs it with real ones: the rows as lists, each column converted as the queryset
    would have converted it. `describe(compiler)`, after compiling, keeps what a caller needs to know
    of the select (the compiler itself is not kept: it holds the whole query)."""

    def __init__(self, build, fields: dict[str, models.Field], *, describe=None):
        self._build = build
        self.fields = fields
        self._describe = describe
        self._compiled = {}
        self._lock = threading.Lock()
        self._statement = statement_name()

    def compiled(self, using: str) -> _Compiled:
        compiled = self._compiled.get(using)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(using) or self._compile(using)
                self._compiled[using] = compiled
        return compiled

    def _compile(self, using: str) -> _Compiled:
        stand_ins = {name: _stand_in(field) for name, field in self.fields.items()}
        compiler = self._build(**stand_ins).query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        prepared = {name: _prepare(field, stand_ins[name], connections[using]) for name, field in self.fields.items()}
        param_names = tuple(name for value in params for name, stand_in in prepared.items() if value == stand_in)
        if len(param_names) != len(params) or set(param_names) != set(self.fields):
            raise AssertionError(f"could not place every value in {sql!r}")
        select = [column for column, _sql, _alias in compiler.select[: compiler.col_count]]
        converters = compiler.get_converters(select)
        return _Compiled(
            sql=sql,
            param_names=param_names,
            converters=[(position, convs, expression) for position, (convs, expression) in converters.items()],
            description=self._describe(compiler) if self._describe else None,
        )

    def rows(self, values: dict, *, using: str) -> list[list]:
        compiled = self.compiled(using)
        connection = connections[using]
        params = [_prepare(self.fields[name], values[name], connection) for name in compiled.param_names]
        with connection.cursor() as cursor:
            execute_prepared(cursor, self._statement, compiled.sql, params)
            rows = [list(row) for row in cursor.fetchall()]
        for position, convs, expression in compiled.converters:
            for row in rows:
                for converter in convs:
                    row[position] = converter(row[position], expression, connection)
        return rows


@dataclass(frozen=True)
class _Layout:
    model_slice: slice
    model_attnames: list
    related_slice: slice
    related_attnames: list


class RowLookup:
    """At most one `model` row matching equality filters on `filters`, with `join` (a foreign key, if
    any) selected alongside, as a model instance or None; and the instance as plain values to keep
    (`snapshot`) and build again (`restore`) without the database."""

    def __init__(self, model, *, join: str | None, filters: tuple[str, ...], defer: tuple[str, ...] = ()):
        """`join`: None for the row alone. `defer`: fields of `model` left out, loaded from the
        database on first access."""
        self.model = model
        self.join = model._meta.get_field(join) if join else None
        rows = model._base_manager.select_related(join) if join else model._base_manager.all()
        self._query = CompiledQuery(
            lambda **values: rows.defer(*defer).filter(**values).order_by()[:1],
            {name: model._meta.pk if name == "pk" else model._meta.get_field(name) for name in filters},
            describe=self._layout,
        )

    @staticmethod
    def _layout(compiler) -> _Layout:
        select = compiler.select
        model_fields = compiler.klass_info["select_fields"]
        related = compiler.klass_info.get("related_klass_infos")
        related_fields = related[0]["select_fields"] if related else []
        model_slice = slice(model_fields[0], model_fields[-1] + 1)
        related_slice = slice(related_fields[0], related_fields[-1] + 1) if related_fields else slice(0, 0)
        return _Layout(
            model_slice=model_slice,
            model_attnames=[column.target.attname for column, _s, _a in select[model_slice]],
            related_slice=related_slice,
            related_attnames=[column.target.attname for column, _s, _a in select[related_slice]],
        )

    def get(self, **values):
        using = router.db_for_read(self.model)
        rows = self._query.rows(values, using=using)
        if not rows:
            return None
        row, layout = rows[0], self._query.compiled(using).description
        return self._instance(using, (dict(zip(layout.model_attnames, row[layout.model_slice])),
                                      dict(zip(layout.related_attnames, row[layout.related_slice]))))

    def snapshot(self, instance) -> tuple[dict, dict]:
        """What `restore` needs to build `instance` (one this lookup found) again: the values of the
        columns it selected, of the model and of the joined row. Plain values, to keep elsewhere."""
        layout = self._query.compiled(router.db_for_read(self.model)).description
        related = self.join.get_cached_value(instance) if self.join else None
        return ({name: instance.__dict__[name] for name in layout.model_attnames},
                {name: related.__dict__[name] for name in layout.related_attnames})

    def restore(self, snapshot: tuple[dict, dict]):
        """The instance `snapshot` was taken of, as `get` built it (a new object each time)."""
        return self._instance(router.db_for_read(self.model), snapshot)

    def _instance(self, using: str, snapshot: tuple[dict, dict]):
        own, joined = snapshot
        instance = self.model.from_db(using, list(own), list(own.values()))
        if self.join is not None:
            related = self.join.related_model.from_db(using, list(joined), list(joined.values()))
            self.join.set_cached_value(instance, related)
        return instance
