"""examples/gestor end to end: the Gestor deploy manager's NestJS backend (`node dist/main.js`, on the
repository's TypeScript SDK: HubGuard and @RequireToolAction) against a live hub, through the examples'
drill (tests/products/services.py): POST /apps/:id/deploy needs gestor.apps.deploy — 200 / 403 / 401,
usage in the hub, a revoked grant refused with webhooks and without."""

import pytest

from tests.products.services import node_example, revocation_drill

pytestmark = [pytest.mark.slow, pytest.mark.once]

DEPLOY = "gestor.apps.deploy"


def _deploy(running, token):
    return running.post("/apps/storefront/deploy", headers={"Authorization": f"Bearer {token}"} if token else {})


@pytest.mark.parametrize("world", [DEPLOY], indirect=True)
def test_the_gestor_decides_reports_and_follows_revocations(world):
    revocation_drill(world, node_example(world, "gestor"), _deploy, name="Gestor (NestJS)")
