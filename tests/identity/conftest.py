import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from identity.models import RefreshToken
from identity.services import create_api_key, create_user
from identity.tokens import TokenType, issue_access_token
from tests.factories import TenantFactory

PASSWORD = "correct horse battery staple"


class Api:
    """The Django test client speaking JSON, with an optional bearer credential."""

    def __init__(self, client):
        self.client = client

    def call(self, method, path, body=None, token=None, **headers):
        # Upper-case names are WSGI environ keys as they are (REMOTE_ADDR, HTTP_…); others are headers.
        extra = {
            name if name.isupper() else f"HTTP_{name.upper().replace('-', '_')}": value
            for name, value in headers.items()
        }
        if token:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        data = json.dumps(body) if body is not None else ""
        return self.client.generic(method, path, data, content_type="application/json", **extra)

    def post(self, path, body=None, token=None, **headers):
        return self.call("POST", path, body if body is not None else {}, token, **headers)

    def get(self, path, token=None, **headers):
        return self.call("GET", path, None, token, **headers)

    def login(self, tenant, email, password=PASSWORD, **headers):
        return self.post("/v1/auth/login", {"tenant": tenant.slug, "email": email, "password": password}, **headers)


def session_token(user) -> str:
    """An access token of a new session of `user`, minted directly: no login, so no audit entry
    names the user (a test may then delete the row)."""
    family = uuid.uuid4()
    RefreshToken.objects.create(tenant_id=user.tenant_id, user=user, jti=uuid.uuid4(), family=family,
                                token_hash="0" * 64, expires_at=timezone.now() + timedelta(days=1))
    return issue_access_token(subject=user.pk, tenant_id=user.tenant_id, token_type=TokenType.USER,
                              session=family).token


@pytest.fixture
def whoami_urls(settings):
    settings.ROOT_URLCONF = "tests.identity.whoami_urls"


@pytest.fixture
def tenant(seeded):
    return TenantFactory(slug="acme")


@pytest.fixture
def user(tenant):
    return create_user(tenant=tenant, email="ana@acme.com", name="Ana", password=PASSWORD).user


@pytest.fixture
def tokens(api, user, tenant):
    response = api.login(tenant, user.email)
    assert response.status_code == 200, response.content
    return response.json()["data"]


@pytest.fixture
def new_key(tenant):
    return create_api_key(tenant=tenant, name="ci", profile="read-only")
