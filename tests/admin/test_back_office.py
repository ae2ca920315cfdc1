"""The back office writes through the services: same validation, audit entries and events as the API."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from audit.models import AuditLog
from catalog.models import Package, Tool, ToolAction
from core.db.models import Status
from identity.models import ApiKey, ApiKeyStatus, Group, Invitation, User, UserGroup
from identity.services import create_api_key, create_user
from identity.staff_roles import OPERATOR, STAFF_APPS, SUPPORT, role_permissions
from outbox.models import DeliveryStatus, EventStatus, OutboxEvent, WebhookDelivery
from tenancy.models import TenantPackage
from tests.admin.conftest import as_submitted
from tests.factories import TenantFactory, TenantPackageFactory, UserFactory

pytestmark = pytest.mark.django_db


def run_action(client, changelist, action, objects, **extra):
    return client.post(changelist, {"action": action, "_selected_action": [str(obj.pk) for obj in objects], **extra})


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


# --- Staff roles -----------------------------------------------------------------------------------


def test_seed_keeps_a_read_only_support_role_and_an_operator_role(platform):
    from django.contrib.auth.models import Group as StaffRole

    support = set(StaffRole.objects.get(name=SUPPORT).permissions.values_list("codename", flat=True))
    operator = set(StaffRole.objects.get(name=OPERATOR).permissions.values_list("codename", flat=True))
    assert support and all(codename.startswith("view_") for codename in support)
    assert {"view_auditlog", "view_periodictask", "view_tenant"} <= support
    assert {"change_tenant", "change_webhookdelivery", "add_tool", "change_periodictask"} <= operator
    assert support < operator == set(role_permissions(OPERATOR).values_list("codename", flat=True))


def test_support_reads_everything_and_is_offered_no_write(support_client):
    tenant = TenantFactory(slug="acme")
    for page in ["/admin/", "/admin/tenancy/tenant/", f"/admin/tenancy/tenant/{tenant.pk}/change/",
                 "/admin/audit/auditlog/", "/admin/django_celery_beat/periodictask/", "/admin/identity/user/",
                 "/admin/outbox/webhookdelivery/", "/admin/catalog/package/"]:
        assert support_client.get(page).status_code == 200, page
    changelist = support_client.get("/admin/tenancy/tenant/")
    assert 'value="suspend"' not in changelist.content.decode()
    assert support_client.get("/admin/catalog/tool/add/").status_code == 403
    response = run_action(support_client, "/admin/tenancy/tenant/", "suspend", [tenant], reason="no")
    tenant.refresh_from_db()
    assert tenant.status == Status.ACTIVE
    assert response.status_code in (200, 302)


def test_every_model_admin_is_read_only_for_support_and_every_write_goes_through_a_service(rf, support, operator):
    from django.apps import apps
    from django.contrib import admin

    from core.admin import ReadOnlyAdmin, ServiceAdmin

    for label in STAFF_APPS[:-1]:  # the hub's own apps (django-celery-beat keeps its own admin)
        for model in apps.get_app_config(label).get_models():
            model_admin = admin.site._registry.get(model)
            assert isinstance(model_admin, ReadOnlyAdmin), model
            request = rf.get("/admin/")
            request.user = support
            assert model_admin.has_view_permission(request)
            assert not (model_admin.has_add_permission(request) or model_admin.has_change_permission(request)
                        or model_admin.has_delete_permission(request)), model
            request.user = operator
            assert not model_admin.has_delete_permission(request), model
            if model_admin.has_add_permission(request) or model_admin.has_change_permission(request):
                # Django's own save would skip the audit trail and the outbox.
                assert isinstance(model_admin, ServiceAdmin), model
                assert type(model_admin).save_model is not admin.ModelAdmin.save_model, model


# --- Tenants ---------------------------------------------------------------------------------------


def test_suspend_asks_for_a_reason_then_suspends_through_the_service(operator_client, operator):
    tenant = TenantFactory(slug="acme")
    page = run_action(operator_client, "/admin/tenancy/tenant/", "suspend", [tenant])
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    tenant.refresh_from_db()
    assert tenant.status == Status.ACTIVE
    response = run_action(operator_client, "/admin/tenancy/tenant/", "suspend", [tenant], reason="Invoice overdue")
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert (tenant.status, tenant.suspended_reason) == (Status.SUSPENDED, "Invoice overdue")
    entry = AuditLog.objects.get(tenant=tenant, action="tenants.status.update")
    assert entry.actor_type == "staff" and entry.actor_user == operator
    assert entry.metadata["to"] == "suspended"


def test_the_platform_tenant_is_refused_with_a_message_and_the_rest_still_applies(operator_client, platform):
    acme = TenantFactory(slug="acme")
    response = operator_client.post("/admin/tenancy/tenant/", {
        "action": "suspend", "_selected_action": [str(platform.pk), str(acme.pk)], "reason": "test"}, follow=True)
    texts = messages_of(response)
    assert "1 tenant(s) suspended." in texts
    assert any("platform tenant cannot be suspended" in text for text in texts)
    platform.refresh_from_db()
    assert platform.status == Status.ACTIVE


def test_reactivate_and_run_seed(operator_client):
    tenant = TenantFactory(slug="acme", status=Status.SUSPENDED)
    TenantPackageFactory(tenant=tenant, package=Package.objects.get(key="erp-basic"))
    run_action(operator_client, "/admin/tenancy/tenant/", "reactivate", [tenant])
    tenant.refresh_from_db()
    assert tenant.status == Status.ACTIVE
    run_action(operator_client, "/admin/tenancy/tenant/", "run_seed", [tenant])
    assert Group.objects.filter(tenant=tenant, name="ADM_CLIENTE").exists()
    assert AuditLog.objects.filter(tenant=tenant, action="tenants.seeds.run").count() == 1


def test_tenant_list_search_filter_and_user_counts(operator_client):
    acme, globex = TenantFactory(slug="acme", name="Acme"), TenantFactory(slug="globex", name="Globex")
    UserFactory.create_batch(3, tenant=acme)
    UserFactory(tenant=acme, deleted_at=timezone.now())
    TenantPackageFactory(tenant=globex, package=Package.objects.get(key="gestor-pro"))
    page = operator_client.get("/admin/tenancy/tenant/?q=acm")
    rows = list(page.context["cl"].result_list)
    assert [tenant.slug for tenant in rows] == ["acme"] and rows[0].user_count == 3
    assert [t.slug for t in operator_client.get("/admin/tenancy/tenant/?package=gestor-pro").context["cl"].result_list] == [
        "globex"]
    assert {t.slug for t in operator_client.get("/admin/tenancy/tenant/?status__exact=active").context["cl"].result_list} >= {
        "acme", "globex"}


def test_packages_inline_assigns_changes_expiry_and_unassigns_through_the_service(operator_client):
    tenant = TenantFactory(slug="acme")
    url = f"/admin/tenancy/tenant/{tenant.pk}/change/"
    erp = Package.objects.get(key="erp-basic")
    expiry = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    page = operator_client.get(url)
    response = operator_client.post(url, as_submitted(page, **{
        "packages_held-TOTAL_FORMS": "1", "packages_held-0-package": str(erp.pk),
        "packages_held-0-expires_at_0": expiry.strftime("%Y-%m-%d"),
        "packages_held-0-expires_at_1": expiry.strftime("%H:%M:%S"),
    }))
    assert response.status_code == 302, response.context and response.context["errors"]
    held = TenantPackage.objects.get(tenant=tenant, package=erp)
    assert held.expires_at == expiry
    assert Group.objects.filter(tenant=tenant, name="ADM_CLIENTE").exists()  # the service topped up the base groups
    assert OutboxEvent.objects.filter(tenant=tenant, type="tenant.package.assigned").count() == 1

    page = operator_client.get(url)
    operator_client.post(url, as_submitted(page, **{"packages_held-0-DELETE": "on"}))
    assert not TenantPackage.objects.filter(tenant=tenant).exists()
    assert AuditLog.objects.filter(tenant=tenant, action="tenants.packages.unassign").count() == 1


def test_a_past_expiry_is_refused_on_the_form_and_nothing_changes(operator_client):
    tenant = TenantFactory(slug="acme")
    url = f"/admin/tenancy/tenant/{tenant.pk}/change/"
    yesterday = timezone.now() - timedelta(days=1)
    response = operator_client.post(url, as_submitted(operator_client.get(url), **{
        "packages_held-TOTAL_FORMS": "1", "packages_held-0-package": str(Package.objects.get(key="erp-basic").pk),
        "packages_held-0-expires_at_0": yesterday.strftime("%Y-%m-%d"), "packages_held-0-expires_at_1": "10:00:00",
    }))
    assert response.status_code == 200 and "Must be in the future." in response.content.decode()
    assert not TenantPackage.objects.filter(tenant=tenant).exists()


# --- Catalog ---------------------------------------------------------------------------------------


def test_tools_are_created_through_the_service_and_their_key_is_read_only_afterwards(operator_client, platform):
    add_page = operator_client.get("/admin/catalog/tool/add/")
    response = operator_client.post("/admin/catalog/tool/add/", as_submitted(add_page, key="crm", name="CRM"))
    tool = Tool.objects.get(key="crm")
    assert response.status_code == 302
    assert LogEntry.objects.get(object_repr=str(tool)).object_id == str(tool.pk)  # the admin points at the row written
    assert AuditLog.objects.filter(tenant=platform, action="catalog.tools.create", entity_id="crm").count() == 1
    page = operator_client.get(f"/admin/catalog/tool/{tool.pk}/change/").content.decode()
    assert 'name="key"' not in page and "crm" in page
    refused = operator_client.post("/admin/catalog/tool/add/", as_submitted(add_page, key="Bad Key", name="x"))
    assert refused.status_code == 200 and not Tool.objects.filter(name="x").exists()


def test_an_action_outside_its_tools_prefix_is_refused_with_a_message(operator_client):
    tool = Tool.objects.get(key="erp")
    response = operator_client.post("/admin/catalog/toolaction/add/", {
        "tool": str(tool.pk), "key": "crm.leads.read", "name": "x", "access_level": "read", "scope": "tenant",
    }, follow=True)
    assert any('start with "erp."' in text for text in messages_of(response))
    assert not ToolAction.objects.filter(key="crm.leads.read").exists()


def test_packages_pick_their_actions_and_changes_are_audited(operator_client, platform):
    keys = ["erp.vehicles.read", "erp.vehicles.create"]
    chosen = [str(pk) for pk in ToolAction.objects.filter(key__in=keys).values_list("pk", flat=True)]
    add_page = operator_client.get("/admin/catalog/package/add/").content.decode()
    assert "selectfilter" in add_page  # Django's two-pane selector
    operator_client.post("/admin/catalog/package/add/", {"key": "erp-lite", "name": "ERP Lite", "sold_actions": chosen})
    package = Package.objects.get(key="erp-lite")
    assert set(package.actions.values_list("key", flat=True)) == set(keys)
    url = f"/admin/catalog/package/{package.pk}/change/"
    operator_client.post(url, {"sold_actions": chosen[:1]})
    remaining = set(package.actions.values_list("key", flat=True))
    assert len(remaining) == 1
    removed = AuditLog.objects.get(tenant=platform, action="catalog.packages.actions.remove")
    assert removed.metadata["actions"] == sorted(set(keys) - remaining)


def test_deactivating_an_action_asks_for_a_reason_and_takes_it_out_everywhere(operator_client):
    action = ToolAction.objects.get(key="erp.vehicles.read")
    run_action(operator_client, "/admin/catalog/toolaction/", "deactivate", [action], reason="Replaced")
    action.refresh_from_db()
    assert (action.status, action.suspended_reason) == (Status.SUSPENDED, "Replaced")


# --- Identity --------------------------------------------------------------------------------------


def test_users_are_found_by_email_across_tenants_and_suspended_with_a_reason(operator_client):
    acme, globex = TenantFactory(slug="acme"), TenantFactory(slug="globex")
    one, two = UserFactory(tenant=acme, email="ana@shared.com"), UserFactory(tenant=globex, email="ana@shared.com")
    UserFactory(tenant=acme, email="bob@acme.com")
    found = operator_client.get("/admin/identity/user/?q=ana@shared").context["cl"].result_list
    assert {user.pk for user in found} == {one.pk, two.pk}
    by_tenant = operator_client.get(f"/admin/identity/user/?tenant__id__exact={acme.pk}").context["cl"].result_list
    assert {user.email for user in by_tenant} == {"ana@shared.com", "bob@acme.com"}
    run_action(operator_client, "/admin/identity/user/", "suspend", [one], reason="Left the company")
    one.refresh_from_db()
    assert (one.status, one.suspended_reason) == (Status.SUSPENDED, "Left the company")
    assert OutboxEvent.objects.get(tenant=acme, type="user.updated").payload["data"]["status"] == "suspended"


def test_only_a_superuser_hands_out_staff_roles_and_it_is_audited(client, operator_client, platform, make_staff):
    from django.contrib.auth.models import Group as StaffRole

    newcomer = make_staff(SUPPORT, email="newcomer@aza8.com")
    url = f"/admin/identity/user/{newcomer.pk}/change/"
    assert 'name="groups"' not in operator_client.get(url).content.decode()  # operators see roles read-only
    root = UserFactory(tenant=platform, email="root@aza8.com", is_staff=True, is_superuser=True)
    client.force_login(root)
    page = client.get(url)
    operator_role = StaffRole.objects.get(name=OPERATOR)
    assert client.post(url, as_submitted(page, groups=[str(operator_role.pk)])).status_code == 302
    assert list(newcomer.groups.values_list("name", flat=True)) == [OPERATOR]
    entry = AuditLog.objects.get(action="staff.roles.update")
    assert (entry.metadata["added"], entry.metadata["removed"], entry.actor_user) == ([OPERATOR], [SUPPORT], root)


def test_reset_invitation_shows_a_new_token_once_and_the_old_one_stops_working(operator_client, api):
    tenant = TenantFactory(slug="acme")
    invited = create_user(tenant=tenant, email="new@acme.com")
    response = run_action(operator_client, "/admin/identity/user/", "reissue_invitation", [invited.user])
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    token = response.context["issued"][0][1].token
    assert token in response.content.decode()
    assert Invitation.objects.filter(user=invited.user).count() == 1
    old = api.post("/v1/auth/invitations/accept", {"token": invited.invitation.token, "password": "a long enough one"})
    assert old.status_code == 401
    accepted = api.post("/v1/auth/invitations/accept", {"token": token, "password": "a long enough one"})
    assert accepted.status_code == 200, accepted.json()


def test_api_keys_never_show_their_digest_and_are_revoked_with_a_reason(operator_client):
    tenant = TenantFactory(slug="acme")
    issued = create_api_key(tenant=tenant, name="ci", profile="read-only")
    page = operator_client.get(f"/admin/identity/apikey/{issued.api_key.pk}/change/").content.decode()
    assert issued.api_key.prefix in page and issued.api_key.digest not in page and issued.key not in page
    run_action(operator_client, "/admin/identity/apikey/", "revoke", [issued.api_key], reason="Leaked in a log")
    assert ApiKey.objects.get(pk=issued.api_key.pk).status == ApiKeyStatus.REVOKED
    assert OutboxEvent.objects.filter(tenant=tenant, type="api_key.revoked").count() == 1


def test_groups_show_members_and_permissions(operator_client):
    tenant = TenantFactory(slug="acme")
    TenantPackageFactory(tenant=tenant, package=Package.objects.get(key="erp-basic"))
    run_action(operator_client, "/admin/tenancy/tenant/", "run_seed", [tenant])
    group = Group.objects.get(tenant=tenant, name="ADM_CLIENTE")
    member = create_user(tenant=tenant, email="admin@acme.com", password="correct horse battery").user
    UserGroup.objects.create(tenant=tenant, user=member, group=group)
    page = operator_client.get(f"/admin/identity/group/{group.pk}/change/").content.decode()
    assert "admin@acme.com" in page and "erp.vehicles.read" in page


# --- Outbox and dashboard --------------------------------------------------------------------------


def make_delivery(tenant, status, **fields):
    from audit.services import SYSTEM
    from outbox.services import create_subscription

    subscription = create_subscription(tenant=tenant, url="https://hooks.example.com/in", event_types=["user.created"],
                                       actor=SYSTEM).subscription
    event = OutboxEvent.objects.create(tenant=tenant, type="user.created", payload={}, status=EventStatus.DONE)
    return WebhookDelivery.objects.create(tenant=tenant, event=event, subscription=subscription, status=status,
                                          attempt_count=8, **fields)


def test_requeue_sends_dead_deliveries_again_and_audits_in_their_tenant(operator_client):
    tenant = TenantFactory(slug="acme")
    dead, done = make_delivery(tenant, DeliveryStatus.DEAD), make_delivery(tenant, DeliveryStatus.SUCCEEDED)
    response = run_action(operator_client, "/admin/outbox/webhookdelivery/", "requeue", [dead, done])
    assert response.status_code == 302
    dead.refresh_from_db(), done.refresh_from_db()
    assert (dead.status, dead.attempt_count, done.status) == (DeliveryStatus.PENDING, 0, DeliveryStatus.SUCCEEDED)
    assert AuditLog.objects.get(tenant=tenant, action="webhooks.update").metadata.items() >= {"requeued": 1, "replay": False}.items()


def test_requeuing_events_revives_dead_ones_and_resends_what_did_not_arrive(operator_client, platform):
    tenant = TenantFactory(slug="acme")
    failed = make_delivery(tenant, DeliveryStatus.DEAD)
    dead_event = OutboxEvent.objects.create(tenant=None, type="tenant.created", payload={}, status=EventStatus.DEAD)
    run_action(operator_client, "/admin/outbox/outboxevent/", "requeue", [failed.event, dead_event])
    dead_event.refresh_from_db(), failed.refresh_from_db()
    assert dead_event.status == EventStatus.PENDING and failed.status == DeliveryStatus.PENDING
    failed.event.refresh_from_db()
    assert failed.event.status == EventStatus.DONE  # not fanned out twice
    assert AuditLog.objects.get(tenant=platform, action="outbox.events.requeue").metadata["events"] == 1


def test_dashboard_counts(operator_client):
    from usage.models import UsageMetric

    suspended = TenantFactory(slug="gone", status=Status.SUSPENDED)
    make_delivery(suspended, DeliveryStatus.DEAD)
    old = make_delivery(suspended, DeliveryStatus.FAILED)
    WebhookDelivery.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=2))
    OutboxEvent.objects.create(tenant=None, type="tenant.created", payload={}, status=EventStatus.DEAD)
    OutboxEvent.objects.create(tenant=None, type="tenant.created", payload={})
    now = timezone.now()
    for key, count in [("erp.vehicles.read", 40), ("erp.vehicles.create", 7)]:
        UsageMetric.objects.create(tenant=suspended, tool_action=ToolAction.objects.get(key=key),
                                   period_start=now.replace(minute=0, second=0, microsecond=0),
                                   period_end=now + timedelta(hours=1), count=count)
    dashboard = operator_client.get("/admin/").context["dashboard"]
    assert dashboard.tenants_by_status["suspended"] == 1 and dashboard.tenants_by_status["active"] >= 1
    assert dashboard.events_dead == 1
    assert dashboard.events_pending == OutboxEvent.objects.filter(status=EventStatus.PENDING).count() >= 1
    assert dashboard.deliveries_failing == 1
    assert [(row["key"], row["total"]) for row in dashboard.top_actions] == [
        ("erp.vehicles.read", 40), ("erp.vehicles.create", 7)]


def test_a_client_user_is_never_let_in(client):
    tenant = TenantFactory(slug="acme")
    UserFactory(tenant=tenant, email="boss@acme.com", is_staff=True, is_superuser=True)
    response = client.post("/admin/login/?next=/admin/", {"username": "boss@acme.com", "password": "correct horse battery"})
    assert response.status_code == 200 and client.get("/admin/").status_code == 302
    assert User.objects.get(email="boss@acme.com").last_login is None
