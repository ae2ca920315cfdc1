"""Reads of the audit trail beyond the API's list: the verification of a tenant's hash chain."""

from contextlib import closing

from audit.chain import ChainReport, verify_chain
from audit.models import AuditLog

__all__ = ["verify_tenant_chain"]


def verify_tenant_chain(tenant) -> ChainReport:
    """Walk the tenant's entries in sequence order and report the first broken link, if any."""
    # Closed explicitly: verification may stop early, and the server-side cursor must not outlive it.
    with closing(AuditLog.objects.for_tenant(tenant).order_by("sequence").iterator(chunk_size=5000)) as entries:
        return verify_chain(entries)
