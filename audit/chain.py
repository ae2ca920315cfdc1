"""The per-tenant hash chain of the audit log, and its verification."""

import hashlib
import json
import zlib
from dataclasses import dataclass
from functools import cache

from django.db import connection

from config.db.lookup import execute_prepared, statement_name

__all__ = ["GENESIS", "ChainReport", "append_entry", "entry_hash", "verify_chain"]

GENESIS = "0" * 64
# Namespace of the advisory locks that serialise appends to one tenant's chain.
_LOCK_NAMESPACE = 0x4155  # "AU"


def _canonical(items: list) -> str:
    return json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _content_around_link(entry) -> tuple[str, str]:
    """The canonical JSON of an entry's content is `[tenant,sequence,"prev_hash",rest…]`; this is the
    text before the sequence and the text after the previous hash, so that whoever knows the link
    (Python here, PostgreSQL in append_entry) can hash the whole without building it again."""
    rest = _canonical([
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
    ])
    return _canonical([str(entry.tenant_id)])[:-1] + ",", "," + rest[1:]


def entry_hash(entry) -> str:
    before, after = _content_around_link(entry)
    # A sequence is a JSON number and a hash is hex: neither needs escaping.
    canonical = f'{before}{entry.sequence},"{entry.prev_hash}"{after}'
    return hashlib.sha256(canonical.encode()).hexdigest()


_LINK_FIELDS = ("sequence", "prev_hash", "hash")


@cache
def _append_sql() -> tuple[str, tuple]:
    from audit.models import AuditLog

    quote = connection.ops.quote_name
    fields = tuple(field for field in AuditLog._meta.concrete_fields if field.attname not in _LINK_FIELDS)
    link_fields = [AuditLog._meta.get_field(name) for name in _LINK_FIELDS]
    table = quote(AuditLog._meta.db_table)
    columns = ", ".join(quote(field.column) for field in (*fields, *link_fields))
    values = ", ".join(["%s"] * len(fields))
    sql = f"""
        WITH link AS (
            SELECT coalesce(head.sequence, 0) + 1 AS sequence, coalesce(head.hash, %s) AS prev_hash
            FROM (SELECT 1) AS chain LEFT JOIN LATERAL (
                SELECT sequence, hash FROM {table} WHERE tenant_id = %s ORDER BY sequence DESC LIMIT 1
            ) AS head ON true
        )
        INSERT INTO {table} ({columns}) VALUES (
            {values},
            (SELECT sequence FROM link),
            (SELECT prev_hash FROM link),
            (SELECT encode(sha256(convert_to(%s || sequence::text || ',"' || prev_hash || '"' || %s, 'UTF8')), 'hex')
             FROM link)
        )
        RETURNING sequence, prev_hash, hash
    """
    return sql, fields


_APPEND_STATEMENT = statement_name()


def append_entry(entry) -> None:
    """Insert `entry` at the end of its tenant's chain, in one round trip: take the tenant's chain
    lock (held until the transaction ends, so that concurrent writers of one tenant append one after
    another), read the chain's last entry, and insert with the next sequence, that entry's hash and
    its own — the SHA-256 of the canonical content entry_hash reads, computed by PostgreSQL around
    the link it found. `entry` gets the link and is saved, as Model.save would leave it. The INSERT
    is prepared once per connection: planning was about half of its time."""
    sql, fields = _append_sql()
    before, after = _content_around_link(entry)
    values = [field.get_db_prep_save(field.pre_save(entry, True), connection) for field in fields]
    # The lock is a statement of its own: under READ COMMITTED the INSERT's snapshot is then taken
    # after the lock was granted, and sees every entry the previous holder committed.
    lock = ("SELECT pg_advisory_xact_lock(%s, %s); ", [_LOCK_NAMESPACE, zlib.crc32(str(entry.tenant_id).encode()) - 2**31])
    with connection.cursor() as cursor:
        execute_prepared(cursor, _APPEND_STATEMENT, sql, [GENESIS, entry.tenant_id, *values, before, after], preceded_by=lock)
        cursor.nextset()
        entry.sequence, entry.prev_hash, entry.hash = cursor.fetchone()
    entry._state.adding = False
    entry._state.db = connection.alias


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
