"""manage.py seed [--check] [--tenant <slug>]"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from catalog.fixtures import FixtureError, load_catalog_fixture
from catalog.services import sync_catalog
from core.db.changes import ChangeLog
from identity.onboarding import seed_tenant_groups
from identity.staff_roles import sync_staff_roles
from operations.services import sync_periodic_tasks
from tenancy.selectors import tenant_by_slug
from tenancy.services import ensure_platform_tenant


class Command(BaseCommand):
    help = (
        "Load fixtures/ into the catalog, create the platform tenant and its staff groups, the back "
        "office's staff roles and the periodic tasks (idempotent). With --tenant, create or top up "
        "that tenant's base groups instead. With --check, write nothing: print the drift and exit 1 if there is any."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Report drift without writing.")
        parser.add_argument("--tenant", metavar="SLUG", help="Seed this tenant's base groups.")

    def handle(self, *args, check=False, tenant=None, **options):
        try:
            fixture = load_catalog_fixture()
        except FixtureError as exc:
            raise CommandError(f"Invalid fixtures: {exc}") from exc
        changes = ChangeLog()
        # One transaction: a failure leaves nothing half-seeded, and --check simply rolls it back,
        # so it reports exactly what a real run would do.
        with transaction.atomic():
            if tenant:
                target = tenant_by_slug(tenant)
                if target is None:
                    raise CommandError(f"No tenant with slug {tenant!r}.")
                seed_tenant_groups(tenant=target, templates=fixture.group_templates, changes=changes)
            else:
                sync_catalog(fixture, changes)
                platform = ensure_platform_tenant(changes)
                seed_tenant_groups(tenant=platform, templates=fixture.group_templates, changes=changes)
                sync_periodic_tasks(changes)
                sync_staff_roles(changes)
            if check:
                transaction.set_rollback(True)
        for line in changes.lines:
            self.stdout.write(f"  {line}")
        if check:
            if changes:
                self.stdout.write(self.style.WARNING(f"Drift: {len(changes)} change(s) pending."))
                raise SystemExit(1)
            self.stdout.write(self.style.SUCCESS("No drift."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Seed complete: {len(changes)} change(s)."))
