"""hub.can from the in-process cache against a live hub: true, false, refused within the goal after a
revoke and after a tenant's suspension (events flowing), DRF's classes, and the hub out of reach."""

import time

import pytest
from aza8_hub.transport import Transport
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from bench import sdk as sdk_bench
from tests.products.conftest import READ
from tests.products.sdk import GOAL_WITH_WEBHOOKS, product, until

pytestmark = pytest.mark.slow


def test_decisions_in_process_and_refused_within_the_goal(world, sink):
    with product(world, sink) as sdk:
        reader = sdk.verify(world.login("reader@acme.com")["accessToken"])
        outsider = sdk.verify(world.login("outsider@acme.com")["accessToken"])
        admin = sdk.verify(world.admin)
        assert sdk.can(reader, READ)
        assert not sdk.can(reader, "erp.vehicles.create")
        assert not sdk.can(reader, "gestor.apps.read")
        assert not sdk.can(outsider, READ)
        assert sdk.can(admin, "erp.vehicles.create")

        world.revoke_read()
        revoked = until(lambda: not sdk.can(reader, READ), GOAL_WITH_WEBHOOKS)
        world.ok("PATCH", f"/v1/tenants/{world.tenant_id}/status", {"status": "suspended", "reason": "SDK drill"},
                 token=world.staff)
        suspended = until(lambda: not sdk.can(admin, "erp.vehicles.create"), GOAL_WITH_WEBHOOKS)
        print(f"\nSDK can() refused {revoked and f'{revoked:.2f} s'} after a revoke, "
              f"{suspended and f'{suspended:.2f} s'} after a tenant's suspension (cache_ttl 60 s, events flowing)")
        assert revoked is not None and suspended is not None


def test_drf_authentication_and_permission(world):
    with product(world) as sdk:
        class Vehicles(APIView):
            authentication_classes = [sdk.drf_authentication()]
            permission_classes = [sdk.drf_permission(READ)]
            throttle_classes = []  # the hub's own throttles read a hub principal; a product has its own

            def get(self, request):
                return Response({"tenant": request.user.tenant_id})

        view, factory = Vehicles.as_view(), APIRequestFactory()

        def status(token=None):
            headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
            return view(factory.get("/vehicles", **headers)).status_code

        assert status(world.login("reader@acme.com")["accessToken"]) == 200
        assert status(world.login("outsider@acme.com")["accessToken"]) == 403
        assert status() == 401
        assert status("not.a.token") == 401


def test_an_unreachable_hub_serves_snapshots_until_they_expire_then_refuses(world):
    with product(world, cache_ttl=1) as sdk:
        reader = sdk.verify(world.login("reader@acme.com")["accessToken"])
        assert sdk.can(reader, READ)
        sdk.decisions.transport = Transport("http://127.0.0.1:9", world.credential, timeout=1)
        assert sdk.can(reader, READ)  # the snapshot, still fresh
        time.sleep(1.1)
        assert not sdk.can(reader, READ)  # expired and the hub out of reach: fail closed
        started = time.monotonic()
        assert not sdk.can(reader, READ)
        assert time.monotonic() - started < 0.05  # refused at once during the backoff, no second attempt


def test_the_sdk_bench_measures_right_decisions_against_a_live_hub(world):
    """bench/sdk.py's measure runs (its decisions checked) against a live hub; the rate itself is a
    figure of `make bench` (docs/benchmarks.md, goal >= 50,000/s), not an assertion on a shared CI host."""
    rate = sdk_bench.can_rate(world.hub.base, world.credential, world.login("reader@acme.com")["accessToken"],
                              allowed=READ, denied="erp.vehicles.create")
    print(f"\nSDK can() on a warm cache: {rate['rate']:,.0f} decisions/s (rounds: "
          f"{' / '.join(f'{value:,.0f}' for value in rate['rates'])})")
    assert len(rate["rates"]) == sdk_bench.ROUNDS
