import contextlib
import subprocess
import sys

import pytest
from celery.signals import after_task_publish
from django.db import transaction
from django.test import override_settings

from outbox.events import EVENT_SCHEMAS, PROFILE_EVENTS
from outbox.models import OutboxEvent
from outbox.services import emit
from outbox.tasks import drain_outbox
from tests.factories import TenantFactory
from tests.runtime import hub_env

pytestmark = pytest.mark.django_db


def test_every_event_of_every_profile_has_a_versioned_schema():
    for profile, types in PROFILE_EVENTS.items():
        assert types <= set(EVENT_SCHEMAS), profile
    assert all(schema.version >= 1 for schema in EVENT_SCHEMAS.values())


def test_emit_refuses_payloads_outside_the_schema():
    tenant = TenantFactory()
    with transaction.atomic():
        with pytest.raises(ValueError, match="unknown \\['password'\\]"):
            emit("user.created", tenant=tenant, data={"userId": "1", "invited": False, "password": "x"})
        with pytest.raises(ValueError, match="missing \\['invited'\\]"):
            emit("user.created", tenant=tenant, data={"userId": "1"})
        with pytest.raises(ValueError, match="Unknown event type"):
            emit("user.exploded", tenant=tenant, data={})
        event = emit("user.created", tenant=tenant, data={"userId": "1", "invited": True})
    assert event.payload["version"] == 1 and event.payload["data"] == {"userId": "1", "invited": True}


def test_the_operating_profile_decides_which_events_are_written():
    tenant = TenantFactory()
    with transaction.atomic():
        assert emit("group.created", tenant=tenant, data={"groupId": "g", "name": "n"}) is None  # mvp
        with override_settings(OPS_PROFILE="standard"):
            assert emit("group.created", tenant=tenant, data={"groupId": "g", "name": "n"}) is not None
    assert OutboxEvent.objects.filter(type="group.created").count() == 1


@pytest.mark.django_db(transaction=True)
def test_events_are_written_only_inside_the_change_transaction():
    tenant = TenantFactory()
    with pytest.raises(RuntimeError, match="inside the transaction"):
        emit("user.created", tenant=tenant, data={"userId": "1", "invited": False})
    assert not OutboxEvent.objects.exists()


@pytest.fixture
def published_drains():
    """Drain tasks really published on the broker, counted as Celery reports each publish."""
    published = []

    def count(sender=None, **_kwargs):
        if sender == drain_outbox.name:
            published.append(sender)

    after_task_publish.connect(count, weak=False)
    yield published
    after_task_publish.disconnect(count)


class _Undo(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_transaction_publishes_one_drain_however_many_events_it_writes(published_drains):
    tenant = TenantFactory()
    with transaction.atomic():
        for index in range(3):
            emit("user.created", tenant=tenant, data={"userId": str(index), "invited": False})
        assert published_drains == []  # not before the commit
    assert len(published_drains) == 1

    # The savepoint that registered the trigger rolls back: the events written after it still need one.
    with transaction.atomic():
        with contextlib.suppress(_Undo), transaction.atomic():
            emit("user.created", tenant=tenant, data={"userId": "undone", "invited": False})
            raise _Undo
        emit("user.created", tenant=tenant, data={"userId": "kept", "invited": False})
        emit("user.created", tenant=tenant, data={"userId": "kept too", "invited": False})
    assert len(published_drains) == 2
    assert OutboxEvent.objects.count() == 5


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_does_not_fail_the_transaction():
    tenant = TenantFactory()
    script = (
        "import django; django.setup()\n"
        "from django.db import transaction\n"
        "from outbox.services import emit\n"
        "from tenancy.models import Tenant\n"
        "with transaction.atomic():\n"
        f"    emit('user.created', tenant=Tenant.objects.get(pk='{tenant.pk}'), data={{'userId': '1', 'invited': False}})\n"
    )
    result = subprocess.run([sys.executable, "-c", script], env=hub_env(CELERY_BROKER_URL="redis://127.0.0.1:1/0",
                            LOG_LEVEL="WARNING"), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "outbox_trigger_failed" in result.stderr
    assert OutboxEvent.objects.filter(tenant=tenant).count() == 1
