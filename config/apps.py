from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class HubConfig(AppConfig):
    """The composition root: shared API plumbing and the commands that span apps."""

    name = "config"
    label = "hub"
    verbose_name = "Aza8 Hub"

    def ready(self):
        # Every process (web, worker, beat, commands) reports and traces the same way, and before
        # Django builds its middleware chain (the tracing middleware is inserted into it).
        from django.conf import settings

        if settings.SENTRY_DSN:
            from config.sentry import init_sentry

            init_sentry(dsn=settings.SENTRY_DSN, environment=settings.DJANGO_ENV, release=settings.SENTRY_RELEASE)
        if settings.OTEL_EXPORTER_OTLP_ENDPOINT:
            from config.tracing import configure_tracing

            configure_tracing(service_name=settings.OTEL_SERVICE_NAME)


class HubAdminConfig(AdminConfig):
    default_site = "config.admin.HubAdminSite"
