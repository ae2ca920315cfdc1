"""Row lookups on the authentication path, compiled to SQL once per process.

Every authenticated request loads its principal (a user or an API key, with its tenant joined).
The query is the same each time but for its values, yet the ORM compiled it anew per request:
on the bench machine that took six times as long as PostgreSQL took to answer it. A `RowLookup`
lets the ORM compile it once, with stand-in values, and then only executes the SQL with the real
values and builds the instances the way a queryset would (converters, `from_db`, the related
instance cached on its foreign key), through Django's cursor so that query counting, metrics and
tracing see it as before.

PostgreSQL then spent more time planning the join than running it (0.4 ms against 0.2 ms): each
database connection PREPAREs the statement once and EXECUTEs it after. Not behind a
transaction-mode pooler (DATABASE_POOLED), where consecutive transactions may land on different
server sessions and a prepared statement would not be there.
"""

import itertools
import re
import threading
import uuid
import weakref
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, models, router

__all__ = ["RowLookup"]


_statement_names = (f"hub_row_lookup_{number}" for number in itertools.count(1))
# Per server connection (psycopg's, replaced when Django reconnects): the statements prepared on it.
_prepared_on = weakref.WeakKeyDictionary()


def _numbered_placeholders(sql: str) -> str:
    """Django's `%s` placeholders as PREPARE's `$1, $2…` (and `%%` as the `%` it stands for)."""
    numbers = itertools.count(1)
    return re.sub(r"%[s%]", lambda match: "%" if match.group() == "%%" else f"${next(numbers)}", sql)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    param_names: tuple  # the filter whose value goes in each parameter, in order
    converters: list  # (position in the row, converters, expression)
    model_slice: slice
    model_attnames: list
    related_slice: slice
    related_attnames: list


class RowLookup:
    """At most one `model` row matching equality filters on `filters`, with `join` (a foreign key)
    selected alongside, as a model instance or None."""

    def __init__(self, model, *, join: str, filters: tuple[str, ...]):
        self.model = model
        self.join = model._meta.get_field(join)
        self.filters = {name: self._field(name) for name in filters}
        self._compiled = {}
        self._lock = threading.Lock()
        self._statement = next(_statement_names)

    def _field(self, name: str):
        return self.model._meta.pk if name == "pk" else self.model._meta.get_field(name)

    @staticmethod
    def _stand_in(field):
        if isinstance(field, (models.UUIDField, models.ForeignKey)):
            return uuid.uuid4()
        return f"stand-in {uuid.uuid4()}"

    def _compile(self, using: str) -> _Compiled:
        stand_ins = {name: self._stand_in(field) for name, field in self.filters.items()}
        queryset = self.model._base_manager.using(using).select_related(self.join.name).filter(**stand_ins).order_by()
        compiler = queryset[:1].query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        prepared = {
            name: self._prepare(field, stand_ins[name], connections[using]) for name, field in self.filters.items()
        }
        param_names = tuple(name for value in params for name, stand_in in prepared.items() if value == stand_in)
        if len(param_names) != len(params) or sorted(param_names) != sorted(self.filters):
            raise AssertionError(f"could not place every filter value in {sql!r}")
        select = compiler.select
        model_fields = compiler.klass_info["select_fields"]
        related_fields = compiler.klass_info["related_klass_infos"][0]["select_fields"]
        model_slice = slice(model_fields[0], model_fields[-1] + 1)
        related_slice = slice(related_fields[0], related_fields[-1] + 1)
        converters = compiler.get_converters([column for column, _sql, _alias in select])
        return _Compiled(
            sql=sql,
            param_names=param_names,
            converters=[(position, convs, expression) for position, (convs, expression) in converters.items()],
            model_slice=model_slice,
            model_attnames=[column.target.attname for column, _s, _a in select[model_slice]],
            related_slice=related_slice,
            related_attnames=[column.target.attname for column, _s, _a in select[related_slice]],
        )

    @staticmethod
    def _prepare(field, value, connection):
        target = field.target_field if isinstance(field, models.ForeignKey) else field
        return target.get_db_prep_value(value, connection, prepared=False)

    def get(self, **values):
        using = router.db_for_read(self.model)
        compiled = self._compiled.get(using)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(using) or self._compile(using)
                self._compiled[using] = compiled
        connection = connections[using]
        params = [self._prepare(self.filters[name], values[name], connection) for name in compiled.param_names]
        with connection.cursor() as cursor:
            self._execute(connection, cursor, compiled, params)
            row = cursor.fetchone()
        if row is None:
            return None
        row = list(row)
        for position, convs, expression in compiled.converters:
            for converter in convs:
                row[position] = converter(row[position], expression, connection)
        instance = self.model.from_db(using, compiled.model_attnames, row[compiled.model_slice])
        related = self.join.related_model.from_db(using, compiled.related_attnames, row[compiled.related_slice])
        self.join.set_cached_value(instance, related)
        return instance

    def _execute(self, connection, cursor, compiled: _Compiled, params: list) -> None:
        if settings.DATABASE_POOLED:
            cursor.execute(compiled.sql, params)
            return
        prepared = _prepared_on.setdefault(connection.connection, set())
        if self._statement not in prepared:
            cursor.execute(f"PREPARE {self._statement} AS {_numbered_placeholders(compiled.sql)}")
            prepared.add(self._statement)
        cursor.execute(f"EXECUTE {self._statement} ({', '.join(['%s'] * len(params))})", params)
