import ast
import hashlib
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.chain import GENESIS, entry_hash
from audit.models import AuditLog
from audit.registry import AUDIT_ACTIONS, ROUTE_ACTIONS
from audit.services import Actor, record
from catalog.fixtures import load_catalog_fixture
from tests.concurrency import run_concurrently
from tests.factories import TenantFactory, UserFactory

PROJECT = Path(__file__).resolve().parents[2]


def recorded_action_names():
    """Every action name passed as a literal to record(...) anywhere in the project's code."""
    names = set()
    for path in PROJECT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("record", "_audit"):
                for keyword in node.keywords:
                    if keyword.arg == "action" and isinstance(keyword.value, ast.Constant):
                        names.add(keyword.value.value)
                for argument in node.args[1:3]:
                    if isinstance(argument, ast.Constant) and isinstance(argument.value, str) and "." in argument.value:
                        names.add(argument.value)
    return names


def test_every_recorded_action_is_registered_and_route_actions_exist():
    used = recorded_action_names()
    assert len(used) >= 25
    assert used - AUDIT_ACTIONS == set()
    catalog_keys = {action.key for tool in load_catalog_fixture().tools for action in tool.actions}
    assert ROUTE_ACTIONS - catalog_keys == set()


@pytest.mark.django_db
def test_unknown_actions_are_refused():
    tenant = TenantFactory()
    with pytest.raises(ValueError, match="not in audit.registry"), transaction.atomic():
        record(tenant=tenant, action="users.frobnicate", entity_type="user")


@pytest.mark.django_db(transaction=True)
def test_record_needs_the_callers_transaction():
    tenant = TenantFactory()
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record(tenant=tenant, action="users.create", entity_type="user")
    assert not AuditLog.objects.exists()


@pytest.mark.django_db
def test_the_chain_verifies_and_detects_an_edited_row():
    tenant = TenantFactory(slug="chained")
    with transaction.atomic():
        for index in range(5):
            record(tenant=tenant, action="users.update", entity_type="user", entity_id=str(index),
                   metadata={"changedFields": ["name"], "n": index})
    entries = list(AuditLog.objects.filter(tenant=tenant).order_by("sequence"))
    assert [entry.sequence for entry in entries] == [1, 2, 3, 4, 5]
    assert entries[1].prev_hash == entries[0].hash
    out = io.StringIO()
    call_command("audit_verify", "--tenant", "chained", stdout=out)
    assert "5 entries, chain intact" in out.getvalue()

    AuditLog.objects.filter(pk=entries[2].pk).update(metadata={"changedFields": ["email"], "n": 2})
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit_verify", "--tenant", "chained", stdout=out)
    assert exit_info.value.code == 1
    assert "broken at sequence 3" in out.getvalue() and "content does not match" in out.getvalue()


@pytest.mark.django_db
def test_a_deleted_row_in_the_middle_breaks_the_chain_but_retention_at_the_start_does_not():
    tenant = TenantFactory(slug="trimmed")
    with transaction.atomic():
        for index in range(4):
            record(tenant=tenant, action="users.update", entity_type="user", entity_id=str(index))
    first, second, third, _fourth = AuditLog.objects.filter(tenant=tenant).order_by("sequence")
    first.delete()  # what retention does: the oldest go
    call_command("audit_verify", "--tenant", "trimmed", stdout=io.StringIO())
    third.delete()
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("audit_verify", "--tenant", "trimmed", stdout=out)
    assert "sequence jumps from 2 to 4" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_tenant_keep_one_chain():
    tenant = TenantFactory(slug="busy-chain")

    def write():
        for index in range(10):
            with transaction.atomic():
                record(tenant=tenant, action="users.update", entity_type="user", entity_id=str(index))

    assert run_concurrently(write, 4) == [None] * 4
    assert sorted(AuditLog.objects.filter(tenant=tenant).values_list("sequence", flat=True)) == list(range(1, 41))
    call_command("audit_verify", "--tenant", "busy-chain", stdout=io.StringIO())


@pytest.mark.django_db
def test_postgresql_hashes_what_entry_hash_reads_back():
    """append_entry has PostgreSQL hash the canonical content around the link it finds: for any
    content, the hash it stores must be the one entry_hash computes from the row as read back."""
    tenant = TenantFactory(slug="hashed-in-sql")
    user = UserFactory(tenant=tenant)
    awkward = {"zeta": "ação € \u2028 \"quoted\" \\ back", "alpha": {"b": [1, 2.5, None, True], "a": "日本"},
               "empty": {}, "n": -12}
    with transaction.atomic():
        record(tenant=tenant, action="users.update", entity_type="user")
        record(tenant=tenant, action="users.update", entity_type="user", entity_id=user.pk,
               actor=Actor.for_user(user), metadata=awkward)
    entries = list(AuditLog.objects.filter(tenant=tenant).order_by("sequence"))
    assert [(entry.sequence, entry.prev_hash) for entry in entries] == [(1, GENESIS), (2, entries[0].hash)]
    assert [entry.hash for entry in entries] == [entry_hash(entry) for entry in entries]
    assert entries[1].metadata["zeta"] == awkward["zeta"] and entries[1].actor_user_id == user.pk
    # The canonical form chains written before this split hash with: the whole list in one document.
    entry = entries[1]
    whole = json.dumps([str(entry.tenant_id), entry.sequence, entry.prev_hash, entry.created_at.isoformat(),
                        entry.actor_type, str(entry.actor_id), str(entry.actor_user_id), entry.action, entry.entity_type,
                        entry.entity_id, entry.metadata, entry.ip or "", entry.user_agent],
                       sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert entry.hash == hashlib.sha256(whole.encode()).hexdigest()


@pytest.mark.django_db
def test_entries_get_time_ordered_ids():
    tenant = TenantFactory(slug="ordered-ids")
    with transaction.atomic():
        written = [record(tenant=tenant, action="users.update", entity_type="user") for _ in range(20)]
    assert [entry.id.version for entry in written] == [7] * 20
    assert sorted(entry.id for entry in written) == [entry.id for entry in written]
    assert [entry._state.adding for entry in written] == [False] * 20
    assert set(AuditLog.objects.filter(tenant=tenant).values_list("id", flat=True)) == {entry.id for entry in written}


@pytest.mark.django_db(transaction=True)
def test_an_append_is_one_call_that_leaves_nothing_on_the_session():
    """Behind a transaction-mode pooler the next transaction may run on another server session:
    an append must not depend on one (a prepared statement, a session lock)."""
    connection.close()  # a new server session
    tenant = TenantFactory(slug="one-call")
    with CaptureQueriesContext(connection) as captured:
        for _ in range(2):
            with transaction.atomic():
                record(tenant=tenant, action="users.update", entity_type="user")
    appends = [query["sql"] for query in captured.captured_queries if "audit" in query["sql"]]
    assert len(appends) == 2 and all("audit_append(" in sql for sql in appends)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%audit%'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0
    call_command("audit_verify", "--tenant", tenant.slug, stdout=io.StringIO())
