"""Root URLs. Each app contributes its /v1 routes through its own api/urls.py."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from core.api.views import api_not_found
from core.observability.health import HealthView
from core.observability.metrics_endpoint import MetricsView
from identity.api.auth import JwksView

v1_patterns = [
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi"), name="docs"),
    path("", include("identity.api.urls")),
    path("", include("tenancy.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("audit.api.urls")),
    path("", include("branding.api.urls")),
    path("", include("usage.api.urls")),
    path("", include("outbox.api.urls")),
    path("", include("integrations.api.urls")),
    path("", include("exports.api.urls")),
]

# Django's own 400s (a Host outside ALLOWED_HOSTS, …) in the API's envelope on API paths.
handler400 = "core.api.views.bad_request"

urlpatterns = [
    path("health", HealthView.as_view(), name="health"),
    path("metrics", MetricsView.as_view(), name="metrics"),
    path(".well-known/jwks.json", JwksView.as_view(), name="jwks"),
    path("v1/", include(v1_patterns)),
    # [\s\S], not `.`: a path with a newline in it (%0A) is an API path too.
    re_path(r"^v1(/[\s\S]*)?$", api_not_found),
    path("admin/", admin.site.urls),
]
