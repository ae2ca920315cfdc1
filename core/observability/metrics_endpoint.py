"""GET /metrics: Prometheus' scrape, for the metrics token or an allowed network only."""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework.views import APIView

from core.api.access import PUBLIC
from core.api.exceptions import Unauthorized
from core.middleware import client_ip
from core.observability.metrics import exposition

__all__ = ["MetricsView", "metrics_allowed"]


def metrics_allowed(request) -> bool:
    """The metrics token as a bearer credential, or a caller inside METRICS_ALLOWED_NETWORKS."""
    token = settings.METRICS_TOKEN
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode()):
        return True
    address = client_ip(request)
    if not address or not settings.METRICS_ALLOWED_NETWORKS:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.METRICS_ALLOWED_NETWORKS)


class MetricsView(APIView):
    # Not a hub credential: the metrics token is checked here, so no principal is resolved.
    authentication_classes = []
    throttle_classes = []
    tool_action = PUBLIC

    @extend_schema(exclude=True)
    def get(self, request):
        if not metrics_allowed(request):
            raise Unauthorized("Metrics need the metrics token or an allowed network.")
        return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
