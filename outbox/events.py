"""The event types the hub emits, per operating profile (spec §10, working notes)."""

from django.conf import settings

__all__ = ["EVENT_TYPES", "enabled_event_types", "is_enabled"]

MVP_EVENTS = frozenset(
    {
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
EVENT_TYPES = STANDARD_EVENTS


def enabled_event_types() -> frozenset[str]:
    return PROFILE_EVENTS[settings.OPS_PROFILE]


def is_enabled(event_type: str) -> bool:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {event_type!r}")
    return event_type in enabled_event_types()
