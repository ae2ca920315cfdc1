"""The web process's entry point (gunicorn's `config.wsgi:application`)."""

import os
import sys

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _import_drf_without_requests() -> None:
    """DRF imports `requests` whenever it is installed (the OTLP exporter's dependencies bring it),
    for its test client alone; with urllib3, idna and charset_normalizer that was 5 MiB of every web
    worker's memory (docs/benchmarks.md), and the web process sends no HTTP request with it. So DRF
    is imported first with `requests` hidden, and shown again at once: whatever imports it later (the
    OTLP exporter, when tracing is configured) gets it as usual."""
    if "requests" in sys.modules:
        return
    sys.modules["requests"] = None  # `import requests` raises ImportError, as if not installed
    try:
        import rest_framework.compat  # noqa: F401
    finally:
        del sys.modules["requests"]


_import_drf_without_requests()
application = get_wsgi_application()
