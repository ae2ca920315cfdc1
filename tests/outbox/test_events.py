import pytest
from django.db import transaction
from django.test import override_settings

from outbox.events import EVENT_SCHEMAS, PROFILE_EVENTS
from outbox.models import OutboxEvent
from outbox.services import emit
from tests.factories import TenantFactory

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
