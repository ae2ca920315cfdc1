"""Writing the audit trail: called by every write path inside its own transaction."""

import json
from dataclasses import dataclass
from functools import partial
from uuid import UUID

from django.db import transaction

from audit.chain import append_entry
from audit.models import ActorType, AuditLog
from audit.registry import AUDIT_ACTIONS
from core.request_context import current_request
from core.security.scrubber import scrub

__all__ = ["SYSTEM", "Actor", "record"]


@dataclass(frozen=True)
class Actor:
    """Who did it: a user or staff member, a service (API key id), or the system itself."""

    type: str
    user: object | None = None
    id: UUID | None = None

    @classmethod
    def for_user(cls, user) -> "Actor":
        kind = ActorType.STAFF if user.is_staff and user.tenant.is_platform else ActorType.USER
        return cls(type=kind, user=user, id=user.pk)


SYSTEM = Actor(type=ActorType.SYSTEM)


def record(*, tenant, action: str, entity_type: str, entity_id="", actor: Actor = SYSTEM, metadata=None) -> AuditLog:
    """Append one audit entry. Must run inside the transaction of the change it describes; it is
    written when the atomic block ends (its sequence and hashes are set then), and not at all if the
    block rolls back."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the transaction of the change it records")
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"{action!r} is not in audit.registry.AUDIT_ACTIONS")
    request = current_request()
    entry_metadata = scrub(dict(metadata or {}))
    if request is not None:
        entry_metadata.setdefault("requestId", request.request_id)
        if request.trace_id:
            entry_metadata.setdefault("traceId", request.trace_id)
    # By id: setting the related instances costs Django's relation checks, on every audited write.
    entry = AuditLog(
        tenant_id=tenant.pk,
        actor_user_id=actor.user.pk if actor.user else None,
        actor_type=actor.type,
        actor_id=actor.id,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id or ""),
        metadata=entry_metadata,
        ip=request.ip if request else None,
        user_agent=request.user_agent if request else "",
    )
    # What gets hashed is what the database will return: normalise JSON and addresses first.
    entry.metadata = json.loads(json.dumps(entry.metadata, default=str))
    entry.ip = AuditLog._meta.get_field("ip").get_prep_value(entry.ip)
    # Appending takes the tenant's chain lock until commit: at the end of the block, concurrent
    # writers of one tenant wait for each other's commit only, not for the rest of their work.
    transaction.get_connection().at_block_end(partial(append_entry, entry))
    return entry
