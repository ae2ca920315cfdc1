"""Deny by default: every route declares who may call it, and every declared key exists."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.viewsets import ViewSetMixin

from catalog.fixtures import load_catalog_fixture
from core.api.access import AUTHENTICATED, PRODUCT, PRODUCT_IN_TENANT, PRODUCT_PLATFORM, PUBLIC

# Third-party views with their own access rules (documented in docs/rbac.md).
EXEMPT_PREFIXES = ("admin/", "v1/openapi.json", "v1/docs", "static/")


def routes(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def declarations():
    for route, callback in routes():
        if route.startswith(EXEMPT_PREFIXES) or route.lstrip("^").startswith(EXEMPT_PREFIXES):
            continue
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        declared = getattr(view, "tool_action", None) if view else getattr(callback, "tool_action", None)
        actions = getattr(callback, "actions", None)  # viewsets: {method: action name}
        yield route, view, declared, actions


ALL_ACTION_KEYS = {action.key for tool in load_catalog_fixture().tools for action in tool.actions}


def test_every_route_declares_its_tool_action():
    missing = [route for route, _view, declared, _actions in declarations() if declared is None]
    # The catch-all answers 404 to everything and authorizes nothing.
    assert missing == [r"^v1(/[\s\S]*)?$"]


def test_every_viewset_action_is_mapped_and_every_key_exists():
    checked = 0
    for route, view, declared, actions in declarations():
        if declared is None:
            continue
        values = declared.values() if isinstance(declared, dict) else [declared]
        for key in values:
            assert key in (PUBLIC, AUTHENTICATED, PRODUCT) or key in ALL_ACTION_KEYS, (route, key)
        if view is not None and issubclass(view, ViewSetMixin):
            assert isinstance(declared, dict), route
            for name in actions.values():
                assert name in declared, (route, name)
                checked += 1
    assert checked >= 20


def test_product_routes_say_where_a_product_acts():
    """A route open to product credentials says, per action, whether in a tenant (X-Tenant-Id) or on
    the platform; a products-only route (tool_action PRODUCT) is open to them on every action."""
    for route, view, declared, _actions in declarations():
        opened = getattr(view, "product_access", None)
        scopes = opened.values() if isinstance(opened, dict) else [opened] if opened else []
        assert set(scopes) <= {PRODUCT_IN_TENANT, PRODUCT_PLATFORM}, route
        only_products = [name for name, key in (declared.items() if isinstance(declared, dict) else [(None, declared)])
                         if key == PRODUCT]
        for name in only_products:
            assert opened if name is None or not isinstance(opened, dict) else name in opened, route


@pytest.mark.django_db
def test_a_route_without_a_declaration_is_refused(api, world, settings):
    settings.ROOT_URLCONF = "tests.api.undeclared_urls"
    response = api.get("/v1/test/undeclared", token=world.admin_token)
    assert response.status_code == 403 and response.json()["error"]["code"] == "FORBIDDEN_ACTION"


@pytest.mark.django_db
def test_unmapped_methods_are_405(api, world):
    user_id = world.admin.pk
    for method, path in [("PUT", f"/v1/users/{user_id}"), ("DELETE", "/v1/groups"), ("POST", "/v1/me"),
                         ("DELETE", "/v1/api-keys/" + str(world.other_objects["api_key"].pk)), ("GET", "/v1/authz/check")]:
        response = api.call(method, path, {}, token=world.admin_token)
        assert response.status_code == 405, (method, path)
        assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
