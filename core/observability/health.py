"""GET /health: is the database answering, is the broker reachable."""

import time

import structlog
from celery import current_app
from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.access import PUBLIC
from core.api.exceptions import error_body

__all__ = ["HealthView", "check_broker", "check_database"]

logger = structlog.get_logger("hub.health")


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("health_check_failed", check="database", exc_info=True)
        return False


_broker_ok_until = 0.0


def check_broker() -> bool:
    """Opening a broker connection costs more than the rest of the request, and load balancers poll
    often: a success is trusted for HEALTH_BROKER_CHECK_SECONDS in this process. A failure is not
    remembered, so the next poll checks again and sees the recovery at once."""
    global _broker_ok_until
    if time.monotonic() < _broker_ok_until:
        return True
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception:
        logger.warning("health_check_failed", check="broker", exc_info=True)
        return False
    _broker_ok_until = time.monotonic() + settings.HEALTH_BROKER_CHECK_SECONDS
    return True


class HealthView(APIView):
    authentication_classes = []
    # Load balancers and orchestrators poll this; it must never answer 429.
    throttle_classes = []
    tool_action = PUBLIC

    @extend_schema(
        summary="Liveness and dependencies",
        responses=inline_serializer(
            "Health",
            {"status": serializers.CharField(), "checks": serializers.DictField(child=serializers.CharField())},
        ),
    )
    def get(self, request):
        checks = {
            "database": "ok" if check_database() else "down",
            "broker": "ok" if check_broker() else "down",
        }
        if all(state == "ok" for state in checks.values()):
            return Response({"status": "ok", "checks": checks})
        body = error_body("SERVICE_UNAVAILABLE", "A dependency is unavailable.", {"checks": checks})
        response = Response(body, status=503)
        response.error_code = "SERVICE_UNAVAILABLE"
        return response
