"""Every action name the audit trail may hold. A name outside this set is a bug: record() refuses it.

Names are the tool_action key of the operation (spec §9) or `auth.*` for the session lifecycle;
a few operations have no route of their own and are listed as such.
"""

__all__ = ["AUDIT_ACTIONS", "AUTH_ACTIONS", "NON_ROUTE_ACTIONS", "ROUTE_ACTIONS"]

AUTH_ACTIONS = frozenset(
    {
        "auth.login",
        "auth.login.failed",
        "auth.logout",
        "auth.refresh.reuse_detected",
        "auth.reauthentication.failed",
        "auth.invitation.accepted",
    }
)

# tool_action keys whose operations are audited (checked against the catalog by a test).
ROUTE_ACTIONS = frozenset(
    {
        "tenants.create",
        "tenants.status.update",
        "tenants.packages.assign",
        "tenants.packages.unassign",
        "tenants.seeds.run",
        "catalog.tools.create",
        "catalog.actions.create",
        "catalog.packages.create",
        "catalog.packages.actions.add",
        "product_credentials.create",
        "product_credentials.rotate",
        "product_credentials.revoke",
        "users.create",
        "users.update",
        "users.status.update",
        "users.delete",
        "groups.create",
        "groups.update",
        "groups.status.update",
        "groups.members.add",
        "groups.members.remove",
        "groups.permissions.grant",
        "groups.permissions.revoke",
        "api_keys.create",
        "api_keys.status.update",
        "api_keys.rotate",
        "branding.update",
        "config.update",
        "webhooks.create",
        "webhooks.update",
        "webhooks.delete",
        "integrations.create",
        "integrations.delete",
        "tenant.export",
    }
)

# Operations reached from the admin, commands or jobs rather than a route of their own.
NON_ROUTE_ACTIONS = frozenset(
    {
        "catalog.actions.status.update",
        "catalog.packages.actions.remove",
        "outbox.events.requeue",
        "staff.roles.update",
        "users.invitations.reissue",
        # The beat's sweep telling products a package passed its expiresAt (tenancy/services.py).
        "tenants.packages.expire",
        # One summary entry per retention run, in the platform tenant (operations/tasks.py).
        "retention.run",
        # One summary entry per run that re-encrypted rows under the newest key (operations/services.py).
        "credentials.reencrypt",
    }
)

AUDIT_ACTIONS = AUTH_ACTIONS | ROUTE_ACTIONS | NON_ROUTE_ACTIONS
