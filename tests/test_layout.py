"""The layout of docs/architecture.md, held: one room per concern, imports pointing one way, no cycle.

No database: these read the source (tests/layout.py) and Celery's task registry.
"""

import pytest

from tests.layout import DOMAIN_APPS, KERNEL, MAX_LINES, OPERATIONS, WIRING, WIRING_FILES, long_files, scan

PROJECT = scan()
ROOMS = {KERNEL, OPERATIONS, WIRING, *DOMAIN_APPS}


def _listed(pairs) -> str:
    return "\n".join(f"  {source} -> {target}" for source, target in pairs)


def test_every_source_package_is_a_known_room():
    """A new top-level package needs its row in docs/architecture.md's table, and its rules here."""
    assert {PROJECT.room(module) for module in PROJECT.modules} == ROOMS


def test_no_import_cycle_between_files():
    cycles = PROJECT.cycles()
    assert not cycles, "Files that import each other in a circle (break it by direction, docs/architecture.md):\n" + \
        "\n".join("  " + " <-> ".join(cycle) for cycle in cycles)


def test_the_kernel_imports_nothing_of_the_project_but_itself():
    outward = PROJECT.imports_between({KERNEL}, ROOMS - {KERNEL})
    assert not outward, f"{KERNEL}/ is the ground floor: it may not import\n{_listed(outward)}"


def test_domain_apps_import_neither_operations_nor_the_wiring():
    upward = PROJECT.imports_between(set(DOMAIN_APPS), {OPERATIONS, WIRING})
    assert not upward, f"Domain apps sit below operations/ and config/:\n{_listed(upward)}"


def test_operations_is_imported_only_by_the_wiring():
    inward = PROJECT.imports_between(ROOMS - {OPERATIONS, WIRING}, {OPERATIONS})
    assert not inward, f"Nothing but config/ builds on operations/:\n{_listed(inward)}"


def test_config_holds_only_the_projects_wiring():
    strays = [str(path.relative_to(PROJECT.root)) for path in PROJECT.files_in(WIRING)
              if path.relative_to(PROJECT.root / WIRING).parts[0] not in WIRING_FILES]
    assert not strays, f"{WIRING}/ is settings, URLs, WSGI/ASGI, the Celery app and gunicorn only; move {strays}"


def test_no_file_is_too_long_to_read_in_one_sitting():
    assert not long_files(), f"Over {MAX_LINES} lines: {long_files()}"


@pytest.mark.parametrize("app", DOMAIN_APPS)
def test_every_domain_app_has_the_same_shape(app):
    present = {path.name for path in (PROJECT.root / app).iterdir()}
    missing = {"models.py", "services.py", "selectors.py", "admin.py", "api", "apps.py"} - present
    assert not missing, f"{app}/ lacks {sorted(missing)}"


def test_tasks_enqueued_by_name_exist():
    """Services start tasks by name (a task calls its service, so the service cannot import it back):
    each name must be a registered task, or the message would sit unread in the queue."""
    from config.celery import app
    from exports.services import RUN_EXPORT_TASK
    from outbox.services import DRAIN_OUTBOX_TASK

    app.loader.import_default_modules()
    assert {RUN_EXPORT_TASK, DRAIN_OUTBOX_TASK} <= set(app.tasks)
