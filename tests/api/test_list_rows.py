"""Lists read as rows (core/api/rows.py) answer the same bytes as DRF's serializers, on every
tenant-scoped list route, for rows holding every kind of value the columns allow."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.postgres.fields import ArrayField
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

import core.api.viewsets
from audit.services import SYSTEM
from core.api.access import PRODUCT
from core.api.pagination import KeysetPagination
from core.api.renderers import IGNORED_FIELDS, camelize
from core.api.rows import plan_for
from core.api.viewsets import ListMixin, TenantScopedViewSet
from exports.api.views import ExportSerializer
from identity.api.serializers import GroupPermissionSerializer, UserCreatedSerializer, UserSerializer
from identity.models import Group, GroupPermission, User
from identity.services import add_member, create_api_key, create_group, create_user
from identity.sessions import login
from integrations.services import create_credential
from outbox.api.views import DeliverySerializer
from outbox.services import create_subscription
from tests.api.test_route_declarations import routes
from tests.identity.conftest import PASSWORD

pytestmark = pytest.mark.django_db

TRICKY = 'Zoë "quoted" \\ <b>&\u2028\u2029\t\n😀 a_b'


def _product_only(view) -> bool:
    declared = view.tool_action.values() if isinstance(view.tool_action, dict) else [view.tool_action]
    return PRODUCT in declared


def list_routes():
    """(path, viewset) of every tenant-scoped top-level list route (a nested one, a subscription's
    deliveries, reads its rows through the same ListMixin and is walked in tests/outbox)."""
    found = []
    for route, callback in routes():
        view = getattr(callback, "cls", None)
        # Product-only lists (a product credential's own subscriptions) are walked in tests/outbox.
        if (view is not None and issubclass(view, TenantScopedViewSet) and callback.actions.get("get") == "list"
                and "(?P<" not in route and not _product_only(view)):
            found.append(("/" + route.replace("^", "").replace("$", ""), view))
    return found


def edge_values(model, tenant):
    """Spread each kind of value over the tenant's rows: NULLs, whole seconds, tied timestamps,
    early years, JSON with snake_case keys, empty and non-ASCII arrays, awkward text."""
    # The newest rows are the fixture's own: the seeded groups and the admin keep their meaning.
    rows = list(model.objects.for_tenant(tenant).order_by("-created_at", "-pk").values_list("pk", flat=True))
    assert len(rows) >= 8, model
    columns = [field for field in model._meta.concrete_fields if not field.primary_key and not field.is_relation]
    by_kind = {
        "null": {field.name: None for field in columns if field.null},
        "whole": {field.name: datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
                  for field in columns if isinstance(field, models.DateTimeField)},
        "tied": {"created_at": datetime(2031, 5, 6, 7, 8, 9, 120000, tzinfo=UTC)},
        "early": {field.name: datetime(987, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
                  for field in columns if isinstance(field, models.DateTimeField) and field.name != "created_at"},
        "text": {field.name: TRICKY[: field.max_length] for field in columns
                 if type(field) in (models.CharField, models.TextField) and not field.choices
                 and field.name not in ("hash", "prev_hash")},
        "json": {field.name: {"snake_key": [{"inner_key": 1.5e300, "ü": None}], "x": True}
                 for field in columns if isinstance(field, models.JSONField)},
        "arrays": {field.name: ["ä_b", "c"] for field in columns if isinstance(field, ArrayField)},
        "empty": {field.name: [] for field in columns if isinstance(field, ArrayField)},
    }
    for pk, values in zip(rows, by_kind.values(), strict=False):
        if values:
            model.objects.filter(pk=pk).update(**values)
    # A second row on the tied timestamp: the id alone orders them, in the cursor too.
    model.objects.filter(pk=rows[-1]).update(created_at=by_kind["tied"]["created_at"])


@pytest.fixture
def rows_of_every_kind(world, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    tenant = world.tenant
    for index in range(8):
        create_group(tenant=tenant, name=f"g{index}", description=f"group {index}", actor=SYSTEM)
        create_api_key(tenant=tenant, name=f"k{index}", profile="read-only" if index % 2 else None,
                       scopes=("users.read",) if index % 2 == 0 else (), allowed_networks=("10.0.0.0/8",) * (index % 2))
        create_user(tenant=tenant, email=f"row{index}@acme.com", name=f"Row {index}")
        create_credential(tenant=tenant, provider="stripe", name=f"c{index}", data={"apiKey": "sk"},
                          expires_at=timezone.now() + timedelta(days=index), actor=SYSTEM)
        create_subscription(tenant=tenant, url=f"https://hooks.example.com/{index}", event_types=["user.created"],
                            description=f"hook {index}", actor=SYSTEM)
    for _path, view in list_routes():
        edge_values(view.queryset.model, tenant)
    return world


def pages(api, token, path):
    """The route's default, small, ascending and filtered pages, and the page after each."""
    found = []
    for query in ("", "?limit=3", "?limit=3&sort=created_at:asc", "?createdAtFrom=2000-01-01T00:00:00Z"):
        response = api.get(path + query, token=token)
        assert response.status_code == 200, response.content
        found.append(response.content)
        cursor = response.json()["meta"]["nextCursor"]
        if cursor:
            found.append(api.get(f"{path}?limit=3&cursor={cursor}", token=token).content)
    return found


def test_every_list_route_answers_drf_s_bytes(api, rows_of_every_kind, monkeypatch):
    read_as_rows, compiled = [], []
    paginate_rows, paginate_tenant_rows = KeysetPagination.paginate_rows, KeysetPagination.paginate_tenant_rows

    def spy(paginator, queryset, request, plan):
        read_as_rows.append(request.path)
        return paginate_rows(paginator, queryset, request, plan)

    def compiled_spy(paginator, view_class, tenant_id, request, plan):
        compiled.append(request.get_full_path())
        return paginate_tenant_rows(paginator, view_class, tenant_id, request, plan)

    monkeypatch.setattr(KeysetPagination, "paginate_rows", spy)
    monkeypatch.setattr(KeysetPagination, "paginate_tenant_rows", compiled_spy)
    found = list_routes()
    assert {path for path, _view in found} >= {"/v1/users", "/v1/audit-logs"}
    for path, view in found:
        fast = pages(api, rows_of_every_kind.admin_token, path)
        with monkeypatch.context() as drf_only:
            drf_only.setattr(core.api.viewsets, "plan_for", lambda serializer_class: None)
            slow = pages(api, rows_of_every_kind.admin_token, path)
        assert len(fast) > 5 and len(fast[0]) > 300, path
        assert fast == slow, path
        plan = plan_for(view.serializer_class)
        assert (path in read_as_rows or bool(compiled)) == (plan is not None), path
        # The tenant's whole list, unfiltered, runs SQL compiled once per shape of page; a filter
        # (or a view narrowing its queryset itself) goes through the ORM. Every page but the filtered
        # one, unless the route has no filters to apply.
        if plan is not None and view.get_queryset is TenantScopedViewSet.get_queryset:
            filtered = 1 if getattr(view, "filterset_class", None) else 0
            assert len(compiled) == len(fast) - filtered, (path, compiled)
            assert filtered == 0 or not any("createdAtFrom" in asked for asked in compiled), path
        else:
            assert not compiled, path
        read_as_rows.clear()
        compiled.clear()
    assert plan_for(UserSerializer) is not None


def test_every_list_route_can_be_read_as_rows():
    """A list route built on DRF's ListModelMixin alone would never take the rows path."""
    assert all(issubclass(view, ListMixin) for _path, view in list_routes())


class _Custom(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email"]

    def to_representation(self, instance):
        return {**super().to_representation(instance), "extra": 1}


class _LocalTime(serializers.ModelSerializer):
    created_at = serializers.DateTimeField(default_timezone=UTC)

    class Meta:
        model = User
        fields = ["id", "created_at"]


class _Formatted(serializers.ModelSerializer):
    created_at = serializers.DateTimeField(format="%Y")

    class Meta:
        model = User
        fields = ["id", "created_at"]


class _Property(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "is_active"]


@pytest.mark.parametrize("serializer_class", [
    GroupPermissionSerializer,  # a dotted source
    DeliverySerializer,  # dotted sources
    ExportSerializer,  # a method field
    UserCreatedSerializer,  # a nested serializer
    _Custom, _LocalTime, _Formatted, _Property,
])
def test_what_rows_cannot_express_is_left_to_drf(serializer_class):
    assert plan_for(serializer_class) is None


def test_another_time_zone_is_left_to_drf(api, world, monkeypatch):
    paginate_rows = []
    monkeypatch.setattr(KeysetPagination, "paginate_rows", lambda *args: paginate_rows.append(args))
    with timezone.override("America/Sao_Paulo"):
        body = api.get("/v1/users", token=world.admin_token).json()
    assert paginate_rows == [] and body["data"][0]["createdAt"].endswith("-03:00")


class _Constraints(serializers.ModelSerializer):
    class Meta:
        model = GroupPermission
        fields = ["id", "constraints", "created_at"]


def test_json_outside_the_ignored_fields_is_camelized_like_drf_s(world):
    """No list route shows such a column today; the renderer would camelize its keys."""
    GroupPermission.objects.filter(group__tenant=world.tenant).update(constraints={"max_rows": {"per_day": 1}})
    queryset = GroupPermission.objects.for_tenant(world.tenant)
    request = Request(APIRequestFactory().get("/", {"limit": 3}))
    rows = KeysetPagination().paginate_rows(queryset, request, plan_for(_Constraints))
    drf = KeysetPagination().paginate_queryset(queryset, request)
    assert rows[0]["constraints"] == {"maxRows": {"perDay": 1}}
    assert rows == camelize(_Constraints(drf, many=True).data, IGNORED_FIELDS)


def test_a_compiled_page_shows_only_the_asking_tenant_s_rows(api, world):
    """Both tenants ask the same shape of page: one statement, each tenant's own rows."""
    other_admin = create_user(tenant=world.other, email="admin@globex.com", password=PASSWORD).user
    add_member(group=Group.objects.get(tenant=world.other, name="ADM_CLIENTE"), user=other_admin, actor=SYSTEM)
    create_user(tenant=world.other, email="third@globex.com")
    other_token = login(tenant_slug=world.other.slug, email="admin@globex.com", password=PASSWORD,
                        ip="127.0.0.1").access_token

    def emails(token, query=""):
        body = api.get(f"/v1/users?limit=2{query}", token=token).json()
        return {row["email"] for row in body["data"]}, body["meta"]["nextCursor"]

    mine, cursor = emails(world.admin_token)
    theirs, their_cursor = emails(other_token)
    assert mine <= set(User.objects.for_tenant(world.tenant).values_list("email", flat=True)) and len(mine) == 2
    assert theirs <= set(User.objects.for_tenant(world.other).values_list("email", flat=True)) and len(theirs) == 2
    # Another tenant's cursor only moves within the asking tenant's rows.
    after, _ = emails(world.admin_token, f"&cursor={their_cursor}")
    assert after <= set(User.objects.for_tenant(world.tenant).values_list("email", flat=True))


def test_a_compiled_page_is_prepared_once_per_connection(api, world):
    api.get("/v1/groups?limit=7", token=world.admin_token)
    with CaptureQueriesContext(connection) as captured:
        assert api.get("/v1/groups?limit=7", token=world.admin_token).status_code == 200
    statements = [query["sql"].split()[0] for query in captured.captured_queries]
    assert statements.count("PREPARE") == 0 and statements[-1] == "EXECUTE", statements


def test_pages_without_json_columns_are_written_by_orjson_with_drf_s_bytes():
    from audit.api.views import AuditLogSerializer
    from core.api.renderers import EnvelopeJSONRenderer, PlainRows, enveloped

    assert type(plan_for(UserSerializer).present([])) is PlainRows
    assert type(plan_for(AuditLogSerializer).present([])) is not PlainRows  # metadata may hold floats
    rows = PlainRows([{"name": TRICKY, "n": 2**63 - 1, "on": True, "none": None, "tags": ["ä_b", TRICKY]}] * 3)
    body = enveloped(rows, meta={"next_cursor": None, "has_more": False})
    as_drf = EnvelopeJSONRenderer().render(enveloped(list(rows), meta={"next_cursor": None, "has_more": False}))
    assert EnvelopeJSONRenderer().render(body) == as_drf and b"\\u2028" in as_drf
    # Asked for indented JSON, DRF writes it.
    indented = EnvelopeJSONRenderer().render(body, "application/json; indent=2")
    assert indented.startswith(b'{\n  "data": [') and indented.count(b"\\u2029") == 6
