"""manage.py runhub: migrate, seed, make sure a staff login exists, then run web + worker + beat."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from core.embedded import stop_embedded_database
from identity.onboarding import create_platform_staff
from identity.selectors import platform_staff_exists

FIRST_STAFF_FILE = "first-staff-login.txt"


# The image (Dockerfile, docker-compose.yml) runs these same argument lists; tests hold them equal.
def web_command(bind: str, workers: int) -> list[str]:
    return ["gunicorn", "config.wsgi:application", "--config", "python:config.gunicorn", "--bind", bind,
            "--workers", str(workers), "--timeout", "60"]


def worker_command() -> list[str]:
    return ["celery", "-A", "config", "worker", "--loglevel", "INFO"]


def beat_command() -> list[str]:
    return ["celery", "-A", "config", "beat", "--loglevel", "INFO"]


class Command(BaseCommand):
    help = "Run the whole hub locally: API and admin (gunicorn), a Celery worker and beat."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HUB_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("HUB_PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
        parser.add_argument("--worker-concurrency", type=int, default=2)

    def handle(self, *args, host, port, web_workers, worker_concurrency, **options):
        self._ensure_port_free(host, port)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed", verbosity=0, stdout=open(os.devnull, "w"))
        self._ensure_first_staff()
        children = self._start_children(host, port, web_workers, worker_concurrency)
        base = f"http://{host}:{port}"
        self.stdout.write(
            self.style.SUCCESS("Aza8 Hub is running.")
            + f"\n  API:    {base}/v1/  (docs {base}/v1/docs, schema {base}/v1/openapi.json)"
            + f"\n  Admin:  {base}/admin/"
            + f"\n  Health: {base}/health"
            + f"\n  Database: {'embedded PostgreSQL in ' + str(settings.DATA_DIR / 'pg') if settings.EMBEDDED_DATABASE else 'DATABASE_URL'}"
            + "\nPress Ctrl-C to stop.\n"
        )
        self._supervise(children)

    @staticmethod
    def _ensure_port_free(host: str, port: int) -> None:
        """Refuse at once, before anything starts: gunicorn would fail behind the supervisor, and the
        hub would have said it was running before it stopped."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family) as probe:
            # As gunicorn binds: a port whose last connections are in TIME_WAIT is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                if settings.EMBEDDED_DATABASE:
                    stop_embedded_database(settings.DATA_DIR)
                raise CommandError(f"{host}:{port} is taken ({exc.strerror}). Choose another port: "
                                   f"HUB_PORT=8001 make run (or manage.py runhub --port 8001).") from exc

    def _ensure_first_staff(self):
        credentials_file = settings.DATA_DIR / FIRST_STAFF_FILE
        if platform_staff_exists():
            if credentials_file.exists():
                self.stdout.write(f"First staff login: see {credentials_file}")
            return
        email = os.environ.get("HUB_ADMIN_EMAIL", "admin@aza8.local")
        password = secrets.token_urlsafe(18)
        create_platform_staff(email=email, password=password, superuser=True, name="First staff member")
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        credentials_file.write_text(f"email: {email}\npassword: {password}\n")
        credentials_file.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(f"Created the first staff login {email}; its password is in {credentials_file}")
        )

    def _start_children(self, host, port, web_workers, worker_concurrency):
        python = sys.executable
        commands = {
            "web": [python, "-m", *web_command(f"{host}:{port}", web_workers)],
            "worker": [python, "-m", *worker_command(), "--concurrency", str(worker_concurrency)],
            "beat": [python, "-m", *beat_command()],
        }
        return {name: subprocess.Popen(command) for name, command in commands.items()}

    def _supervise(self, children):
        stopping = False

        def stop(_signum, _frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    self.stderr.write(f"{name} exited with {child.returncode}; stopping the hub.")
                    exit_code = child.returncode or 1
                    stopping = True
            time.sleep(0.5)
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        if settings.EMBEDDED_DATABASE:
            stop_embedded_database(settings.DATA_DIR)
        if exit_code:
            raise SystemExit(exit_code)
