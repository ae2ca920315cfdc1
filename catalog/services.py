"""Writes to the catalog."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from audit.services import record
from catalog.fixtures import CatalogFixture
from catalog.models import (
    ACTION_KEY_VALIDATOR,
    PACKAGE_KEY_VALIDATOR,
    TOOL_KEY_VALIDATOR,
    ActionScope,
    Package,
    PackageAction,
    Tool,
    ToolAction,
)
from core.api.exceptions import DuplicateResource, Unprocessable, ValidationFailed
from core.cache.versions import bump_catalog_version
from core.db.changes import ChangeLog, update_changed, upsert
from core.db.models import change_status

__all__ = [
    "add_package_actions",
    "create_action",
    "create_package",
    "create_tool",
    "remove_package_actions",
    "set_action_status",
    "sync_catalog",
]


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
    changes_before = len(changes)
    # One read of the actions and one insert per tool, rather than a round trip per action.
    declared_keys = [action.key for tool in fixture.tools for action in tool.actions]
    actions_by_key = {action.key: action for action in ToolAction.objects.filter(key__in=declared_keys)}
    for tool_spec in fixture.tools:
        tool = upsert(
            Tool,
            lookup={"key": tool_spec.key},
            values=_declared(tool_spec, "name", "description", "is_core"),
            changes=changes,
            label=f"tool {tool_spec.key}",
        )
        new_actions = []
        for action_spec in tool_spec.actions:
            values = {"tool_id": tool.id, **_declared(action_spec, "name", "description", "access_level", "scope")}
            action = actions_by_key.get(action_spec.key)
            if action is None:
                action = actions_by_key[action_spec.key] = ToolAction(key=action_spec.key, **values)
                new_actions.append(action)
                changes.add(f"create action {action_spec.key}")
            else:
                update_changed(action, values=values, changes=changes, label=f"action {action_spec.key}")
        ToolAction.objects.bulk_create(new_actions)
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
    if len(changes) > changes_before:
        bump_catalog_version()


# --- Catalog management (platform staff, through the API or the admin) ------------------------


def _audit(actor_tenant, action: str, entity_type: str, entity_id, actor, metadata=None) -> None:
    record(tenant=actor_tenant, action=action, entity_type=entity_type, entity_id=entity_id, actor=actor,
           metadata=metadata)


def _validate_key(validator, key: str, field: str) -> None:
    try:
        validator(key)
    except DjangoValidationError as exc:
        raise ValidationFailed(details={field: exc.messages}) from exc


@transaction.atomic
def create_tool(*, key: str, name: str, description: str = "", is_core: bool = False, actor, actor_tenant) -> Tool:
    _validate_key(TOOL_KEY_VALIDATOR, key, "key")
    if Tool.objects.filter(key=key).exists():
        raise DuplicateResource("A tool with this key already exists.")
    tool = Tool.objects.create(key=key, name=name, description=description, is_core=is_core)
    _audit(actor_tenant, "catalog.tools.create", "tool", tool.key, actor)
    return tool


@transaction.atomic
def create_action(
    *, tool: Tool, key: str, name: str, access_level: str, scope: str = ActionScope.TENANT, description: str = "",
    actor, actor_tenant,
) -> ToolAction:
    _validate_key(ACTION_KEY_VALIDATOR, key, "key")
    if not tool.is_core and not key.startswith(f"{tool.key}."):
        raise Unprocessable(details={"key": [f"Actions of tool \"{tool.key}\" start with \"{tool.key}.\"."]})
    if scope == ActionScope.PLATFORM and not tool.is_core:
        raise Unprocessable(details={"scope": ["Only core tools have platform-scope actions."]})
    if ToolAction.objects.filter(key=key).exists():
        raise DuplicateResource("An action with this key already exists.")
    action = ToolAction.objects.create(
        tool=tool, key=key, name=name, description=description, access_level=access_level, scope=scope
    )
    # A new action of a core tool is entitled to every tenant at once.
    bump_catalog_version()
    # By id, the key in metadata: an action's key (up to 150) outgrows the trail's entity_id (64).
    _audit(actor_tenant, "catalog.actions.create", "tool_action", action.pk, actor, {"tool": tool.key, "key": key})
    return action


@transaction.atomic
def set_action_status(*, action: ToolAction, status: str, reason: str = "", actor, actor_tenant) -> ToolAction:
    """Deactivating an action takes it out of every effective permission on the next request."""
    change_status(action, status, reason)
    bump_catalog_version()
    _audit(actor_tenant, "catalog.actions.status.update", "tool_action", action.pk, actor,
           {"key": action.key, "to": status})
    return action


@transaction.atomic
def create_package(*, key: str, name: str, description: str = "", actions=(), actor, actor_tenant) -> Package:
    _validate_key(PACKAGE_KEY_VALIDATOR, key, "key")
    if Package.objects.filter(key=key).exists():
        raise DuplicateResource("A package with this key already exists.")
    package = Package.objects.create(key=key, name=name, description=description)
    _audit(actor_tenant, "catalog.packages.create", "package", package.key, actor)
    if actions:
        add_package_actions(package=package, action_keys=actions, actor=actor, actor_tenant=actor_tenant)
    return package


@transaction.atomic
def add_package_actions(*, package: Package, action_keys, actor, actor_tenant) -> list[str]:
    """Add actions to a package (idempotent); returns the keys that were new."""
    keys = sorted(set(action_keys))
    actions = {action.key: action for action in ToolAction.objects.filter(key__in=keys)}
    unknown = [key for key in keys if key not in actions]
    platform = [key for key in keys if key in actions and actions[key].scope == ActionScope.PLATFORM]
    if unknown or platform:
        raise Unprocessable(
            "Packages sell existing, tenant-scope actions.", details={"actions": unknown + platform}
        )
    held = set(package.package_actions.values_list("tool_action__key", flat=True))
    new = [key for key in keys if key not in held]
    PackageAction.objects.bulk_create([PackageAction(package=package, tool_action=actions[key]) for key in new])
    if new:
        bump_catalog_version()
        _audit(actor_tenant, "catalog.packages.actions.add", "package", package.key, actor, {"actions": new})
    return new


@transaction.atomic
def remove_package_actions(*, package: Package, action_keys, actor, actor_tenant) -> list[str]:
    """Take actions out of a package; tenants holding it lose them on their next request."""
    keys = sorted(set(action_keys))
    removed = sorted(package.package_actions.filter(tool_action__key__in=keys).values_list("tool_action__key", flat=True))
    package.package_actions.filter(tool_action__key__in=removed).delete()
    if removed:
        bump_catalog_version()
        _audit(actor_tenant, "catalog.packages.actions.remove", "package", package.key, actor, {"actions": removed})
    return removed
