from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The kernel: the shared plumbing every domain app builds on. It holds no models; its one migration
    creates the database cache's table."""

    name = "core"
    verbose_name = "Aza8 Hub kernel"

    def ready(self):
        # Every process (web, worker, beat, commands) reports and traces the same way, and before
        # Django builds its middleware chain (the tracing middleware is inserted into it).
        from django.conf import settings

        if settings.SENTRY_DSN:
            from core.observability.sentry import init_sentry

            init_sentry(dsn=settings.SENTRY_DSN, environment=settings.DJANGO_ENV, release=settings.SENTRY_RELEASE)
        if settings.OTEL_EXPORTER_OTLP_ENDPOINT:
            from core.observability.tracing import configure_tracing

            configure_tracing(service_name=settings.OTEL_SERVICE_NAME)
