"""Writes to the catalog."""

from catalog.fixtures import CatalogFixture
from catalog.models import Package, PackageAction, Tool, ToolAction
from config.changes import ChangeLog, upsert

__all__ = ["sync_catalog"]


def _declared(spec, *names) -> dict:
    values = {name: getattr(spec, name) for name in names}
    if spec.status is not None:
        values["status"] = spec.status
    return values


def sync_catalog(fixture: CatalogFixture, changes: ChangeLog) -> None:
    """Upsert every tool, action, package and package link the fixture declares.

    Idempotent, and additive: rows created through the API or admin are left alone, and a status is
    only enforced where the fixture declares one. Call inside a transaction.
    """
    actions_by_key = {}
    for tool_spec in fixture.tools:
        tool = upsert(
            Tool,
            lookup={"key": tool_spec.key},
            values=_declared(tool_spec, "name", "description", "is_core"),
            changes=changes,
            label=f"tool {tool_spec.key}",
        )
        for action_spec in tool_spec.actions:
            actions_by_key[action_spec.key] = upsert(
                ToolAction,
                lookup={"key": action_spec.key},
                values={"tool_id": tool.id, **_declared(action_spec, "name", "description", "access_level", "scope")},
                changes=changes,
                label=f"action {action_spec.key}",
            )
    for package_spec in fixture.packages:
        package = upsert(
            Package,
            lookup={"key": package_spec.key},
            values=_declared(package_spec, "name", "description"),
            changes=changes,
            label=f"package {package_spec.key}",
        )
        linked = set(package.package_actions.values_list("tool_action_id", flat=True))
        missing = [key for key in package_spec.actions if actions_by_key[key].id not in linked]
        PackageAction.objects.bulk_create(
            [PackageAction(package=package, tool_action=actions_by_key[key]) for key in missing]
        )
        for key in missing:
            changes.add(f"add action {key} to package {package_spec.key}")
