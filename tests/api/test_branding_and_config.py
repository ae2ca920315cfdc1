import pytest

from audit.models import AuditLog
from branding.models import TenantBranding

pytestmark = pytest.mark.django_db

BRANDING = {"logoUrl": "https://cdn.acme.com/logo.png", "primaryColor": "#112233", "secondaryColor": "#AABBCC",
            "domain": "portal.acme.com"}


def test_branding_round_trip_and_me(api, world):
    empty = api.get("/v1/branding", token=world.admin_token).json()["data"]
    assert empty == {"logoUrl": "", "primaryColor": "", "secondaryColor": "", "domain": None}
    saved = api.call("PUT", "/v1/branding", BRANDING, token=world.admin_token)
    assert saved.status_code == 200 and saved.json()["data"] == BRANDING
    assert api.get("/v1/me", token=world.admin_token).json()["data"]["branding"] == BRANDING
    entry = AuditLog.objects.get(tenant=world.tenant, action="branding.update")
    assert entry.metadata["changedFields"] == ["domain", "logo_url", "primary_color", "secondary_color"]
    api.call("PUT", "/v1/branding", BRANDING, token=world.admin_token)
    assert AuditLog.objects.filter(tenant=world.tenant, action="branding.update").count() == 1  # no change, no entry


@pytest.mark.parametrize(
    "change, field",
    [({"primaryColor": "red"}, "primaryColor"), ({"secondaryColor": "#12345"}, "secondaryColor"),
     ({"logoUrl": "http://acme.com/logo.png"}, "logoUrl"), ({"domain": "not a domain"}, "domain")],
)
def test_branding_validation(api, world, change, field):
    response = api.call("PUT", "/v1/branding", {**BRANDING, **change}, token=world.admin_token)
    assert response.status_code == 400 and field in response.json()["error"]["details"]
    assert not TenantBranding.objects.filter(tenant=world.tenant).exists()


def test_a_domain_belongs_to_one_tenant(api, world):
    from identity.services import create_api_key

    api.call("PUT", "/v1/branding", BRANDING, token=world.admin_token)
    other_admin = create_api_key(tenant=world.other, name="brander", profile="admin").key
    response = api.call("PUT", "/v1/branding", BRANDING, token=other_admin)
    assert response.status_code == 409


def test_config_round_trip_keeps_flag_names_verbatim(api, world):
    body = {"flags": {"betaDashboard": True, "new_checkout": False}, "limits": {"rateLimits": {"read": 50}}}
    saved = api.call("PUT", "/v1/config", body, token=world.admin_token)
    assert saved.status_code == 200 and saved.json()["data"] == body
    assert api.get("/v1/config", token=world.admin_token).json()["data"] == body
    assert AuditLog.objects.filter(tenant=world.tenant, action="config.update").count() == 1


@pytest.mark.parametrize(
    "body, field",
    [({"flags": {"x": "yes"}}, "flags"), ({"flags": {"bad name!": True}}, "flags"),
     ({"limits": {"maxUsers": 5}}, "limits"), ({"limits": {"rateLimits": {"read": 0}}}, "limits"),
     ({"limits": {"rateLimits": {"delete": 5}}}, "limits")],
)
def test_config_validation(api, world, body, field):
    response = api.call("PUT", "/v1/config", body, token=world.admin_token)
    assert response.status_code == 400 and field in response.json()["error"]["details"]


def test_config_limits_feed_the_rate_limiter_at_once(api, world, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "read": 100}
    api.get("/v1/groups", token=world.admin_token)  # the default limit is now cached for the tenant
    api.call("PUT", "/v1/config", {"limits": {"rateLimits": {"read": 3}}}, token=world.admin_token)
    codes = [api.get("/v1/groups", token=world.admin_token).status_code for _ in range(3)]
    assert codes[-1] == 429  # 2 reads already counted in this window + the new limit of 3


def test_branding_and_config_need_their_actions(api, world):
    viewer = world.token_with("branding.read", "config.read")
    assert api.get("/v1/branding", token=viewer).status_code == 200
    denied = api.call("PUT", "/v1/config", {}, token=viewer)
    assert denied.status_code == 403 and denied.json()["error"]["details"] == {"toolAction": "config.update"}
