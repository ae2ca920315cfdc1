"""No Docker engine runs here, so the compose file and image are checked by reading them."""

import io
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from operations.management.commands.runhub import beat_command, web_command, worker_command

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
    for role in ("postgres", "redis", "web", "worker"):
        assert services[role]["healthcheck"]["test"], role
    assert "/health" in " ".join(services["web"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])


def test_compose_commands_are_the_ones_the_project_runs(compose):
    services = compose["services"]
    # runhub, the scale-out test and the image all start web, worker and beat with these lists.
    assert services["web"]["command"] == dockerfile_cmd() == web_command("0.0.0.0:8000", 2)
    assert services["worker"]["command"] == worker_command()
    assert services["beat"]["command"] == beat_command()
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
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.MULTILINE)
    # One image: no role-specific stage or entrypoint; compose picks the role by command.
    assert "ENTRYPOINT" not in dockerfile and dockerfile.count("FROM ") == 1


@pytest.mark.django_db
def test_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", stdout=io.StringIO())
