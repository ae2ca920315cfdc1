"""What metering costs a request: GET /v1/groups with and without the usage middleware, in one run.

    .venv/bin/python bench/usage_overhead.py [requests]

Runs in-process (Django's test client, no network) against the configured database, in a tenant
`bench-usage` it creates once. Rounds alternate between the two setups so drift hits both alike.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from audit.services import SYSTEM  # noqa: E402
from identity.models import Group, User  # noqa: E402
from identity.services import add_member, create_user  # noqa: E402
from identity.sessions import login  # noqa: E402
from tenancy.models import Tenant  # noqa: E402
from usage.services import buffer  # noqa: E402

PASSWORD = "bench password 123"


def token() -> str:
    call_command("seed", verbosity=0)
    tenant, _ = Tenant.objects.get_or_create(slug="bench-usage", defaults={"name": "Bench"})
    call_command("seed", "--tenant", "bench-usage", verbosity=0)
    if not User.objects.filter(tenant=tenant, email="bench@usage.test").exists():
        user = create_user(tenant=tenant, email="bench@usage.test", password=PASSWORD).user
        add_member(group=Group.objects.get(tenant=tenant, name="ADM_CLIENTE"), user=user, actor=SYSTEM)
    return login(tenant_slug="bench-usage", email="bench@usage.test", password=PASSWORD, ip="127.0.0.2").access_token


def rate(client, headers, count) -> float:
    started = time.perf_counter()
    for _ in range(count):
        assert client.get("/v1/groups", **headers).status_code == 200
    return count / (time.perf_counter() - started)


def main(total: int) -> None:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token()}"}
    without = [name for name in settings.MIDDLEWARE if name != "usage.middleware.UsageMiddleware"]
    limits = {**settings.RATE_LIMITS, "read": 10**9}
    client = Client()
    rates = {"with": [], "without": []}
    with override_settings(RATE_LIMITS=limits, USAGE_FLUSH_SECONDS=5.0):
        rate(client, headers, 50)  # warm-up
        for _round in range(5):
            rates["with"].append(rate(client, headers, total // 5))
            with override_settings(MIDDLEWARE=without):
                rates["without"].append(rate(client, headers, total // 5))
    buffer.flush()
    best = {name: max(values) for name, values in rates.items()}
    print(f"requests per setup: {total}")
    print(f"with metering:    {best['with']:.0f} req/s")
    print(f"without metering: {best['without']:.0f} req/s")
    print(f"cost of metering: {(1 - best['with'] / best['without']) * 100:.1f}%")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
