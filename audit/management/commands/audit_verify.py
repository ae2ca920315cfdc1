"""manage.py audit_verify --tenant <slug>: walk the tenant's audit chain, report the first broken link."""

from contextlib import closing

from django.core.management.base import BaseCommand, CommandError

from audit.chain import verify_chain
from audit.models import AuditLog
from tenancy.models import Tenant


class Command(BaseCommand):
    help = "Verify the hash chain of a tenant's audit log; exit 1 at the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, metavar="SLUG")

    def handle(self, *args, tenant, **options):
        target = Tenant.objects.filter(slug=tenant).first()
        if target is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        # Closed explicitly: verification may stop early, and the server-side cursor must not outlive it.
        with closing(AuditLog.objects.for_tenant(target).order_by("sequence").iterator(chunk_size=5000)) as entries:
            report = verify_chain(entries)
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"{target.slug}: {report.checked} entries, chain intact."))
            return
        broken = report.broken_at
        self.stdout.write(self.style.ERROR(
            f"{target.slug}: broken at sequence {broken.sequence} (entry {broken.pk}, {broken.created_at.isoformat()}): "
            f"{report.reason}. {report.checked} entries before it verified."
        ))
        raise SystemExit(1)
