"""Cached permissions are kept under the catalog's and the tenant's version counters
(identity/authorization.py); a counter the cache lacks is started again, never read as a value."""

import pytest
from django.core.cache import cache

from audit.services import SYSTEM
from core.cache.versions import CATALOG_VERSION_KEY, tenant_version_key
from identity.authorization import effective_permissions
from identity.models import GroupPermission
from identity.principal import Principal
from identity.services import add_member, create_group, grant_permissions, revoke_permission
from identity.tokens import TokenType

pytestmark = pytest.mark.django_db


def permissions(tenant, user) -> frozenset[str]:
    return effective_permissions(Principal(type=TokenType.USER, tenant=tenant, user=user))


@pytest.mark.parametrize("lost", [CATALOG_VERSION_KEY, "tenant"])
def test_permissions_kept_before_a_counter_was_lost_are_not_read_after(tenant, user, lost):
    group = create_group(tenant=tenant, name="readers", actor=SYSTEM)
    grant_permissions(group=group, tool_action_keys=["users.read"], actor=SYSTEM)
    add_member(group=group, user=user, actor=SYSTEM)
    lost = tenant_version_key(tenant.pk) if lost == "tenant" else lost
    # A fresh cache: nothing bumped the counters since it started.
    cache.delete_many([CATALOG_VERSION_KEY, tenant_version_key(tenant.pk)])
    assert "users.read" in permissions(tenant, user)
    assert cache.get(CATALOG_VERSION_KEY) is not None and cache.get(tenant_version_key(tenant.pk)) is not None

    revoke_permission(permission=GroupPermission.objects.get(group=group), actor=SYSTEM)
    cache.delete(lost)  # evicted, or expired
    assert "users.read" not in permissions(tenant, user)
