"""Staff of each role, logged in, and a way to submit an admin form the way a browser would."""

import pytest
from django.contrib.auth.models import Group as StaffRole

from identity.staff_roles import OPERATOR, SUPPORT
from tenancy.models import Tenant
from tests.factories import UserFactory

STAFF_PASSWORD = "a long staff password"


@pytest.fixture
def platform(seeded):
    return Tenant.objects.get(is_platform=True)


@pytest.fixture
def make_staff(platform):
    def make(role, email=None):
        user = UserFactory(tenant=platform, email=email or f"{role.split()[1]}@aza8.com", is_staff=True,
                           password=STAFF_PASSWORD)
        user.groups.add(StaffRole.objects.get(name=role))
        return user

    return make


@pytest.fixture
def operator(make_staff):
    return make_staff(OPERATOR)


@pytest.fixture
def support(make_staff):
    return make_staff(SUPPORT)


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def support_client(client, support):
    client.force_login(support)
    return client


def as_submitted(response, **changes) -> dict:
    """The POST body a browser sends for the admin change form in `response`, with `changes` applied.

    Every field of the main form and of each inline formset keeps its current value, as on screen.
    """
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({management[name].html_name: management[name].value() for name in management.fields})
        forms += formset.forms
    for form in forms:
        for field in form:
            if field.field.disabled:
                continue
            value = field.value()
            if value is None or value is False:
                continue
            data[field.html_name] = [str(item) for item in value] if isinstance(value, list | tuple) else str(value)
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}
