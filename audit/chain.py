"""The per-tenant hash chain of the audit log, and its verification."""

import hashlib
import json
from dataclasses import dataclass
from functools import cache

from django.db import models, transaction

from audit.models import AuditLog

__all__ = ["GENESIS", "ChainReport", "append_entry", "entry_hash", "verify_chain"]

GENESIS = "0" * 64


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
# record() leaves these as psycopg sends them: ids, text, aware datetimes, the address as text.
_SENT_AS_THEY_ARE = (models.UUIDField, models.CharField, models.DateTimeField, models.ForeignKey,
                     models.GenericIPAddressField)


def _sender(field):
    """How an entry's value for `field` becomes a parameter: as it is, through Django's JSON adapter,
    or through the field's own preparation (any other type). Django's preparation of every field
    was about a third of the append's Python time."""
    if isinstance(field, models.JSONField):
        return lambda value, db: db.ops.adapt_json_value(value, field.encoder)
    if isinstance(field, _SENT_AS_THEY_ARE):
        return None
    return lambda value, db: field.get_db_prep_save(value, db)


@cache
def _append_sql() -> tuple[str, tuple]:
    """The call that appends an entry, and (field, sender) for each of its arguments before the
    content's: every column but the link, by name."""
    fields = tuple(field for field in AuditLog._meta.concrete_fields if field.attname not in _LINK_FIELDS)
    arguments = ", ".join(f"{field.column} => %s" for field in fields)
    sql = (f"SELECT sequence, prev_hash, hash FROM audit_append({arguments}, "
           "content_before => %s, content_after => %s, genesis => %s)")
    return sql, tuple((field, _sender(field)) for field in fields)


def append_entry(entry) -> None:
    """Insert `entry` at the end of its tenant's chain, in one call of audit_append (migration 0006):
    it takes the tenant's chain lock, held until the transaction ends so that concurrent writers of
    one tenant append one after another, reads the chain's last entry, and inserts the entry with the
    next sequence, that entry's hash and its own — the SHA-256 of the canonical content entry_hash
    reads, computed around the link it found. `entry` gets the link and is saved, as Model.save
    would leave it.

    Through Django's own cursor, so that query counting, metrics and tracing see it."""
    sql, senders = _append_sql()
    db = transaction.get_connection()
    before, after = _content_around_link(entry)
    values = []
    for field, send in senders:
        value = field.pre_save(entry, True)
        values.append(value if send is None else send(value, db))
    with db.cursor() as cursor:
        cursor.execute(sql, [*values, before, after, GENESIS])
        entry.sequence, entry.prev_hash, entry.hash = cursor.fetchone()
    entry._state.adding = False
    entry._state.db = db.alias


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
