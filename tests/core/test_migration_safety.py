"""django-migration-linter over the project's migrations: nothing that locks a busy table or breaks
the code still running during a deploy (docs/operations.md, expand/contract)."""

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django_migration_linter import MigrationLinter

# Outside a test transaction: sqlmigrate refuses to render a migration with `atomic = False`
# (AddIndexConcurrently, the expand step docs/operations.md asks for) inside one.
pytestmark = pytest.mark.django_db(transaction=True)

# Shipped before the rule, reviewed then; never add to this list — write an expand/contract pair.
BASELINE = ["0002_webhook_secret_encryption", "0004_audit_chain_required"]


def project_apps() -> list[str]:
    return [config.label for config in apps.get_app_configs() if Path(config.path).parent == Path(settings.BASE_DIR)]


def lint(**options) -> MigrationLinter:
    # Initial migrations only create new tables, which nobody is waiting on.
    linter = MigrationLinter(no_cache=True, no_output=True, all_warnings_as_errors=True, analyser_string="postgresql",
                             ignore_initial_migrations=True, **options)
    linter.lint_all_migrations()
    return linter


def test_no_project_migration_locks_tables_or_breaks_running_code():
    linter = lint(include_apps=project_apps(), ignore_name=BASELINE)
    assert linter.nb_total > 0 and linter.nb_valid > 0
    assert not linter.has_errors, f"{linter.nb_erroneous} migration(s) refused; run manage.py sqlmigrate to see why"


def test_the_linter_refuses_a_locking_migration(settings):
    settings.MIGRATION_MODULES = {"integrations": "tests.core.locking_migrations"}
    linter = lint(include_apps=["integrations"])
    assert linter.nb_erroneous == 1 and linter.has_errors
