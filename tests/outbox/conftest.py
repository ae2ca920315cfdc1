from tests.api.conftest import api, world  # noqa: F401  (the two-tenant world of the API tests)
