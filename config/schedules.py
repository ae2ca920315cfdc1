"""The beat schedule lives in the database (django-celery-beat); `seed` writes HUB_PERIODIC_TASKS into it."""

from django.conf import settings
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from config.changes import ChangeLog, upsert

__all__ = ["sync_periodic_tasks"]

_CRONTAB_FIELDS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")


def sync_periodic_tasks(changes: ChangeLog) -> None:
    for name, spec in settings.HUB_PERIODIC_TASKS.items():
        fields = {field: str(spec["crontab"].get(field, "*")) for field in _CRONTAB_FIELDS}
        crontab = CrontabSchedule.objects.filter(timezone="UTC", **fields).first()
        if crontab is None:
            crontab = CrontabSchedule.objects.create(timezone="UTC", **fields)
        upsert(
            PeriodicTask,
            lookup={"name": name},
            values={"task": spec["task"], "crontab_id": crontab.id, "interval_id": None, "enabled": True},
            changes=changes,
            label=f"periodic task {name}",
        )
