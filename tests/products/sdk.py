"""Helpers of the SDK's and the ERP example's tests."""

import time
from contextlib import contextmanager

from aza8_hub import Hub

__all__ = ["GOAL_WITH_WEBHOOKS", "product", "until"]

# Issue 27's goal: a revoked grant, suspended user or suspended tenant refused by the product within
# this many seconds of the change while webhooks flow.
GOAL_WITH_WEBHOOKS = 5.0


def until(condition, timeout: float, every: float = 0.05) -> float | None:
    """Seconds until `condition()` held, or None if it did not within `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(every)
    return None


@contextmanager
def product(world, sink=None, **options):
    """The SDK as the erp tool's backend uses it; with a sink, subscribed to the hub's access.changed
    events and receiving them."""
    secret = world.subscribe(sink.url)["secret"] if sink else None
    sdk = Hub(base_url=world.hub.base, tool="erp", credential=world.credential, webhook_secret=secret, **options)
    if sink:
        sink.sdk = sdk
    try:
        yield sdk
    finally:
        sdk.close()
