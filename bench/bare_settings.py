"""The hub minus usage counting and audit writes: the comparison server of the write-cost figure.

Never used outside bench/run.py. Everything else (authentication, authorization, the transaction,
the outbox event) is exactly what ships.
"""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS, MIDDLEWARE

MIDDLEWARE = [name for name in MIDDLEWARE if name != "usage.middleware.UsageMiddleware"]
INSTALLED_APPS = [*INSTALLED_APPS, "bench.without_audit"]
