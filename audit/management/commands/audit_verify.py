"""manage.py audit_verify --tenant <slug>: walk the tenant's audit chain, report the first broken link."""

from django.core.management.base import BaseCommand, CommandError

from audit.selectors import verify_tenant_chain
from tenancy.selectors import tenant_by_slug


class Command(BaseCommand):
    help = "Verify the hash chain of a tenant's audit log; exit 1 at the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, metavar="SLUG")

    def handle(self, *args, tenant, **options):
        target = tenant_by_slug(tenant)
        if target is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        report = verify_tenant_chain(target)
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"{target.slug}: {report.checked} entries, chain intact."))
            return
        broken = report.broken_at
        self.stdout.write(self.style.ERROR(
            f"{target.slug}: broken at sequence {broken.sequence} (entry {broken.pk}, {broken.created_at.isoformat()}): "
            f"{report.reason}. {report.checked} entries before it verified."
        ))
        raise SystemExit(1)
