"""The two staff roles of the back office, as Django permission groups kept by `manage.py seed`.

Support reads everything and changes nothing; operators also run the admin's actions and forms
(which write through the services). A staff member's roles are their `groups`; superusers need none.
"""

from django.contrib.auth.models import Group as StaffRole
from django.contrib.auth.models import Permission

from core.db.changes import ChangeLog

__all__ = ["OPERATOR", "STAFF_APPS", "SUPPORT", "role_permissions", "sync_staff_roles"]

SUPPORT = "Platform support (read-only)"
OPERATOR = "Platform operator"
STAFF_APPS = ["catalog", "tenancy", "identity", "audit", "outbox", "branding", "usage", "integrations", "exports",
              "django_celery_beat"]


def role_permissions(role: str):
    permissions = Permission.objects.filter(content_type__app_label__in=STAFF_APPS)
    if role == SUPPORT:
        return permissions.filter(codename__startswith="view_")
    # Both roles may read the roles (identity.StaffRole); changing one is a superuser's privilege.
    return permissions.exclude(codename__in=["add_staffrole", "change_staffrole", "delete_staffrole"])


def sync_staff_roles(changes: ChangeLog) -> None:
    for role in (SUPPORT, OPERATOR):
        group, created = StaffRole.objects.get_or_create(name=role)
        wanted = set(role_permissions(role).values_list("pk", flat=True))
        held = set(group.permissions.values_list("pk", flat=True))
        if created:
            changes.add(f"create staff role {role}")
        if wanted - held:
            group.permissions.add(*(wanted - held))
            changes.add(f"grant {len(wanted - held)} permission(s) to staff role {role}")
        if held - wanted:
            group.permissions.remove(*(held - wanted))
            changes.add(f"revoke {len(held - wanted)} permission(s) from staff role {role}")
