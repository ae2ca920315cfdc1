"""The per-tenant hash chain of the audit log, and its verification."""

import hashlib
import json
import zlib
from dataclasses import dataclass

from django.db import connection

__all__ = ["GENESIS", "ChainReport", "entry_hash", "lock_chain_head", "verify_chain"]

GENESIS = "0" * 64
# Namespace of the advisory locks that serialise appends to one tenant's chain.
_LOCK_NAMESPACE = 0x4155  # "AU"


def entry_hash(entry) -> str:
    content = [
        str(entry.tenant_id),
        entry.sequence,
        entry.prev_hash,
        entry.created_at.isoformat(),
        entry.actor_type,
        str(entry.actor_id or ""),
        str(entry.actor_user_id or ""),
        entry.action,
        entry.entity_type,
        entry.entity_id,
        entry.metadata,
        entry.ip or "",
        entry.user_agent,
    ]
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def lock_chain_head(tenant_id) -> tuple[int, str] | None:
    """Take the tenant's chain lock, held until the transaction ends so that concurrent writers of
    one tenant append one after another, and read the (sequence, hash) of the chain's last entry.

    Two statements in one round trip, on every audited write. Under READ COMMITTED each statement
    takes its own snapshot, so the read (after the lock is granted) sees every entry committed by
    the writer that held the lock before."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s); "
            "SELECT sequence, hash FROM audit_log WHERE tenant_id = %s ORDER BY sequence DESC LIMIT 1",
            [_LOCK_NAMESPACE, zlib.crc32(str(tenant_id).encode()) - 2**31, tenant_id],
        )
        cursor.nextset()
        return cursor.fetchone()


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: object | None = None  # the first entry that does not verify
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(entries) -> ChainReport:
    """Walk `entries` (one tenant, ascending sequence). The first entry's predecessor may have been
    removed by retention, so only its own hash is checked; every later link must hold."""
    previous = None
    checked = 0
    for entry in entries:
        if previous is not None:
            if entry.sequence != previous.sequence + 1:
                return ChainReport(checked, entry, f"sequence jumps from {previous.sequence} to {entry.sequence}")
            if entry.prev_hash != previous.hash:
                return ChainReport(checked, entry, "prev_hash does not match the previous entry's hash")
        if entry_hash(entry) != entry.hash:
            return ChainReport(checked, entry, "content does not match its hash")
        previous = entry
        checked += 1
    return ChainReport(checked)
