"""A product credential's row and the tenant it names, cached between requests
(identity/principal_rows.py): warm, a product's request reads no row; the secret is still checked
every time, and a rotation, a revocation or the tenant's suspension is seen by the very next request,
whatever the cache lost in between."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.services import SYSTEM
from catalog.models import Tool
from core.cache.versions import principal_row_version_key, tenant_row_version_key
from core.db.models import Status
from identity.onboarding import assign_package
from identity.principal import PRODUCT
from identity.product_credentials import (
    issue_product_credential,
    revoke_product_credential,
    rotate_product_credential,
)
from tenancy.models import Tenant
from tenancy.services import set_tenant_status
from tests.api.test_query_budgets import database_queries

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _product_urls(settings):
    settings.ROOT_URLCONF = "tests.identity.product_urls"


@pytest.fixture
def entitled(tenant):
    assign_package(tenant=tenant, package_key="erp-basic", actor=SYSTEM)
    return tenant


@pytest.fixture
def issued(seeded):
    return issue_product_credential(tool=Tool.objects.get(key="erp"), name="erp-backend", actor=SYSTEM)


def ask(api, secret, tenant):
    """The response, its error code (None if it passed) and the database queries it took."""
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/v1/test/product", token=secret, **{"X-Tenant-Id": str(tenant.pk)})
    code = None if response.status_code == 200 else response.json()["error"]["code"]
    return response, code, database_queries(captured)


def warm(api, secret, tenant):
    for _ in range(2):  # the credential's owner is learned by the first request, its row cached by the second
        assert ask(api, secret, tenant)[1] is None
    assert ask(api, secret, tenant)[1:] == (None, 0)


@pytest.mark.parametrize("flush", [False, True])
def test_a_revoked_credential_never_passes_again(api, entitled, issued, flush):
    warm(api, issued.secret, entitled)
    revoke_product_credential(credential=issued.credential, actor=SYSTEM)
    for _ in range(3):
        if flush:
            cache.clear()
        assert ask(api, issued.secret, entitled)[1] == "TOKEN_REVOKED"


@pytest.mark.parametrize("flush", [False, True])
def test_a_rotated_secret_never_passes_again(api, entitled, issued, flush):
    warm(api, issued.secret, entitled)
    rotated = rotate_product_credential(credential=issued.credential, actor=SYSTEM)
    for _ in range(3):
        if flush:
            cache.clear()
        assert ask(api, issued.secret, entitled)[1] == "INVALID_TOKEN"
    warm(api, rotated.secret, entitled)
    assert ask(api, issued.secret, entitled)[1] == "INVALID_TOKEN"


def test_the_secret_is_checked_against_the_cached_row(api, entitled, issued):
    warm(api, issued.secret, entitled)
    prefix = issued.credential.prefix
    assert ask(api, f"aza8p_{prefix}_{'B' * 43}", entitled)[1] == "INVALID_TOKEN"
    assert ask(api, issued.secret, entitled)[1:] == (None, 0)


@pytest.mark.parametrize("lost", ["credential", "tenant"])
def test_a_version_the_cache_lost_is_never_trusted(api, entitled, issued, lost):
    warm(api, issued.secret, entitled)
    key = (principal_row_version_key(PRODUCT, issued.credential.pk) if lost == "credential"
           else tenant_row_version_key(entitled.pk))
    cache.delete(key)
    assert ask(api, issued.secret, entitled)[1:] == (None, 1)  # read again, and cached again
    assert ask(api, issued.secret, entitled)[1:] == (None, 0)


def _suspend_by_service(tenant):
    set_tenant_status(tenant=tenant, status=Status.SUSPENDED, reason="unpaid", actor=SYSTEM)


def _suspend_in_bulk(tenant):
    Tenant.objects.filter(pk=tenant.pk).update(status=Status.SUSPENDED)


@pytest.mark.parametrize("suspend", [_suspend_by_service, _suspend_in_bulk])
def test_the_named_tenants_suspension_is_seen_on_the_next_request(api, entitled, issued, suspend):
    warm(api, issued.secret, entitled)
    suspend(entitled)
    assert ask(api, issued.secret, entitled)[1] == "TENANT_SUSPENDED"
    set_tenant_status(tenant=Tenant.objects.get(pk=entitled.pk), status=Status.ACTIVE, actor=SYSTEM)
    assert ask(api, issued.secret, entitled)[1] is None


def test_the_credentials_row_is_cached_without_its_secret(api, entitled, issued):
    warm(api, issued.secret, entitled)
    secret_part = issued.secret.split("_", 2)[2]  # the secret itself may hold underscores
    entry = cache.get(f"principal:None:{PRODUCT}:{issued.credential.pk}")
    _versions, (own, tool) = entry
    assert own["key_hash"] == issued.credential.key_hash and tool["key"] == "erp"
    assert secret_part not in repr(entry)
