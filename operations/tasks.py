"""The beat's jobs that span the apps: the retention run (hourly), re-encryption (daily), and
telling products of packages that expired (every minute)."""

from celery import shared_task

from operations import services
from tenancy.services import announce_package_expiries

__all__ = ["announce_expired_packages", "reencrypt_credentials", "run_retention"]


@shared_task
def run_retention() -> dict:
    return services.run_retention()


@shared_task
def reencrypt_credentials() -> dict:
    """A no-op unless a new CREDENTIAL_KEYS version was added since the last run."""
    return services.reencrypt_all()


@shared_task
def announce_expired_packages() -> int:
    return announce_package_expiries()
