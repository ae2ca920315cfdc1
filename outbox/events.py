"""The event types the hub emits: their payload schemas and which operating profile enables them."""

import uuid
from dataclasses import dataclass, field

from django.conf import settings

__all__ = ["EVENT_SCHEMAS", "EVENT_TYPES", "EventSchema", "enabled_event_types", "is_enabled"]


@dataclass(frozen=True)
class EventSchema:
    """The keys of an event's `data`, versioned: a consumer reads `version` before the fields.
    A breaking change to a payload is a new version, never an edit of the old one."""

    version: int
    required: frozenset
    optional: frozenset = field(default_factory=frozenset)
    # Keys holding a uuid or null, whatever their name sounds like to the scrubber (a `sessionId`
    # names a session; it is no credential): checked here, so nothing else can pass under them.
    identifiers: frozenset = field(default_factory=frozenset)

    def check(self, event_type: str, data: dict) -> None:
        keys = set(data)
        missing, unknown = self.required - keys, keys - self.required - self.optional
        if missing or unknown:
            raise ValueError(f"{event_type} v{self.version}: missing {sorted(missing)}, unknown {sorted(unknown)}")
        for key in sorted(self.identifiers & keys):
            if data[key] is not None and not _is_uuid(data[key]):
                raise ValueError(f"{event_type} v{self.version}: {key} is not a uuid")


def _is_uuid(value) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except (TypeError, ValueError, AttributeError):
        return False


def _schema(version, *required, optional=(), identifiers=()):
    return EventSchema(version, frozenset(required), frozenset(optional), frozenset(identifiers))


EVENT_SCHEMAS = {
    "tenant.created": _schema(1, "tenantId", "slug", "name"),
    "tenant.package.assigned": _schema(1, "tenantId", "package", "expiresAt"),
    "package.unassigned": _schema(1, "tenantId", "package"),
    "user.created": _schema(1, "userId", "invited"),
    "user.updated": _schema(1, "userId", optional=("changedFields", "status", "deleted")),
    "user.status.changed": _schema(1, "userId", "status"),
    "group.created": _schema(1, "groupId", "name"),
    "group.updated": _schema(1, "groupId", "changedFields"),
    "group.permission.changed": _schema(1, "groupId", "granted", "revoked"),
    "user_group.changed": _schema(1, "groupId", "userId", "change"),
    "api_key.created": _schema(1, "apiKeyId", "name"),
    "api_key.revoked": _schema(1, "apiKeyId", "name"),
    # Whatever may change a decision about the tenant's principals (tenancy.services.access_changed):
    # a product drops its cached decisions for the tenant, the user (userId) or the session (sessionId).
    "access.changed": _schema(1, "tenantId", "userId", "sessionId", "apiKeyId", "reason", "tools",
                              identifiers=("tenantId", "userId", "sessionId", "apiKeyId")),
}

MVP_EVENTS = frozenset(
    {
        "access.changed",  # products keep their decisions fresh with it, whatever the profile
        "tenant.created",
        "tenant.package.assigned",
        "user.created",
        "user.updated",
        "group.permission.changed",
        "api_key.revoked",
    }
)
STANDARD_EVENTS = MVP_EVENTS | {
    "user.status.changed",
    "group.created",
    "group.updated",
    "user_group.changed",
    "api_key.created",
    "package.unassigned",
}
PROFILE_EVENTS = {"mvp": MVP_EVENTS, "standard": STANDARD_EVENTS, "enterprise": STANDARD_EVENTS}
EVENT_TYPES = frozenset(EVENT_SCHEMAS)


def enabled_event_types() -> frozenset[str]:
    return PROFILE_EVENTS[settings.OPS_PROFILE]


def is_enabled(event_type: str) -> bool:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {event_type!r}")
    return event_type in enabled_event_types()
