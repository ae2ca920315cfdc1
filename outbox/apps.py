from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = "Outbox"

    def ready(self):
        from core.observability.metrics import register_database_collector
        from outbox.metrics import OutboxCollector

        register_database_collector(OutboxCollector())
