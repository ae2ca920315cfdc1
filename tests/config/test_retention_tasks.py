import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import IdempotencyKey
from audit.tasks import purge_idempotency_keys
from identity.models import Invitation, RefreshToken
from identity.tasks import purge_expired_credentials
from tests.concurrency import run_concurrently
from tests.factories import TenantFactory, UserFactory


def make_key(tenant, age):
    return IdempotencyKey.objects.create(
        tenant=tenant,
        key=str(uuid.uuid4()),
        handler="users.create",
        fingerprint="0" * 64,
        created_at=timezone.now() - age,
    )


@pytest.mark.django_db
def test_idempotency_keys_older_than_24_hours_are_purged_and_nothing_else():
    tenants = [TenantFactory(), TenantFactory()]
    old = [make_key(tenant, timedelta(hours=24, minutes=1)) for tenant in tenants for _ in range(3)]
    fresh = [make_key(tenant, timedelta(hours=23, minutes=59)) for tenant in tenants]
    assert purge_idempotency_keys() == len(old)
    assert set(IdempotencyKey.objects.values_list("id", flat=True)) == {key.id for key in fresh}


@pytest.mark.django_db
def test_expired_refresh_tokens_and_invitations_are_purged_after_a_grace_day():
    user = UserFactory()
    now = timezone.now()

    def token(expires_at):
        return RefreshToken.objects.create(
            tenant=user.tenant, user=user, jti=uuid.uuid4(), family=uuid.uuid4(), token_hash="h" * 64, expires_at=expires_at
        )

    gone, kept = token(now - timedelta(days=2)), token(now - timedelta(hours=2))
    Invitation.objects.create(tenant=user.tenant, user=user, token_hash="a" * 64, expires_at=now - timedelta(days=3))
    live = Invitation.objects.create(tenant=user.tenant, user=user, token_hash="b" * 64, expires_at=now + timedelta(days=3))
    assert purge_expired_credentials() == {"refreshTokens": 1, "invitations": 1}
    assert list(RefreshToken.objects.values_list("id", flat=True)) == [kept.id]
    assert list(Invitation.objects.values_list("id", flat=True)) == [live.id]
    assert not RefreshToken.objects.filter(id=gone.id).exists()


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_purges_delete_each_row_once():
    tenant = TenantFactory()
    IdempotencyKey.objects.bulk_create(
        IdempotencyKey(
            tenant=tenant, key=str(i), handler="h", fingerprint="0" * 64, created_at=timezone.now() - timedelta(days=2)
        )
        for i in range(2500)
    )
    results = run_concurrently(purge_idempotency_keys, 2)
    assert sum(results) == 2500
    assert not IdempotencyKey.objects.exists()
