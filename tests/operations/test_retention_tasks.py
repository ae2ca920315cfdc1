import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from audit.chain import entry_hash, verify_chain
from audit.models import AuditLog, IdempotencyKey
from audit.retention import purge_audit_log, purge_idempotency_keys
from audit.services import record
from core.db.changes import ChangeLog
from identity.models import Invitation, RefreshToken
from identity.retention import purge_expired_invitations, purge_expired_refresh_tokens
from operations.services import PURGES, run_retention, sync_periodic_tasks
from outbox.models import DeliveryStatus, EventStatus, OutboxEvent, WebhookDelivery, WebhookSubscription
from outbox.retention import purge_done_events, purge_finished_deliveries
from tests.concurrency import run_concurrently
from tests.factories import TenantFactory, ToolActionFactory, UserFactory
from usage.models import UsageMetric
from usage.retention import purge_usage_metrics

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def make_key(tenant, age, now=None):
    return IdempotencyKey.objects.create(
        tenant=tenant, key=str(uuid.uuid4()), handler="users.create", fingerprint="0" * 64,
        created_at=(now or timezone.now()) - age,
    )


def backdated_chain(tenant, ages, now):
    """Audit entries at `now - age` each (oldest first), chained and hashed as record() would."""
    from django.db import transaction

    entries, previous = [], None
    for age in ages:
        with transaction.atomic():
            entry = record(tenant=tenant, action="users.update", entity_type="user", entity_id=uuid.uuid4())
        entry.created_at = now - age
        entry.prev_hash = previous.hash if previous else entry.prev_hash
        entry.hash = entry_hash(entry)
        entry.save(update_fields=["created_at", "prev_hash", "hash"])
        entries.append(entry)
        previous = entry
    return entries


def metric(tenant, action, start):
    return UsageMetric.objects.create(tenant=tenant, tool_action=action, period_start=start,
                                      period_end=start + timedelta(hours=1), count=3)


@pytest.mark.django_db
def test_idempotency_keys_older_than_24_hours_are_purged_and_nothing_else():
    now = timezone.now()
    tenants = [TenantFactory(), TenantFactory()]
    old = [make_key(tenant, timedelta(hours=24) + SECOND, now) for tenant in tenants for _ in range(3)]
    fresh = [make_key(tenant, timedelta(hours=24) - SECOND, now) for tenant in tenants]
    assert purge_idempotency_keys(now) == len(old)
    assert set(IdempotencyKey.objects.values_list("id", flat=True)) == {key.id for key in fresh}


@pytest.mark.django_db
def test_expired_refresh_tokens_and_invitations_are_purged_after_a_grace_day():
    user = UserFactory()
    now = timezone.now()

    def token(expires_at, revoked_at=None):
        return RefreshToken.objects.create(tenant=user.tenant, user=user, jti=uuid.uuid4(), family=uuid.uuid4(),
                                           token_hash="h" * 64, expires_at=expires_at, revoked_at=revoked_at)

    token(now - 2 * DAY)
    token(now - 2 * DAY, revoked_at=now - 10 * DAY)
    # Revoked but not yet expired: still needed to detect its reuse.
    kept = {token(now - timedelta(hours=2)).id, token(now + DAY, revoked_at=now - DAY).id}
    Invitation.objects.create(tenant=user.tenant, user=user, token_hash="a" * 64, expires_at=now - 3 * DAY)
    live = Invitation.objects.create(tenant=user.tenant, user=user, token_hash="b" * 64, expires_at=now + 3 * DAY)
    assert purge_expired_refresh_tokens(now) == 2
    assert purge_expired_invitations(now) == 1
    assert set(RefreshToken.objects.values_list("id", flat=True)) == kept
    assert list(Invitation.objects.values_list("id", flat=True)) == [live.id]


@pytest.mark.django_db
def test_audit_log_keeps_exactly_the_profile_window_and_an_unbroken_chain():
    now = timezone.now()
    tenant, other = TenantFactory(), TenantFactory()
    # MVP: 90 days. Oldest first, as a chain grows.
    entries = backdated_chain(tenant, [200 * DAY, 91 * DAY, 90 * DAY + SECOND, 90 * DAY - SECOND, DAY], now)
    others = backdated_chain(other, [100 * DAY, 10 * DAY], now)
    assert purge_audit_log(now) == 4
    assert set(AuditLog.objects.values_list("id", flat=True)) == {entries[3].id, entries[4].id, others[1].id}
    remaining = AuditLog.objects.for_tenant(tenant).order_by("sequence")
    assert verify_chain(remaining).ok and verify_chain(remaining).checked == 2


@pytest.mark.django_db
def test_audit_entries_out_of_clock_order_never_leave_a_hole_in_the_chain():
    now = timezone.now()
    tenant = TenantFactory()
    # Sequence 2 carries an older time than sequence 1 (two writers racing for the chain lock).
    entries = backdated_chain(tenant, [100 * DAY, 89 * DAY, 91 * DAY, DAY], now)
    assert purge_audit_log(now) == 1
    assert list(AuditLog.objects.for_tenant(tenant).order_by("sequence").values_list("id", flat=True)) == [
        entry.id for entry in entries[1:]
    ]
    assert verify_chain(AuditLog.objects.for_tenant(tenant).order_by("sequence")).ok


@pytest.mark.django_db
def test_the_operating_profile_sets_the_windows(settings):
    now = timezone.now()
    tenant = TenantFactory()
    backdated_chain(tenant, [100 * DAY, DAY], now)
    settings.OPS_PROFILE = "enterprise"
    assert purge_audit_log(now) == 0
    settings.OPS_PROFILE = "mvp"
    assert purge_audit_log(now) == 1


@pytest.mark.django_db
def test_usage_buckets_that_started_before_the_window_are_purged_and_nothing_else():
    now = timezone.now()
    action = ToolActionFactory()
    tenants = [TenantFactory(), TenantFactory()]
    gone = [metric(tenant, action, now - 365 * DAY - SECOND) for tenant in tenants]
    kept = [metric(tenant, action, now - 365 * DAY + SECOND) for tenant in tenants] + [metric(tenants[0], action, now)]
    assert purge_usage_metrics(now) == len(gone)
    assert set(UsageMetric.objects.values_list("id", flat=True)) == {row.id for row in kept}


@pytest.mark.django_db
def test_finished_deliveries_and_then_their_done_events_are_purged_after_the_window():
    now = timezone.now()
    tenant = TenantFactory()
    subscription = WebhookSubscription.objects.create(tenant=tenant, url="https://hooks.example.com/r",
                                                      secret_encrypted=b"x", key_version=1, event_types=["user.created"])

    def event(age, status=EventStatus.DONE):
        return OutboxEvent.objects.create(tenant=tenant, type="user.created", status=status, created_at=now - age)

    def delivery(of, status, age):
        return WebhookDelivery.objects.create(tenant=tenant, event=of, subscription=subscription, status=status,
                                              created_at=now - age)

    old_done, old_retrying, recent = event(31 * DAY), event(31 * DAY), event(29 * DAY)
    no_subscriber, dead_event, platform_event = event(40 * DAY), event(40 * DAY, EventStatus.DEAD), event(40 * DAY)
    platform_event.tenant = None
    platform_event.save()
    delivery(old_done, DeliveryStatus.SUCCEEDED, 31 * DAY)
    delivery(old_done, DeliveryStatus.DEAD, 31 * DAY)
    retrying = delivery(old_retrying, DeliveryStatus.FAILED, 31 * DAY)
    fresh = delivery(recent, DeliveryStatus.SUCCEEDED, 29 * DAY)

    assert purge_finished_deliveries(now) == 2
    assert set(WebhookDelivery.objects.values_list("id", flat=True)) == {retrying.id, fresh.id}
    assert purge_done_events(now) == 3
    assert set(OutboxEvent.objects.values_list("id", flat=True)) == {old_retrying.id, recent.id, dead_event.id}
    assert no_subscriber.id not in set(OutboxEvent.objects.values_list("id", flat=True))


@pytest.mark.django_db
def test_a_run_purges_everything_and_writes_one_summary_entry_as_system(seeded, log_output):
    from tenancy.models import Tenant

    now = timezone.now()
    tenant = TenantFactory()
    backdated_chain(tenant, [100 * DAY, DAY], now)
    make_key(tenant, 2 * DAY)
    summaries = AuditLog.objects.filter(action="retention.run")
    deleted = run_retention()
    assert set(deleted) == set(PURGES)
    assert deleted["auditLog"] == 1 and deleted["idempotencyKeys"] == 1
    summary = summaries.get()
    assert summary.tenant == Tenant.objects.get(is_platform=True) and summary.actor_type == "system"
    assert summary.metadata["deleted"] == deleted and summary.metadata["profile"] == "mvp"
    assert '"retention_batch"' in log_output.getvalue() and '"retention_run"' in log_output.getvalue()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_delete_each_row_once():
    now = timezone.now()
    TenantFactory(slug="aza8", is_platform=True)
    tenants = [TenantFactory(), TenantFactory()]
    action = ToolActionFactory()
    for tenant in tenants:
        IdempotencyKey.objects.bulk_create(
            IdempotencyKey(tenant=tenant, key=str(i), handler="h", fingerprint="0" * 64, created_at=now - 2 * DAY)
            for i in range(1500)
        )
        UsageMetric.objects.bulk_create(
            UsageMetric(tenant=tenant, tool_action=action, period_start=now - 400 * DAY - timedelta(hours=i),
                        period_end=now - 400 * DAY - timedelta(hours=i - 1), count=1)
            for i in range(1200)
        )
        backdated_chain(tenant, [100 * DAY] * 30 + [DAY], now)
    kept_usage = metric(tenants[0], action, now - DAY)

    results = run_concurrently(run_retention, 2)

    assert not [result for result in results if isinstance(result, Exception)], results
    assert sum(result["idempotencyKeys"] for result in results) == 3000
    assert sum(result["usageMetrics"] for result in results) == 2400
    assert sum(result["auditLog"] for result in results) == 60
    assert not IdempotencyKey.objects.exists()
    assert list(UsageMetric.objects.values_list("id", flat=True)) == [kept_usage.id]
    assert AuditLog.objects.filter(action="users.update").count() == 2
    assert AuditLog.objects.filter(action="retention.run", actor_type="system").count() == 2


@pytest.mark.django_db
def test_seed_schedules_the_retention_run_and_deletes_retired_project_tasks(seeded):
    from django_celery_beat.models import IntervalSchedule

    every = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
    PeriodicTask.objects.create(name="purge-idempotency-keys", task="audit.tasks.purge_idempotency_keys", interval=every)
    PeriodicTask.objects.create(name="staff-job", task="celery.backend_cleanup", interval=every)
    changes = ChangeLog()
    sync_periodic_tasks(changes)
    assert changes.lines == ["delete periodic task purge-idempotency-keys"]
    retention = PeriodicTask.objects.get(name="retention")
    assert retention.task == "operations.tasks.run_retention" and retention.crontab.timezone.key == "UTC"
    assert PeriodicTask.objects.filter(name="staff-job").exists()
