"""One naming rule for constraints and indexes: fk_<table>_<column>, idx_<table>_<cols>, uq_<table>_<cols>.

Used both by the schema editor (names Django generates itself) and by the models' Meta (names we
declare), so a name seen in a migration, an error or `\\d table` always says what it guards.
"""

import hashlib

from django.db import models

__all__ = ["check", "constraint_name", "index", "unique"]

POSTGRES_MAX_IDENTIFIER = 63


def constraint_name(prefix: str, table: str, columns) -> str:
    name = f"{prefix}_{table}_{'_'.join(columns)}"
    if len(name) <= POSTGRES_MAX_IDENTIFIER:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: POSTGRES_MAX_IDENTIFIER - 9]}_{digest}"


def _column(field_or_expression) -> str:
    if isinstance(field_or_expression, str):
        return field_or_expression.lstrip("-")
    if isinstance(field_or_expression, models.F):
        return field_or_expression.name
    # Expressions such as Lower("email") name the column they wrap.
    return "_".join(_column(source) for source in field_or_expression.get_source_expressions())


def index(table: str, *fields: str, **kwargs) -> models.Index:
    return models.Index(fields=list(fields), name=constraint_name("idx", table, map(_column, fields)), **kwargs)


def unique(table: str, *fields, **kwargs) -> models.UniqueConstraint:
    """A unique constraint over field names, or over expressions (e.g. Lower("email"))."""
    name = constraint_name("uq", table, map(_column, fields))
    if all(isinstance(field, str) for field in fields):
        return models.UniqueConstraint(fields=list(fields), name=name, **kwargs)
    expressions = [models.F(field) if isinstance(field, str) else field for field in fields]
    return models.UniqueConstraint(*expressions, name=name, **kwargs)


def check(table: str, column: str, condition: models.Q) -> models.CheckConstraint:
    return models.CheckConstraint(condition=condition, name=constraint_name("ck", table, [column]))
