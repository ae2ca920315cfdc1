"""Only active is_staff users of the platform tenant get into the Django admin."""

import pytest
from django.contrib.auth import authenticate

from tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


@pytest.fixture
def platform():
    return TenantFactory(slug="aza8", is_platform=True)


def login(client, email):
    return client.post("/admin/login/?next=/admin/", {"username": email, "password": PASSWORD})


def test_platform_staff_logs_in_and_sees_the_admin(client, platform):
    UserFactory(tenant=platform, email="staff@aza8.com", is_staff=True, is_superuser=True)
    response = login(client, "STAFF@aza8.com")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/tenancy/tenant/").status_code == 200


@pytest.mark.parametrize(
    "case",
    ["client_tenant_staff", "platform_non_staff", "suspended_staff", "deleted_staff", "wrong_password", "suspended_platform"],
)
def test_everyone_else_is_refused(client, platform, case):
    tenant = platform
    fields = {"is_staff": True}
    if case == "client_tenant_staff":
        tenant = TenantFactory(slug="client")
    elif case == "platform_non_staff":
        fields = {"is_staff": False}
    elif case == "suspended_staff":
        fields["status"] = "suspended"
    elif case == "deleted_staff":
        from django.utils import timezone

        fields["deleted_at"] = timezone.now()
    elif case == "suspended_platform":
        platform.status = "suspended"
        platform.save()
    UserFactory(tenant=tenant, email="someone@aza8.com", **fields)
    password = "not the password" if case == "wrong_password" else PASSWORD
    assert authenticate(username="someone@aza8.com", password=password) is None
    response = client.post("/admin/login/?next=/admin/", {"username": "someone@aza8.com", "password": password})
    assert response.status_code == 200  # the form again, with an error
    assert client.get("/admin/").status_code == 302


def test_a_client_user_with_the_same_email_as_staff_cannot_borrow_the_staff_login(client, platform):
    UserFactory(tenant=platform, email="same@example.com", is_staff=True)
    UserFactory(tenant=TenantFactory(), email="same@example.com", is_staff=True)
    user = authenticate(username="same@example.com", password=PASSWORD)
    assert user is not None and user.tenant == platform


def test_admin_pages_never_render_secrets(client, platform, seeded):
    from identity.models import ApiKey

    UserFactory(tenant=platform, email="staff@aza8.com", is_staff=True, is_superuser=True)
    key = ApiKey.objects.create(tenant=platform, name="ci", prefix="abcd1234", digest="f" * 64, pepper_version=1)
    login(client, "staff@aza8.com")
    page = client.get(f"/admin/identity/apikey/{key.pk}/change/").content.decode()
    assert "abcd1234" in page and "f" * 64 not in page
    user_page = client.get("/admin/identity/user/").content.decode()
    assert "argon2" not in user_page
