"""No Docker engine runs here, so the compose file and image are checked by reading them."""

import io
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((PROJECT / "docker-compose.yml").read_text())


def dockerfile_cmd() -> list[str]:
    match = re.search(r"^CMD (\[.*\])$", (PROJECT / "Dockerfile").read_text(), re.MULTILINE)
    return yaml.safe_load(match.group(1))


def test_compose_runs_the_five_roles_from_one_image(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    hub_roles = ["migrate", "web", "worker", "beat"]
    assert {services[role]["build"] for role in hub_roles} == {"."}
    for role in hub_roles:
        env = services[role]["environment"]
        assert env["DJANGO_ENV"] == "production"
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:")
    assert services["postgres"]["healthcheck"] and services["redis"]["healthcheck"] and services["web"]["healthcheck"]


def test_compose_commands_are_the_ones_the_project_runs(compose):
    services = compose["services"]
    assert services["web"]["command"] == dockerfile_cmd()
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert services["beat"]["deploy"]["replicas"] == 1
    migrate = services["migrate"]["command"][-1]
    assert "manage.py migrate --noinput" in migrate and "manage.py seed" in migrate
    for role in ("web", "worker", "beat"):
        assert services[role]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_the_image_runs_as_non_root_in_production():
    dockerfile = (PROJECT / "Dockerfile").read_text()
    assert re.search(r"^USER hub$", dockerfile, re.MULTILINE)
    assert "DJANGO_ENV=production" in dockerfile
    assert dockerfile_cmd()[:2] == ["gunicorn", "config.wsgi:application"]


@pytest.mark.django_db
def test_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", stdout=io.StringIO())
