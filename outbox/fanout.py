"""Fan-out: pending events become one delivery per subscription that should receive them
(outbox/delivery.py sends them)."""

from django.db import connection
from django.utils import timezone

from catalog.models import ActionScope
from core.db.models import Status
from outbox.models import DeliveryStatus, EventStatus

__all__ = ["fan_out"]

# One statement, so no transaction to open and commit and no rows through Python: lock up to a batch
# of pending events no other worker holds, insert one delivery per active subscription that lists
# the event's type and existed when it happened (a new subscription does not replay history), mark
# the events done. The CTE is read twice, so PostgreSQL materialises it once: the events inserted
# for are the events marked done. A subscription is the event tenant's own, or a product's (a
# platform-tenant row with `tool` set, docs/webhooks.md): a product receives an access.changed that
# names its tool, and any other event of a tenant entitled to its tool now — the rule of
# tenancy.selectors.entitled_actions, said in SQL (tests/outbox/test_product_webhooks.py holds them
# to the same answers). A delivery belongs to its subscription's tenant.
_ENTITLED = f"""
    EXISTS (SELECT 1 FROM tool_action AS action
            WHERE action.tool_id = tool.id AND action.status = '{Status.ACTIVE}' AND tool.status = '{Status.ACTIVE}'
              AND (action.scope = '{ActionScope.TENANT}' OR tenant.is_platform)
              AND (tool.is_core OR EXISTS (
                  SELECT 1 FROM package_action JOIN package ON package.id = package_action.package_id
                  JOIN tenant_package AS held ON held.package_id = package.id
                  WHERE package_action.tool_action_id = action.id AND package.status = '{Status.ACTIVE}'
                    AND held.tenant_id = event.tenant_id AND held.status = '{Status.ACTIVE}'
                    AND (held.expires_at IS NULL OR held.expires_at > %(now)s)))
              AND NOT EXISTS (
                  SELECT 1 FROM tenant_tool_override AS override
                  WHERE override.tenant_id = event.tenant_id AND override.flags -> 'enabled' = 'false'::jsonb
                    AND (override.tool_id = tool.id OR override.tool_action_id = action.id)))
"""
_FAN_OUT = f"""
    WITH event AS (
        SELECT id, tenant_id, type, created_at, payload FROM outbox_event
        WHERE status = '{EventStatus.PENDING}' AND available_at <= %(now)s
        ORDER BY available_at LIMIT %(batch_size)s FOR UPDATE SKIP LOCKED
    ), delivery AS (
        INSERT INTO webhook_delivery (id, created_at, updated_at, status, attempt_count, next_attempt_at,
                                      last_error, event_id, tenant_id, subscription_id)
        SELECT gen_random_uuid(), %(now)s, %(now)s, '{DeliveryStatus.PENDING}', 0, %(now)s, '', event.id,
               subscription.tenant_id, subscription.id
        FROM event JOIN webhook_subscription AS subscription ON subscription.tenant_id = event.tenant_id
        WHERE subscription.status = '{Status.ACTIVE}' AND event.type = ANY (subscription.event_types)
          AND subscription.created_at <= event.created_at AND subscription.tool_id IS NULL
        UNION ALL
        SELECT gen_random_uuid(), %(now)s, %(now)s, '{DeliveryStatus.PENDING}', 0, %(now)s, '', event.id,
               subscription.tenant_id, subscription.id
        FROM event JOIN tenant ON tenant.id = event.tenant_id
        JOIN webhook_subscription AS subscription ON subscription.tool_id IS NOT NULL
        JOIN tool ON tool.id = subscription.tool_id
        WHERE subscription.status = '{Status.ACTIVE}' AND event.type = ANY (subscription.event_types)
          AND subscription.created_at <= event.created_at
          AND CASE WHEN event.type = 'access.changed'
                   THEN event.payload -> 'data' -> 'tools' @> jsonb_build_array(tool.key)
                   ELSE {_ENTITLED} END
    )
    UPDATE outbox_event SET status = '{EventStatus.DONE}', attempts = outbox_event.attempts + 1, updated_at = %(now)s
    FROM event WHERE outbox_event.id = event.id
"""


def fan_out(*, batch_size: int = 100) -> int:
    """Turn pending events into one delivery per matching active subscription. Returns events done."""
    with connection.cursor() as cursor:
        cursor.execute(_FAN_OUT, {"now": timezone.now(), "batch_size": batch_size})
        return cursor.rowcount
