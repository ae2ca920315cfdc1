"""Error reports to Sentry when SENTRY_DSN is set: tagged, and scrubbed like every log line.

What is sent is kept small on purpose: no request bodies, no local variables, no query strings
(they carry tokens), and everything left passes through the one scrubber (core/security/scrubber.py).
Exceptions the API answers with a 500 are reported by `core.api.exceptions`, because DRF handles
them before Django's own signal (which Sentry listens to) would fire.

The SDK is imported by `init_sentry` only: without SENTRY_DSN no process loads it, which keeps
about 6 MiB out of every web and Celery worker (docs/scaling.md#memory).
"""

import weakref
from functools import partial

from core.security.scrubber import scrub

__all__ = ["before_send", "init_sentry", "report_exception", "tag_request"]

_sdk = None


def before_send(event, _hint):
    return scrub(event)


def init_sentry(*, dsn: str, environment: str, release: str | None = None) -> None:
    global _sdk
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    _sdk = sentry_sdk
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[
            DjangoIntegration(),
            CeleryIntegration(),
            # Log records are structlog dicts: they stay breadcrumbs; errors are reported as exceptions.
            LoggingIntegration(event_level=None),
        ],
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "queues": False,
            "stack_frame_variables": False,
        },
        before_send=before_send,
        before_breadcrumb=lambda crumb, _hint: scrub(crumb),
    )


def _request_tags(request_ref, event, _hint):
    request = request_ref()
    if request is None:
        return event
    tags = event.setdefault("tags", {})
    tags["request_id"] = request.request_id
    principal = getattr(request, "principal", None)
    if principal is not None:
        tags["tenant"] = str(principal.tenant.pk)
    tool_action = getattr(request, "tool_action", None)
    if tool_action:
        tags["tool_action"] = tool_action
    return event


def tag_request(request) -> None:
    """Tag whatever this request reports with its id, tenant and tool_action.

    Read when an event is sent rather than now: the tenant and the action are only known once
    authentication and the permission class have run.
    """
    if _sdk is not None and _sdk.is_initialized():
        _sdk.get_isolation_scope().add_event_processor(partial(_request_tags, weakref.ref(request)))


def report_exception(exc: BaseException) -> None:
    if _sdk is not None:
        _sdk.capture_exception(exc)
