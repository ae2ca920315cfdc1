import io
import json
import logging
import re

import pytest
import structlog
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.management import call_command

from catalog.models import Tool
from tests.drills.minted import minted, recording
from tests.drills.secrets_at_rest import scan_database


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Production parameters cost 19 MiB and ~25 ms per hash; tests hash hundreds.
    settings.PASSWORD_HASHERS = ["tests.hashers.FastArgon2PasswordHasher"]


@pytest.fixture(autouse=True)
def _usage_counted_by_the_test_only(settings):
    """No background flusher writing through its own connection; no counts left by earlier tests."""
    from usage.services import buffer

    settings.USAGE_FLUSH_SECONDS = 0
    buffer._counts.clear()


@pytest.fixture(autouse=True)
def _empty_cache(request):
    """Rate-limit counters, blacklists and cached permissions live in the cache, which (on Redis)
    no transaction rolls back: every test starts from an empty one. The database cache needs no
    clearing (each test's transaction takes its rows away) and no database access is assumed."""
    if not isinstance(caches["default"], DatabaseCache):
        cache.clear()


@pytest.fixture
def api(client):
    """The Django test client speaking JSON, with an optional bearer credential."""
    from tests.identity.conftest import Api

    return Api(client)


@pytest.fixture
def seeded(db):
    """The catalog, platform tenant and beat schedules of `manage.py seed`.

    Seeded per test (inside its rolled-back transaction) so that tests which flush the database
    never leave the next one without a catalog.
    """
    if not Tool.objects.exists():
        call_command("seed", stdout=io.StringIO())


@pytest.fixture
def log_output():
    """Everything logged while the test runs, rendered by the project's own JSON formatter."""
    root = logging.getLogger()
    formatter = next(
        handler.formatter for handler in root.handlers if isinstance(handler.formatter, structlog.stdlib.ProcessorFormatter)
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


# Passwords the tests use; none may ever be found in the audit trail or an event payload.
TEST_PASSWORDS = ("correct horse battery", "a long enough one", "a long staff password", "hunter2-but-longer", "wrong password!")
_CREDENTIAL = re.compile(r"aza8p?_[A-Za-z0-9]{12}_|eyJ[A-Za-z0-9_-]{8,}\.|whsec_")


@pytest.fixture(scope="session", autouse=True)
def _minted_secrets_recorded():
    with recording():
        yield


@pytest.fixture(autouse=True)
def _no_secret_in_audit_or_events(request):
    """Across the whole suite: after every test that touched the database, no audit metadata and no
    outbox payload holds a credential or a password, and no table holds a secret the test minted in
    this process (tests/drills/minted.py), looked for before its transaction rolls it away."""
    marker = request.node.get_closest_marker("django_db")
    if not (marker or {"db", "transactional_db"} & set(request.fixturenames)):
        yield
        return
    transactional = bool(marker and marker.kwargs.get("transaction")) or "transactional_db" in request.fixturenames
    request.getfixturevalue("transactional_db" if transactional else "db")
    minted.clear()
    yield
    from django.db import DatabaseError

    from audit.models import AuditLog
    from outbox.models import OutboxEvent

    try:
        stored = json.dumps([
            list(AuditLog.objects.values_list("metadata", flat=True)),
            list(OutboxEvent.objects.values_list("payload", flat=True)),
        ])
        at_rest = minted and scan_database({f"{label} #{index}": secret for index, (label, secret) in enumerate(minted, 1)})
    except DatabaseError:
        return  # the test broke its own transaction on purpose (database-error tests)
    assert not _CREDENTIAL.search(stored), _CREDENTIAL.search(stored).group(0)
    for password in TEST_PASSWORDS:
        assert password not in stored
    assert not (at_rest and at_rest.findings), f"Stored in plaintext, of the secrets this test minted: {at_rest}"


@pytest.fixture
def staff_token(seeded):
    """A platform admin's access token (staff of the platform tenant)."""
    from identity.onboarding import create_platform_staff
    from identity.sessions import login
    from tests.identity.conftest import PASSWORD

    create_platform_staff(email="ops@aza8.com", password=PASSWORD)
    return login(tenant_slug="aza8", email="ops@aza8.com", password=PASSWORD, ip="127.0.0.1").access_token
