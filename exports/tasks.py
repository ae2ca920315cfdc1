from celery import shared_task

from exports import services
from exports.selectors import exports_to_resume


@shared_task
def run_export(export_id: str) -> str | None:
    return services.build_export(export_id)


@shared_task
def sweep_exports() -> int:
    """Safety net: exports whose trigger never reached a worker, or whose worker died."""
    ids = exports_to_resume()
    for export_id in ids:
        run_export.delay(export_id)
    return len(ids)
