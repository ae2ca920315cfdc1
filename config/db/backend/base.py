"""PostgreSQL backend: django-prometheus' instrumented wrapper plus our constraint naming."""

from django.db.backends.postgresql.schema import DatabaseSchemaEditor as PostgresSchemaEditor
from django_prometheus.db.backends.postgresql.base import DatabaseWrapper as PrometheusDatabaseWrapper

from config.db.naming import constraint_name


class DatabaseSchemaEditor(PostgresSchemaEditor):
    def _create_index_name(self, table_name, column_names, suffix=""):
        # Django passes "_fk_<to_table>_<to_column>" for foreign keys, "_uniq" for unique
        # constraints and "_like" for the pattern-ops twin of a varchar index.
        table = table_name.split(".")[-1].strip('"')
        if suffix.startswith("_fk_"):
            return constraint_name("fk", table, column_names)
        if suffix == "_uniq":
            return constraint_name("uq", table, column_names)
        columns = list(column_names) + ([suffix.lstrip("_")] if suffix else [])
        return constraint_name("idx", table, columns)


class DatabaseWrapper(PrometheusDatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
