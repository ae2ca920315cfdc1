"""hub.usage and hub.webhooks against a live hub: reports batched into GET /v1/usage, a batch sent
twice counted once, the rest flushed on close; a delivery verified, a tampered one refused."""

import base64

import pytest
from aza8_hub import Event, Hub, InvalidWebhook
from aza8_hub.transport import Transport

from tests.products.conftest import READ
from tests.products.sdk import product
from tests.runtime import wait_for

pytestmark = pytest.mark.slow


def test_usage_reported_in_batches_is_counted_once(world):
    with product(world, usage_flush_seconds=3600) as sdk:
        reader = sdk.verify(world.login("reader@acme.com")["accessToken"])
        sdk.usage.report(reader, READ, 3)
        sdk.usage.report(reader, READ, count=2)
        assert sdk.usage.flush()
        assert wait_for(lambda: world.usage(READ) == 5, 10), world.usage(READ)

        live, sdk.usage.transport = sdk.usage.transport, Transport("http://127.0.0.1:9", world.credential, timeout=1)
        sdk.usage.report(reader, READ, 4)
        assert not sdk.usage.flush()  # kept for a retry
        [batch] = sdk.usage._pending
        sdk.usage.transport = live
        assert sdk.usage.flush()
        assert sdk.usage._send(*batch)  # the same batch again, as after an answer lost on the way back
        assert wait_for(lambda: world.usage(READ) == 9, 10), world.usage(READ)
        sdk.usage.report(reader, READ)
    assert wait_for(lambda: world.usage(READ) == 10, 10), world.usage(READ)  # flushed by close()


def test_a_delivery_is_verified_and_applied_and_a_tampered_one_refused(world, sink):
    with product(world, sink) as sdk:
        reader = sdk.verify(world.login("reader@acme.com")["accessToken"])
        assert sdk.can(reader, READ)
        world.revoke_read()
        assert wait_for(lambda: sink.received, 10), "no delivery"
        raw, headers, outcome = sink.received[0]
        assert isinstance(outcome, Event), outcome
        assert outcome.type == "access.changed" and outcome.tenant_id == world.tenant_id
        assert outcome.data["reason"] == "grant" and "erp" in outcome.data["tools"]
        assert not sdk.can(reader, READ)

        assert sdk.webhooks.handle(raw, headers).id == outcome.id  # at least once: a redelivery is harmless
        headers = {name.lower(): value for name, value in headers.items()}
        for body, sent in [(raw.replace(b'"grant"', b'"session"'), headers),
                           (raw, {**headers, "webhook-signature": "v1," + base64.b64encode(b"0" * 32).decode()}),
                           (raw, {**headers, "webhook-timestamp": "1000000000"}),
                           (raw, {})]:
            with pytest.raises(InvalidWebhook):
                sdk.webhooks.handle(body, sent)
        stranger = Hub(base_url=world.hub.base, tool="erp", credential=world.credential,
                       webhook_secret="whsec_" + base64.b64encode(b"another product's secret").decode())
        with pytest.raises(InvalidWebhook):
            stranger.webhooks.handle(raw, headers)
        stranger.close()
