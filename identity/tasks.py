from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from config.retention import delete_in_batches
from identity.models import Invitation, RefreshToken

# Kept a little past expiry so that a just-expired token is still recognised (and its reuse
# still detected) rather than reported as unknown.
EXPIRED_CREDENTIAL_GRACE = timedelta(days=1)


@shared_task
def purge_expired_credentials() -> dict:
    cutoff = timezone.now() - EXPIRED_CREDENTIAL_GRACE
    return {
        "refreshTokens": delete_in_batches(RefreshToken, job="purge_refresh_tokens", expires_at__lt=cutoff),
        "invitations": delete_in_batches(Invitation, job="purge_invitations", expires_at__lt=cutoff),
    }
