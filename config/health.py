"""GET /health: is the database answering, is the broker reachable."""

import structlog
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.access import PUBLIC
from config.api.exceptions import error_body

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


def check_broker() -> bool:
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
        return True
    except Exception:
        logger.warning("health_check_failed", check="broker", exc_info=True)
        return False


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
