import psycopg
import pytest

from core.embedded import EMBEDDED_DATABASE_NAME, embedded_database_settings, stop_embedded_database


@pytest.mark.slow
def test_embedded_postgres_starts_creates_the_hub_database_is_reused_and_stops(tmp_path):
    settings = embedded_database_settings(tmp_path)
    try:
        assert settings["NAME"] == EMBEDDED_DATABASE_NAME
        assert settings["HOST"].startswith("/")  # a Unix socket: no TCP port to collide with
        with psycopg.connect(host=settings["HOST"], user=settings["USER"], dbname=settings["NAME"]) as conn:
            conn.execute("CREATE TABLE marker (id int)")
            conn.commit()
        # A second caller (another process on the same data folder) gets the same server and data.
        again = embedded_database_settings(tmp_path)
        assert again == settings
        with psycopg.connect(host=again["HOST"], user=again["USER"], dbname=again["NAME"]) as conn:
            assert conn.execute("SELECT count(*) FROM marker").fetchone() == (0,)
    finally:
        stop_embedded_database(tmp_path)
    assert not (tmp_path / "pg" / "postmaster.pid").exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host=settings["HOST"], user="postgres", dbname="postgres", connect_timeout=2)
