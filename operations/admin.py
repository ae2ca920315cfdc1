"""The back office's site: platform staff only, with the platform dashboard on its front page."""

from django.contrib import admin

from operations.charts import dashboard_charts
from operations.selectors import platform_dashboard

__all__ = ["HubAdminSite"]


class HubAdminSite(admin.AdminSite):
    site_header = "Aza8 Hub back office"
    site_title = "Aza8 Hub"
    index_title = "Platform dashboard"
    index_template = "admin/hub_index.html"
    site_url = None  # the hub has no public site to link to

    def has_permission(self, request):
        # A second lock behind PlatformStaffBackend: a session of anyone but platform staff is refused.
        user = request.user
        return bool(
            user.is_active and user.is_staff and getattr(getattr(user, "tenant", None), "is_platform", False)
        )

    def index(self, request, extra_context=None):
        return super().index(request, {
            **(extra_context or {}),
            "dashboard": platform_dashboard(),
            "charts": dashboard_charts(tenant_slug=request.GET.get("tenant", "")),
        })
