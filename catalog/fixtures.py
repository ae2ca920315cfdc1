"""Reading and validating the declarative catalog in `fixtures/` before anything is written."""

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError

from catalog.models import (
    ACTION_KEY_VALIDATOR,
    PACKAGE_KEY_VALIDATOR,
    TOOL_KEY_VALIDATOR,
    AccessLevel,
    ActionScope,
)
from core.db.models import Status

__all__ = [
    "ActionSpec",
    "CatalogFixture",
    "FixtureError",
    "GroupTemplate",
    "PackageSpec",
    "ToolSpec",
    "load_catalog_fixture",
]

DEFAULT_FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"


class FixtureError(ValueError):
    pass


@dataclass(frozen=True)
class ActionSpec:
    key: str
    name: str
    access_level: str
    scope: str = ActionScope.TENANT
    description: str = ""
    # None: the fixture does not own the status, so staff may deactivate the action and seed keeps it.
    status: str | None = None


@dataclass(frozen=True)
class ToolSpec:
    key: str
    name: str
    description: str = ""
    is_core: bool = False
    status: str | None = None
    actions: tuple[ActionSpec, ...] = ()


@dataclass(frozen=True)
class PackageSpec:
    key: str
    name: str
    description: str = ""
    status: str | None = None
    actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupTemplate:
    name: str
    description: str
    access_levels: frozenset[str]
    scopes: frozenset[str]
    tenants: str  # "clients" or "platform"

    def applies_to(self, tenant) -> bool:
        return (self.tenants == "platform") == tenant.is_platform


@dataclass(frozen=True)
class CatalogFixture:
    tools: tuple[ToolSpec, ...]
    packages: tuple[PackageSpec, ...]
    group_templates: tuple[GroupTemplate, ...] = field(default=())


# libyaml's loader when PyYAML was built with it (the wheels are): several times faster.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> dict:
    try:
        return yaml.load(path.read_text(), Loader=_YAML_LOADER) or {}
    except yaml.YAMLError as exc:
        raise FixtureError(f"{path.name}: not valid YAML ({exc})") from exc


def _validated(validator, value: str, where: str) -> str:
    try:
        validator(value)
    except ValidationError as exc:
        raise FixtureError(f"{where}: invalid key {value!r} ({exc.messages[0]})") from exc
    return value


def _choice(value, choices, where: str):
    if value is not None and value not in choices.values:
        raise FixtureError(f"{where}: {value!r} is not one of {', '.join(choices.values)}")
    return value


def _tool_spec(path: Path) -> ToolSpec:
    document = _read_yaml(path)
    tool = document.get("tool") or {}
    key = _validated(TOOL_KEY_VALIDATOR, str(tool.get("key", "")), path.name)
    is_core = bool(tool.get("is_core", False))
    actions = []
    for raw in document.get("actions") or []:
        action_key = _validated(ACTION_KEY_VALIDATOR, str(raw.get("key", "")), f"{path.name}")
        where = f"{path.name}: {action_key}"
        # Product actions carry their tool's key, so a key alone says which product it belongs to.
        if not is_core and not action_key.startswith(f"{key}."):
            raise FixtureError(f"{where}: actions of tool {key!r} must start with '{key}.'")
        scope = _choice(raw.get("scope", ActionScope.TENANT), ActionScope, where)
        if scope == ActionScope.PLATFORM and not is_core:
            raise FixtureError(f"{where}: only core tools may declare platform-scope actions")
        actions.append(
            ActionSpec(
                key=action_key,
                name=str(raw.get("name") or action_key),
                description=str(raw.get("description", "")),
                access_level=_choice(raw.get("access_level"), AccessLevel, where) or "",
                scope=scope,
                status=_choice(raw.get("status"), Status, where),
            )
        )
        if not actions[-1].access_level:
            raise FixtureError(f"{where}: access_level is required")
    return ToolSpec(
        key=key,
        name=str(tool.get("name") or key),
        description=str(tool.get("description", "")),
        is_core=is_core,
        status=_choice(tool.get("status"), Status, path.name),
        actions=tuple(actions),
    )


def _package_specs(path: Path, actions_by_key: dict[str, ActionSpec]) -> list[PackageSpec]:
    packages = []
    for raw in _read_yaml(path).get("packages") or []:
        key = _validated(PACKAGE_KEY_VALIDATOR, str(raw.get("key", "")), path.name)
        action_keys = tuple(raw.get("actions") or [])
        for action_key in action_keys:
            action = actions_by_key.get(action_key)
            if action is None:
                raise FixtureError(f"{path.name}: package {key!r} lists unknown action {action_key!r}")
            if action.scope == ActionScope.PLATFORM:
                raise FixtureError(f"{path.name}: package {key!r} may not sell platform action {action_key!r}")
        if len(set(action_keys)) != len(action_keys):
            raise FixtureError(f"{path.name}: package {key!r} lists an action twice")
        packages.append(
            PackageSpec(
                key=key,
                name=str(raw.get("name") or key),
                description=str(raw.get("description", "")),
                status=_choice(raw.get("status"), Status, path.name),
                actions=action_keys,
            )
        )
    return packages


def _group_templates(path: Path) -> list[GroupTemplate]:
    templates = []
    for raw in _read_yaml(path).get("groups") or []:
        name = str(raw.get("name", "")).strip()
        where = f"{path.name}: {name or '?'}"
        if not name:
            raise FixtureError(f"{path.name}: a group template has no name")
        levels = frozenset(_choice(level, AccessLevel, where) for level in raw.get("access_levels") or [])
        scopes = frozenset(_choice(scope, ActionScope, where) for scope in raw.get("scopes") or [])
        tenants = raw.get("tenants", "clients")
        if tenants not in {"clients", "platform"}:
            raise FixtureError(f"{where}: tenants must be clients or platform")
        if ActionScope.PLATFORM in scopes and tenants != "platform":
            raise FixtureError(f"{where}: platform-scope actions can only be granted in the platform tenant")
        templates.append(GroupTemplate(name, str(raw.get("description", "")), levels, scopes, tenants))
    return templates


def _unique(keys, what: str) -> None:
    seen = set()
    for key in keys:
        if key in seen:
            raise FixtureError(f"{what} {key!r} is declared twice")
        seen.add(key)


def load_catalog_fixture(directory: Path | None = None) -> CatalogFixture:
    """Parse tools/*.yaml, packages.yaml and group_templates.yaml; raise FixtureError when invalid."""
    directory = Path(directory or DEFAULT_FIXTURES_DIR)
    tools = tuple(_tool_spec(path) for path in sorted((directory / "tools").glob("*.yaml")))
    if not tools:
        raise FixtureError(f"no tool fixtures found in {directory / 'tools'}")
    _unique((tool.key for tool in tools), "tool")
    actions_by_key = {}
    for tool in tools:
        for action in tool.actions:
            if action.key in actions_by_key:
                raise FixtureError(f"action {action.key!r} is declared twice")
            actions_by_key[action.key] = action
    packages = tuple(_package_specs(directory / "packages.yaml", actions_by_key))
    _unique((package.key for package in packages), "package")
    templates = tuple(_group_templates(directory / "group_templates.yaml"))
    _unique((template.name.lower() for template in templates), "group template")
    return CatalogFixture(tools=tools, packages=packages, group_templates=templates)
