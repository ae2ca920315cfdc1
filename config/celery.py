"""The Celery app (`celery -A config worker|beat`)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _tune_sqlalchemy_transport(sender, **_kwargs):
    # kombu hands transport options to create_engine(), so the Postgres-backed broker's polling
    # interval (1 s by default) can only be set on the transport class itself.
    if sender.conf.broker_url.startswith("sqla+"):
        from django.conf import settings
        from kombu.transport import sqlalchemy

        sqlalchemy.Transport.polling_interval = settings.CELERY_BROKER_POLLING_INTERVAL
