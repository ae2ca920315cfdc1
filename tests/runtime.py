"""Helpers for tests that start the hub's own processes against the test database."""

from urllib.parse import quote

__all__ = ["database_url"]


def database_url(settings_dict) -> str:
    """A DATABASE_URL for another process to reach the database this test uses."""
    host = settings_dict["HOST"]
    if host.startswith("/"):
        return f"postgres://{settings_dict['USER']}@/{settings_dict['NAME']}?host={quote(host)}"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{settings_dict['USER']}@{host}:{port}/{settings_dict['NAME']}"
