"""Retention of expired (and so also of revoked) refresh tokens and invitations."""

from datetime import timedelta

from identity.models import Invitation, RefreshToken
from tenancy.retention import delete_in_batches

__all__ = ["purge_expired_invitations", "purge_expired_refresh_tokens"]

# Kept a little past expiry so that a just-expired token is still recognised (and its reuse
# still detected) rather than reported as unknown. A revoked token is kept until it expires too:
# until then, presenting it again is what reuse detection looks for.
EXPIRED_CREDENTIAL_GRACE = timedelta(days=1)


def purge_expired_refresh_tokens(now) -> int:
    return delete_in_batches(RefreshToken, job="purge_refresh_tokens", expires_at__lt=now - EXPIRED_CREDENTIAL_GRACE)


def purge_expired_invitations(now) -> int:
    return delete_in_batches(Invitation, job="purge_invitations", expires_at__lt=now - EXPIRED_CREDENTIAL_GRACE)
