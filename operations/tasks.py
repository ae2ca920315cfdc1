"""The beat's jobs that span the apps: the retention run (hourly) and re-encryption (daily)."""

from celery import shared_task

from operations import services

__all__ = ["reencrypt_credentials", "run_retention"]


@shared_task
def run_retention() -> dict:
    return services.run_retention()


@shared_task
def reencrypt_credentials() -> dict:
    """A no-op unless a new CREDENTIAL_KEYS version was added since the last run."""
    return services.reencrypt_all()
