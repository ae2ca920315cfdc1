"""examples/hotelbot end to end: the hotel booking bot's Express backend (`node dist/main.js`, on the
repository's TypeScript SDK: hub.express.require) against a live hub, through the examples' drill
(tests/products/services.py): POST /messages needs hotelbot.messages.send — 200 / 403 / 401, usage in
the hub, a revoked grant refused with webhooks and without."""

import pytest

from tests.products.services import node_example, revocation_drill

pytestmark = [pytest.mark.slow, pytest.mark.once]

SEND = "hotelbot.messages.send"


def _send(running, token):
    return running.post("/messages", json={"guestId": "guest-1", "text": "Your room is ready."},
                        headers={"Authorization": f"Bearer {token}"} if token else {})


@pytest.mark.parametrize("world", [SEND], indirect=True)
def test_the_hotel_bot_decides_reports_and_follows_revocations(world):
    revocation_drill(world, node_example(world, "hotelbot"), _send, name="Hotel bot (Express)")
