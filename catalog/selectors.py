"""Reads of the catalog: what each kind of caller may see of it.

Platform staff see every tool, action and package, retired ones included; client tenants see what is
active, and only the actions their tenant could be entitled to (tenant scope).
"""

from django.conf import settings
from django.core.cache import cache
from django.db.models import Prefetch

from catalog.models import ActionScope, Package, PackageAction, Tool, ToolAction
from core.cache.versions import CATALOG_VERSION_KEY
from core.db.models import Status

__all__ = ["sellable_actions", "tool_actions", "tool_actions_cache_key", "visible_actions", "visible_packages",
           "visible_tools"]


def visible_tools(*, platform: bool):
    tools = Tool.objects.all()
    return tools if platform else tools.filter(status=Status.ACTIVE)


def visible_actions(*, platform: bool):
    actions = ToolAction.objects.select_related("tool").order_by("key")
    return actions if platform else actions.filter(status=Status.ACTIVE, scope=ActionScope.TENANT)


def visible_packages(*, platform: bool):
    """Packages with their actions prefetched (retired actions only for the platform)."""
    links = PackageAction.objects.select_related("tool_action")
    if not platform:
        links = links.filter(tool_action__status=Status.ACTIVE)
    packages = Package.objects.prefetch_related(Prefetch("package_actions", queryset=links))
    return packages if platform else packages.filter(status=Status.ACTIVE)


def sellable_actions():
    """The actions a package may hold: tenant scope only."""
    return ToolAction.objects.filter(scope=ActionScope.TENANT).select_related("tool").order_by("key")


def tool_actions_cache_key(tool_id) -> str:
    return f"toolactions:{tool_id}"


def tool_actions(tool, cache_reads=None) -> frozenset[str]:
    """Every action key of `tool`: what a product credential's questions and reports are bounded by.
    Cached under the catalog's version (bumped whenever an action is added or changed); `cache_reads`,
    a request's reads made up front (core/cache/reads.py), may hold both already."""
    key = tool_actions_cache_key(tool.pk)
    found = (cache_reads or cache).get_many([CATALOG_VERSION_KEY, key])
    version, entry = found.get(CATALOG_VERSION_KEY, 0), found.get(key)
    if entry is not None and entry[0] == version:
        return entry[1]
    keys = frozenset(ToolAction.objects.filter(tool=tool).values_list("key", flat=True))
    cache.set(key, (version, keys), timeout=settings.PERMISSION_CACHE_SECONDS)
    return keys
