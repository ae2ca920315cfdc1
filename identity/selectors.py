"""Reads of identity: one tenant's people and grants, and whether the platform has staff yet.
(Effective permissions, read on every request through their cache: identity/authorization.py.)"""

from identity.models import GroupPermission, User

__all__ = ["group_grant", "group_grants", "live_user", "platform_staff_exists"]


def live_user(*, tenant, user_id) -> User | None:
    """The tenant's user with this id, unless deleted (anonymised)."""
    return User.objects.for_tenant(tenant).filter(pk=user_id, deleted_at__isnull=True).first()


def group_grants(*, tenant, group):
    return GroupPermission.objects.for_tenant(tenant).filter(group=group).select_related("tool_action")


def group_grant(*, tenant, group, grant_id) -> GroupPermission | None:
    return (GroupPermission.objects.for_tenant(tenant).filter(group=group, pk=grant_id)
            .select_related("tool_action", "group__tenant").first())


def platform_staff_exists() -> bool:
    return User.objects.filter(tenant__is_platform=True, is_staff=True).exists()
