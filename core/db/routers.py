"""Heavy reads on a replica when DATABASE_REPLICA_URL is set; everything else on the primary.

Routing by model alone would be wrong: the audit trail's own writer reads the chain's last entry,
and that read must see the primary. So only code that asks for it (`replica_reads`) reads from the
replica — the audit log list, usage reports, exports — and never inside a transaction.
A replica lags: these reads may miss the last second of writes, which none of them need.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections

__all__ = ["REPLICA", "ReplicaRouter", "replica_reads"]

REPLICA = "replica"
_reading_from_replica: ContextVar[bool] = ContextVar("hub_replica_reads", default=False)


@contextmanager
def replica_reads():
    """Within this block (or decorated function), reads go to the replica. Also a decorator."""
    token = _reading_from_replica.set(True)
    try:
        yield
    finally:
        _reading_from_replica.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _reading_from_replica.get() and not connections["default"].in_atomic_block:
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same rows on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA
