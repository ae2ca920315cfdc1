from tests.api.conftest import world  # noqa: F401  (the two-tenant world of the API tests)
