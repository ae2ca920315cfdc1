"""audit_append(): an entry goes at the end of its tenant's chain in one call (audit.chain.append_entry).

A function for two reasons. The chain's lock and the read of its last entry must be statements of
their own: in one statement the read would use the snapshot the statement started with, from before
the lock was granted, while a volatile function's statements each take a fresh one (READ COMMITTED)
and see the entry the previous holder committed. And PL/pgSQL keeps the plans of its statements for
the session, as a prepared statement would, with nothing a transaction-mode pooler could lose.

The arguments are the table's columns by name: append_entry passes the model's, so a column one
side lacks fails the call instead of going missing. A new column changes this function too."""

from django.db import migrations

CREATE = """
CREATE FUNCTION audit_append(
    id uuid, tenant_id uuid, created_at timestamptz, updated_at timestamptz, actor_user_id uuid,
    actor_type varchar, actor_id uuid, action varchar, entity_type varchar, entity_id varchar,
    metadata jsonb, ip inet, user_agent varchar,
    -- The canonical content around the link (audit.chain._content_around_link), and the first
    -- entry's previous hash.
    content_before text, content_after text, genesis varchar,
    OUT sequence bigint, OUT prev_hash varchar, OUT hash varchar
) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- Held until the transaction ends: appends to one tenant's chain follow one another.
    PERFORM pg_advisory_xact_lock(16725, hashtext(audit_append.tenant_id::text));
    SELECT head.sequence + 1, head.hash INTO audit_append.sequence, audit_append.prev_hash
    FROM audit_log AS head WHERE head.tenant_id = audit_append.tenant_id
    ORDER BY head.sequence DESC LIMIT 1;
    IF NOT FOUND THEN
        audit_append.sequence := 1;
        audit_append.prev_hash := genesis;
    END IF;
    -- A sequence is a JSON number and a hash is hex: neither needs escaping.
    audit_append.hash := encode(sha256(convert_to(
        content_before || audit_append.sequence::text || ',"' || audit_append.prev_hash || '"' || content_after,
        'UTF8')), 'hex');
    INSERT INTO audit_log (id, tenant_id, created_at, updated_at, actor_user_id, actor_type, actor_id, action,
                           entity_type, entity_id, metadata, ip, user_agent, sequence, prev_hash, hash)
    VALUES (audit_append.id, audit_append.tenant_id, audit_append.created_at, audit_append.updated_at,
            audit_append.actor_user_id, audit_append.actor_type, audit_append.actor_id, audit_append.action,
            audit_append.entity_type, audit_append.entity_id, audit_append.metadata, audit_append.ip,
            audit_append.user_agent, audit_append.sequence, audit_append.prev_hash, audit_append.hash);
END
$$
"""

DROP = """
DROP FUNCTION audit_append(uuid, uuid, timestamptz, timestamptz, uuid, varchar, uuid, varchar, varchar, varchar, jsonb,
                           inet, varchar, text, text, varchar)
"""


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0005_time_ordered_ids'),
    ]

    operations = [
        migrations.RunSQL(CREATE, reverse_sql=DROP),
    ]
