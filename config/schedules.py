"""The beat schedule lives in the database (django-celery-beat); `seed` writes HUB_PERIODIC_TASKS into it."""

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db.models import Q
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from config.changes import ChangeLog, upsert

__all__ = ["sync_periodic_tasks"]

_CRONTAB_FIELDS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")


def _project_task_modules() -> Q:
    """Tasks defined by this project's own apps (packages at the top of the project directory)."""
    query = Q(pk__in=[])
    for config in apps.get_app_configs():
        if Path(config.path).parent == Path(settings.BASE_DIR):
            query |= Q(task__startswith=f"{config.name.split('.')[0]}.")
    return query


def sync_periodic_tasks(changes: ChangeLog) -> None:
    """Create or update the declared tasks, and delete the project's tasks no longer declared
    (a renamed or retired job must not keep firing a task that no longer exists). Periodic tasks
    staff created for other code are left alone."""
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
    retired = PeriodicTask.objects.filter(_project_task_modules()).exclude(name__in=settings.HUB_PERIODIC_TASKS)
    for name in retired.order_by("name").values_list("name", flat=True):
        changes.add(f"delete periodic task {name}")
    retired.delete()
