"""connection.at_block_end (core/db/backend): work run inside the transaction, as late as the block
allows, and the audit chain's lock taken there."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from audit.models import AuditLog
from audit.services import record
from tests.factories import TenantFactory


class Boom(Exception):
    pass


def record_and_fail_at_the_end(tenant):
    def fail():
        raise Boom

    with pytest.raises(Boom), transaction.atomic():
        record(tenant=tenant, action="users.update", entity_type="user")
        connection.at_block_end(fail)


def test_it_needs_an_atomic_block():
    with pytest.raises(TransactionManagementError):
        connection.at_block_end(lambda: None)


@pytest.mark.django_db
def test_it_runs_when_the_block_ends_in_order_and_not_after_a_rollback():
    ran = []
    with transaction.atomic():
        connection.at_block_end(lambda: ran.append("first"))
        with transaction.atomic():
            connection.at_block_end(lambda: ran.append("inner"))
        assert ran == ["inner"]  # the inner block's savepoint was released
        with pytest.raises(Boom), transaction.atomic():
            connection.at_block_end(lambda: ran.append("rolled back"))
            raise Boom
        with transaction.atomic(savepoint=False):
            connection.at_block_end(lambda: ran.append("no savepoint of its own"))
        connection.at_block_end(lambda: ran.append("last"))
        assert ran == ["inner"]
    assert ran == ["inner", "first", "no savepoint of its own", "last"]


@pytest.mark.django_db
def test_a_failure_at_the_end_rolls_the_block_back():
    tenant = TenantFactory(slug="failing-end")
    record_and_fail_at_the_end(tenant)  # a savepoint inside the test's transaction
    assert not AuditLog.objects.filter(tenant=tenant).exists()


@pytest.mark.django_db
def test_an_audit_entry_is_written_when_its_block_ends_and_not_if_it_rolls_back():
    tenant = TenantFactory(slug="written-at-end")
    with transaction.atomic():
        kept = record(tenant=tenant, action="users.update", entity_type="user", entity_id="kept")
        assert not AuditLog.objects.filter(tenant=tenant).exists()
        with pytest.raises(Boom), transaction.atomic():
            record(tenant=tenant, action="users.update", entity_type="user", entity_id="dropped")
            raise Boom
    assert list(AuditLog.objects.filter(tenant=tenant).values_list("entity_id", "sequence")) == [("kept", 1)]
    assert kept.sequence == 1 and len(kept.hash) == 64


@pytest.mark.django_db(transaction=True)
def test_the_chain_lock_is_not_held_while_the_rest_of_a_write_runs():
    """A writer still busy after recording its entry does not hold up another writer of the
    tenant: the lock is taken when its block ends."""
    tenant = TenantFactory(slug="short-lock")
    recorded, finished = threading.Event(), threading.Event()
    durations = {}

    def slow_writer():
        try:
            with transaction.atomic():
                record(tenant=tenant, action="users.update", entity_type="user", entity_id="slow")
                recorded.set()
                finished.wait(timeout=10)  # the rest of its work, until the other writer is done
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert recorded.wait(timeout=10)
        started = time.monotonic()
        with transaction.atomic():
            record(tenant=tenant, action="users.update", entity_type="user", entity_id="quick")
        durations["quick"] = time.monotonic() - started
    finally:
        finished.set()
        thread.join()
    assert durations["quick"] < 5
    assert list(AuditLog.objects.filter(tenant=tenant).order_by("sequence").values_list("entity_id", flat=True)) == [
        "quick", "slow"]


@pytest.mark.django_db(transaction=True)
def test_a_failure_before_commit_rolls_the_transaction_back():
    tenant = TenantFactory(slug="failing-commit")
    record_and_fail_at_the_end(tenant)  # the outermost block: at commit
    assert not connection.in_atomic_block and connection.get_autocommit()
    assert not AuditLog.objects.filter(tenant=tenant).exists()
    with transaction.atomic():
        record(tenant=tenant, action="users.update", entity_type="user")
    assert AuditLog.objects.filter(tenant=tenant).count() == 1
