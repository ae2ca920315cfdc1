import io
import shutil

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from catalog.fixtures import DEFAULT_FIXTURES_DIR, FixtureError, load_catalog_fixture
from catalog.models import AccessLevel, ActionScope, Package, Tool, ToolAction
from identity.models import Group, GroupPermission, User
from tenancy.models import Tenant
from tests.factories import TenantFactory, TenantPackageFactory

pytestmark = pytest.mark.django_db


def run_seed(*args) -> str:
    out = io.StringIO()
    call_command("seed", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict:
    labels = ["catalog", "tenancy", "identity", "audit", "django_celery_beat"]
    return {
        model._meta.label: model.objects.count() for label in labels for model in apps.get_app_config(label).get_models()
    }


def test_seed_loads_the_catalog_of_the_spec():
    run_seed()
    hub = Tool.objects.get(key="hub")
    assert hub.is_core
    platform_actions = set(ToolAction.objects.filter(scope=ActionScope.PLATFORM).values_list("key", flat=True))
    assert platform_actions == {
        "tenants.create", "tenants.read", "tenants.status.update", "tenants.packages.assign",
        "tenants.packages.unassign", "tenants.seeds.run", "catalog.tools.create", "catalog.actions.create",
        "catalog.packages.create", "catalog.packages.actions.add", "product_credentials.create",
        "product_credentials.read", "product_credentials.rotate", "product_credentials.revoke",
    }
    assert ToolAction.objects.filter(tool=hub, scope=ActionScope.TENANT).count() == 33
    assert {"gestor", "erp", "hotelbot"} <= set(Tool.objects.filter(is_core=False).values_list("key", flat=True))
    assert {"gestor-pro", "erp-basic", "erp-pro", "hotelbot-standard"} <= set(Package.objects.values_list("key", flat=True))
    assert set(Package.objects.get(key="erp-basic").actions.values_list("key", flat=True)) < set(
        Package.objects.get(key="erp-pro").actions.values_list("key", flat=True)
    )


def test_seed_creates_the_platform_tenant_its_staff_groups_and_beat_schedules():
    run_seed()
    platform = Tenant.objects.get(slug="aza8")
    assert platform.is_platform
    admin = Group.objects.get(tenant=platform, name="PLATFORM_ADMIN")
    granted = set(GroupPermission.objects.filter(group=admin).values_list("tool_action__key", flat=True))
    assert "tenants.create" in granted and "users.read" in granted
    assert not any(key.startswith(("gestor.", "erp.")) for key in granted)
    support = set(
        GroupPermission.objects.filter(group__name="PLATFORM_SUPPORT").values_list("tool_action__access_level", flat=True)
    )
    assert support == {AccessLevel.READ}
    assert not Group.objects.filter(tenant=platform, name="ADM_CLIENTE").exists()
    tasks = PeriodicTask.objects.filter(name__in=["drain-outbox", "retention"])
    assert tasks.count() == 2 and all(task.crontab.timezone.key == "UTC" for task in tasks)


def test_seed_twice_gives_identical_row_counts():
    run_seed()
    first = row_counts()
    output = run_seed()
    assert row_counts() == first
    assert "0 change(s)" in output


def test_check_reports_no_drift_after_a_seed():
    run_seed()
    assert "No drift." in run_seed("--check")


def test_check_reports_drift_exits_non_zero_and_writes_nothing():
    run_seed()
    Tool.objects.filter(key="gestor").update(name="Renamed by hand")
    Package.objects.get(key="erp-pro").package_actions.filter(tool_action__key="erp.parts.manage").delete()
    before = row_counts()
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("seed", "--check", stdout=out)
    assert exit_info.value.code == 1
    assert "update tool gestor: name" in out.getvalue()
    assert "add action erp.parts.manage to package erp-pro" in out.getvalue()
    assert row_counts() == before
    assert Tool.objects.get(key="gestor").name == "Renamed by hand"


def test_check_on_an_empty_database_lists_everything_and_creates_nothing():
    with pytest.raises(SystemExit):
        call_command("seed", "--check", stdout=io.StringIO())
    assert not Tool.objects.exists() and not Tenant.objects.exists()


def test_seed_keeps_a_status_the_fixture_does_not_own():
    run_seed()
    ToolAction.objects.filter(key="gestor.files.upload").update(status="suspended")
    run_seed()
    assert ToolAction.objects.get(key="gestor.files.upload").status == "suspended"


def test_tenant_seed_creates_base_groups_with_what_the_tenant_is_entitled_to():
    run_seed()
    tenant = TenantFactory(slug="dealer")
    TenantPackageFactory(tenant=tenant, package=Package.objects.get(key="erp-basic"))
    output = run_seed("--tenant", "dealer")
    assert "create group ADM_CLIENTE in dealer" in output

    def granted(name):
        return set(GroupPermission.objects.filter(tenant=tenant, group__name=name).values_list("tool_action__key", flat=True))

    admin, operator, viewer = granted("ADM_CLIENTE"), granted("OPERATOR"), granted("VIEWER")
    assert {"users.create", "erp.sales.create", "erp.vehicles.read"} <= admin
    assert "erp.service_orders.manage" not in admin  # erp-pro only
    assert not any(ToolAction.objects.get(key=key).scope == ActionScope.PLATFORM for key in admin)
    assert "users.delete" not in operator and "erp.sales.create" in operator
    assert viewer == {key for key in admin if ToolAction.objects.get(key=key).access_level == AccessLevel.READ}
    assert "0 change(s)" in run_seed("--tenant", "dealer")


def test_tenant_seed_tops_up_after_a_new_package():
    run_seed()
    tenant = TenantFactory(slug="hotel")
    run_seed("--tenant", "hotel")
    TenantPackageFactory(tenant=tenant, package=Package.objects.get(key="hotelbot-standard"))
    output = run_seed("--tenant", "hotel")
    assert "grant" in output and "ADM_CLIENTE" in output
    assert GroupPermission.objects.filter(tenant=tenant, tool_action__key="hotelbot.settings.manage").exists()


def test_tenant_seed_of_an_unknown_tenant_fails():
    with pytest.raises(CommandError, match="No tenant"):
        run_seed("--tenant", "nobody")


def test_invalid_fixtures_are_refused_before_anything_is_written(tmp_path):
    shutil.copytree(DEFAULT_FIXTURES_DIR, tmp_path / "fixtures")
    broken = tmp_path / "fixtures" / "tools" / "gestor.yaml"
    broken.write_text(broken.read_text().replace("gestor.apps.read", "erp.apps.read"))
    with pytest.raises(FixtureError, match="must start with 'gestor.'"):
        load_catalog_fixture(tmp_path / "fixtures")
    packages = tmp_path / "fixtures" / "packages.yaml"
    broken.write_text((DEFAULT_FIXTURES_DIR / "tools" / "gestor.yaml").read_text())
    packages.write_text(packages.read_text().replace("erp.sales.read,", "erp.sales.reed,"))
    with pytest.raises(FixtureError, match="unknown action 'erp.sales.reed'"):
        load_catalog_fixture(tmp_path / "fixtures")


def test_createsuperuser_makes_platform_staff_in_the_admin_group(monkeypatch):
    run_seed()
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long staff password")
    call_command("createsuperuser", "--noinput", "--email", "ops@aza8.com", stdout=io.StringIO())
    user = User.objects.get(email="ops@aza8.com")
    assert user.tenant.is_platform and user.is_staff and user.is_superuser
    assert user.check_password("a long staff password")
    assert user.memberships.filter(group__name="PLATFORM_ADMIN").exists()
    assert user.password.startswith("argon2")
