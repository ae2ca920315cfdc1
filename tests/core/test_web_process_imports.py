"""What the web process imports: not `requests` for DRF's test client (config/wsgi.py)."""

import subprocess
import sys

PROBE = """
import sys
import config.wsgi
import rest_framework.compat
from django.test import Client
status = Client().get("/health").status_code
loaded = "requests" in sys.modules
import requests  # still there for whoever needs it later
print(status in (200, 503), loaded, rest_framework.compat.requests is None, requests.__name__)
"""


def test_the_web_process_does_not_import_requests_for_drf():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.split() == ["True", "False", "True", "requests"]
