import pytest
from django.db import connection

from tests.api.conftest import world  # noqa: F401  (the two-tenant world of the API tests)


@pytest.fixture
def rescanning_planner(db):
    """PostgreSQL planning as it may on a busy database, for this test's transaction: no hash, sort
    or materialise steps, so a `WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` becomes a
    semi-join that reruns its locking subquery per row (and so takes more than n rows)."""
    with connection.cursor() as cursor:
        for step in ("hashjoin", "hashagg", "material", "sort"):
            cursor.execute(f"SET LOCAL enable_{step} = off")
