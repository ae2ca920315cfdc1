"""JSON logs: one line per event, with the request context bound by the middleware, scrubbed."""

import logging.config

import structlog

from core.observability.tracing import add_trace_ids
from core.security.scrubber import scrub

__all__ = ["configure_logging"]


def _scrub_event(_logger, _method, event_dict):
    return scrub(event_dict)


def configure_logging(level: str) -> None:
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        structlog.processors.format_exc_info,
        add_trace_ids,
        _scrub_event,
    ]
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "json": {
                    "()": structlog.stdlib.ProcessorFormatter,
                    "processors": [
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.processors.EventRenamer("message"),
                        structlog.processors.JSONRenderer(),
                    ],
                    "foreign_pre_chain": shared,
                }
            },
            "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
            "root": {"handlers": ["console"], "level": level},
            "loggers": {
                # The access log line of core.middleware replaces Django's own request logs.
                "django.request": {"level": "CRITICAL"},
                "django.server": {"level": "WARNING"},
                "pgserver": {"level": "WARNING"},
            },
        }
    )
    structlog.configure(
        # An event below the level is dropped before the chain formats it (the access line of every
        # request, when LOG_LEVEL is WARNING); stdlib records were filtered by their logger already.
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
