"""Reads about tenants: above all, which actions a tenant may use."""

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from catalog.models import ActionScope, PackageAction, ToolAction
from core.db.models import Status
from tenancy.models import Tenant, TenantToolOverride

__all__ = ["entitled_actions", "entitled_tools", "platform_tenant", "tenant_by_slug"]


def entitled_actions(tenant, *, at=None):
    """The active actions `tenant` may use at `at` (now by default).

    An action is entitled when it and its tool are active, and either the tool is core or the tenant
    holds an active, unexpired, active package containing it; no override may disable the tool or
    the action; platform-scope actions only in the platform tenant.
    """
    at = at or timezone.now()
    # One filter() call: a second one on this many-valued relation would join tenant_package again,
    # and read the expiry of any tenant's holding of the package rather than this tenant's.
    in_held_package = PackageAction.objects.filter(
        Q(package__tenant_packages__expires_at__isnull=True) | Q(package__tenant_packages__expires_at__gt=at),
        tool_action=OuterRef("pk"),
        package__status=Status.ACTIVE,
        package__tenant_packages__tenant=tenant,
        package__tenant_packages__status=Status.ACTIVE,
    )
    disabled = TenantToolOverride.objects.for_tenant(tenant).filter(flags__enabled=False)
    actions = (
        ToolAction.objects.filter(status=Status.ACTIVE, tool__status=Status.ACTIVE)
        .filter(Q(tool__is_core=True) | Exists(in_held_package))
        .exclude(Exists(disabled.filter(tool_action=OuterRef("pk"))))
        .exclude(Exists(disabled.filter(tool=OuterRef("tool_id"))))
    )
    if not tenant.is_platform:
        actions = actions.filter(scope=ActionScope.TENANT)
    return actions


def entitled_tools(tenant, *, at=None) -> list[str]:
    """The keys of the products (tools that are not core) `tenant` may use at `at`, sorted: a tool
    is entitled while one of its actions is. The hub's own core tools are left out: every tenant
    has them, and tokens name the hub as settings.JWT_AUDIENCE."""
    return list(entitled_actions(tenant, at=at).filter(tool__is_core=False).order_by("tool__key")
                .values_list("tool__key", flat=True).distinct())


def platform_tenant() -> Tenant | None:
    """Aza8's own tenant (staff, platform routes, system audit entries); None before `seed` ran."""
    return Tenant.objects.filter(is_platform=True).first()


def tenant_by_slug(slug: str) -> Tenant | None:
    return Tenant.objects.filter(slug=slug).first()
