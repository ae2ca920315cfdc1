"""docs/api/v1.md is generated from the OpenAPI schema and must match it."""

import io

import pytest
from django.core.management import CommandError, call_command

from operations.management.commands.apidocs import DEFAULT_OUTPUT


def test_the_api_reference_matches_the_schema():
    # Fails after any change to routes, serializers or tool_actions until `manage.py apidocs` is rerun.
    call_command("apidocs", "--check", stdout=io.StringIO())


def test_a_stale_reference_is_caught(tmp_path):
    stale = tmp_path / "v1.md"
    stale.write_text(DEFAULT_OUTPUT.read_text().replace("`users.create`", "`users.read`"))
    with pytest.raises(CommandError, match="stale"):
        call_command("apidocs", "--check", "--output", str(stale), stdout=io.StringIO())
    call_command("apidocs", "--output", str(stale), stdout=io.StringIO())
    call_command("apidocs", "--check", "--output", str(stale), stdout=io.StringIO())


def test_each_operation_names_its_tool_action():
    reference = DEFAULT_OUTPUT.read_text()
    assert "| POST | `/v1/users` | `users.create` |" in reference
    assert "| GET | `/v1/me` | `authenticated` |" in reference
    assert "/metrics" not in reference  # operational, not part of the API
